"""Issue 14 items 7, 8, 9, 12: damaged, empty or read-only catalogs and full disks give one
sentence and a non-zero exit, never a traceback; ``library repair`` rebuilds a lost catalog."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.core import diskspace
from vspectrum_app.library import importer
from vspectrum_app.library.importer import add_image, import_paths
from vspectrum_app.core.workspace import WorkspaceError, WorkspaceReadOnlyError
from vspectrum_app.library.catalog import open_workspace

ROOT = Path(__file__).resolve().parents[2]


def _cli(root, *argv):
    proc = subprocess.run(
        [sys.executable, "-m", "vspectrum_app", "-w", str(root), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _one_sentence_error(rc, err, *words):
    assert rc == 1, err
    assert "Traceback" not in err and "DatabaseError" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], err


def _library(tmp_path, n=5):
    ws = open_workspace(tmp_path / "ws")
    for i in range(n):
        add_image(ws, make_image_bytes(seed=i), source_name=f"{i}.jpg", meta={"platform": "tiktok"})
    root = ws.root
    ws.close()
    return root


def test_empty_catalog_beside_images_is_refused_and_repair_rebuilds_it(tmp_path):
    root = _library(tmp_path)
    (root / "catalog.sqlite").write_bytes(b"")
    rc, out, err = _cli(root, "library", "stats", "--no-coverage", "--json")
    _one_sentence_error(rc, err, "catalog", "is empty but 5 images exist", "library repair")
    assert (root / "catalog.sqlite").stat().st_size == 0  # nothing silently re-created
    rc, out, err = _cli(root, "library", "repair", "--json")
    assert rc == 0, err
    assert json.loads(out)["recovered"] == 5
    with open_workspace(root, create=False) as ws:
        rows = ws.db.execute("SELECT sha256 FROM images").fetchall()
        assert len(rows) == 5 and all(ws.thumb_path(r[0]).exists() for r in rows)


def test_missing_catalog_beside_images_is_refused_too(tmp_path):
    root = _library(tmp_path, n=2)
    (root / "catalog.sqlite").unlink()
    with pytest.raises(WorkspaceError, match="is missing but 2 images exist"):
        open_workspace(root)


def test_noise_in_the_catalog_gives_one_sentence_on_every_command(tmp_path):
    root = _library(tmp_path, n=40)
    catalog = root / "catalog.sqlite"
    data = bytearray(catalog.read_bytes())
    assert len(data) > 12000
    mid = len(data) // 2 // 4096 * 4096
    data[mid - 2048 : mid + 2048] = bytes((i * 151 + 7) % 256 for i in range(4096))
    catalog.write_bytes(bytes(data))
    for argv in (
        ["library", "stats", "--no-coverage"],
        ["bench", "list"],
        ["library", "import", str(tmp_path / "nope")],
    ):
        rc, out, err = _cli(root, *argv)
        if rc == 0:  # a command whose pages the noise missed may still work: then it must be right
            continue
        _one_sentence_error(rc, err)
    rc, out, err = _cli(root, "library", "repair", "--json")
    assert rc == 0, err
    result = json.loads(out)
    assert result["moved_aside"] and result["recovered"] + result["already"] == 40


@pytest.fixture
def tmpfs(tmp_path):
    """A 2 MB tmpfs (we run as root in CI); skipped where mounting is not allowed."""
    where = tmp_path / "mnt"
    where.mkdir()
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True).returncode
        != 0
    ):
        pytest.skip("cannot mount a tmpfs here")
    yield where
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_read_only_workspace_reads_work_and_writes_say_read_only(tmp_path, tmpfs):
    src = _library(tmp_path, n=3)
    shutil.copytree(src, tmpfs / "ws")
    assert subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)]).returncode == 0
    root = tmpfs / "ws"
    rc, out, err = _cli(root, "library", "stats", "--no-coverage", "--json")
    assert rc == 0, err
    assert json.loads(out)["images"] == 3, out
    rc, out, err = _cli(root, "bench", "list")
    assert rc == 0, err
    extra = tmp_path / "new.jpg"
    extra.write_bytes(make_image_bytes(seed=99))
    rc, out, err = _cli(root, "library", "import", str(extra))
    _one_sentence_error(rc, err, "read-only")
    with open_workspace(root) as ws:
        assert ws.readonly
        with pytest.raises(WorkspaceReadOnlyError, match="read-only"):
            ws.transaction()


def test_import_onto_a_full_disk_is_refused_up_front(tmp_path, tmpfs):
    ws_root = tmpfs / "ws"
    open_workspace(ws_root).close()
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(4):  # ~4 x 1 MB of noise: more than the tmpfs holds
        (folder / f"{i}.png").write_bytes(make_image_bytes(seed=i, size=(600, 600), fmt="PNG"))
    rc, out, err = _cli(ws_root, "library", "import", str(folder))
    _one_sentence_error(rc, err, "is full", "MB free", "MB needed")


def test_a_write_failing_with_enospc_stops_the_import_instead_of_skipping(workspace, image_folder, monkeypatch):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(importer, "atomic_write_bytes", full)
    with pytest.raises(diskspace.DiskFullError, match="is full"):
        import_paths(workspace, [image_folder])
    assert workspace.db.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 0


def _fill(folder, leave_bytes):
    """Fill the disk holding ``folder`` until ``leave_bytes`` remain."""
    free = shutil.disk_usage(folder).free
    if free > leave_bytes:
        with open(folder / "filler.bin", "wb") as f:
            f.write(b"\0" * (free - leave_bytes))


def test_index_and_bench_run_on_a_nearly_full_disk_say_so_and_leave_nothing_running(tmp_path, tmpfs, tiny_clip, capsys):
    from vspectrum_app.cli import main

    root = tmpfs / "ws"
    ws = open_workspace(root)
    for i in range(3):
        add_image(ws, make_image_bytes(seed=i), source_name=f"{i}.jpg")
    ws.close()
    _fill(tmpfs, 100_000)
    clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
    assert main(["-w", str(root), "library", "index", *clip]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "is full" in err and "MB needed" in err, err
    (tmpfs / "filler.bin").unlink()
    assert main(["-w", str(root), "library", "index", *clip]) == 0  # with room again, it completes

    from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
    from vspectrum_app.bench.store import RunStore
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

    server = FakeVLMServer().start()
    try:
        ProviderStore().save(
            ProviderConfig(name="lab", kind="openai-compatible", base_url=server.openai_base_url, models=["m1"])
        )
        os.environ["VSPECTRUM_API_KEY_LAB"] = VALID_KEY
        _fill(tmpfs, 100_000)
        rc = main(["-w", str(root), "bench", "run", "--model", "lab:m1", "--values", "Power", "--k", "1", *clip])
        err = capsys.readouterr().err
        assert rc == 1 and "Traceback" not in err and "is full" in err, err
        assert server.log == []
        (tmpfs / "filler.bin").unlink()
        with open_workspace(root) as ws:
            runs = RunStore(ws).runs()
        assert all(r["status"] != "running" for r in runs)
        if runs:  # the run was recorded before the disk filled: it resumes to the end
            assert main(["-w", str(root), "bench", "resume", runs[-1]["id"]]) == 0
    finally:
        os.environ.pop("VSPECTRUM_API_KEY_LAB", None)
        server.stop()


def test_search_and_bench_report_work_on_a_read_only_workspace(indexed_workspace, tiny_clip, tmpfs):
    src = indexed_workspace.root
    indexed_workspace.close()
    shutil.copytree(src, tmpfs / "ws")
    assert subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)]).returncode == 0
    root = tmpfs / "ws"
    rc, out, err = _cli(
        root,
        "library",
        "search",
        "cat",
        "--json",
        "--clip-config",
        tiny_clip.config,
        "--clip-checkpoint",
        tiny_clip.checkpoint,
    )
    assert rc == 0, err
    assert len(json.loads(out)) == 5
    rc, out, err = _cli(root, "bench", "report", "nope")
    assert "Traceback" not in err and "read-only" not in err, err
