"""Files that are not what an import expects (issue 27, item 10): the size and kind of a file
are checked from stat before anything is read. A 3 GB sparse file, /dev/zero and a FIFO are
each refused in one sentence: no MemoryError traceback, no hang."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.core import diskspace
from vspectrum_app.library import images
from vspectrum_app.library.importer import import_paths

ROOT = Path(__file__).resolve().parents[2]
GIB = 1 << 30


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as f:
        f.truncate(size)  # no blocks on disk: only its size says 3 GB
    return path


def _limit_memory():  # the child may not take more than 2 GiB: reading 3 GB would fail
    resource.setrlimit(resource.RLIMIT_AS, (2 * GIB, 2 * GIB))


def test_cli_refuses_dev_zero_a_fifo_and_a_sparse_giant_in_one_sentence_each(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # nobody ever writes to it: reading it would wait forever
    sparse = _sparse(tmp_path / "huge.jpg", 3 * GIB)
    good = tmp_path / "good.jpg"
    good.write_bytes(make_image_bytes(seed=5))
    proc = subprocess.run(
        [sys.executable, "-m", "vspectrum_app", "-w", str(tmp_path / "ws"), "library", "import"]
        + ["/dev/zero", str(fifo), str(sparse), str(good)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,  # only a hang comes near this (the old code waited on the FIFO for ever)
        preexec_fn=_limit_memory,
    )
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "1 added, 0 already in the library, 3 skipped" in proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: skipped")]
    assert warnings == [
        "warning: skipped /dev/zero: not a regular file (a device)",
        f"warning: skipped {fifo}: not a regular file (a pipe (FIFO))",
        f"warning: skipped {sparse}: file too large (3072 MiB; limit 64 MiB)",
    ]


def test_read_image_file_stats_before_it_reads(tmp_path):
    with pytest.raises(images.BadImage, match=r"^file too large \(65 MiB; limit 64 MiB\)$"):
        images.read_image_file(_sparse(tmp_path / "just-over.png", images.MAX_FILE_BYTES + 1))
    at_limit = _sparse(tmp_path / "at-limit.png", images.MAX_FILE_BYTES)
    assert len(images.read_image_file(at_limit)) == images.MAX_FILE_BYTES  # read, then judged by inspect
    with pytest.raises(images.BadImage, match="not a regular file .a folder."):
        images.read_image_file(tmp_path)
    with pytest.raises(FileNotFoundError):
        images.read_image_file(tmp_path / "missing.jpg")


def test_a_giant_in_a_folder_neither_fails_the_space_check_nor_is_read(workspace, tmp_path, monkeypatch):
    folder = tmp_path / "shots"
    folder.mkdir()
    _sparse(folder / "huge.jpg", 3 * GIB)
    os.mkfifo(folder / "pipe.jpg")  # not a file: not even listed
    (folder / "good.jpg").write_bytes(make_image_bytes(seed=6))
    monkeypatch.setattr(diskspace, "free_bytes", lambda folder: 200 << 20)  # room for the good one, not 3 GB
    report = import_paths(workspace, [folder])
    assert len(report.added) == 1
    assert report.skipped == [(str(folder / "huge.jpg"), "file too large (3072 MiB; limit 64 MiB)")]


def test_a_newline_in_a_file_name_forges_no_line(tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    (folder / "bad\nerror: the catalog is damaged; run library repair.jpg").write_bytes(b"x")
    (folder / "rtl\u202egpj.jpg").write_bytes(b"x")
    proc = subprocess.run(
        [sys.executable, "-m", "vspectrum_app", "-w", str(tmp_path / "ws"), "library", "import", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("[")]
    assert lines == [
        f"warning: skipped {folder}/bad\\u000aerror: the catalog is damaged; run library repair.jpg: not an image "
        "(or an unknown format)",
        f"warning: skipped {folder}/rtl\\u202egpj.jpg: not an image (or an unknown format)",
    ]
