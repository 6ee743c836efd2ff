"""Issue 14 item 1: a corrupt index file never reaches hnswlib unverified.

Every load that could crash runs in a child process, so a missed case fails the test with
the child's exit code instead of killing pytest.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.plugins.library import stored_embeddings
from vspectrum_app.library import index_integrity
from vspectrum_app.library.indexer import index_path, open_index

ROOT = Path(__file__).resolve().parents[2]
DIM = 16


def test_saved_index_is_recorded_and_verifies(workspace):
    key, ids, _ = stored_embeddings(workspace)
    index, _ = open_index(workspace, key, DIM)
    path = index_path(workspace, key)
    assert index_integrity.problem(workspace, key, path, DIM) is None
    assert index_integrity.recorded_count(workspace, key) == len(ids)
    assert index_integrity.problem(workspace, key, path, DIM + 1) is not None


def test_200_byte_flips_are_all_caught_before_loading(workspace):
    key, ids, vectors = stored_embeddings(workspace)
    open_index(workspace, key, DIM)
    path = index_path(workspace, key)
    pristine = path.read_bytes()
    positions = np.random.default_rng(1).choice(len(pristine), size=200, replace=False)
    for pos in positions:  # verify-only: nothing here reaches native code
        damaged = bytearray(pristine)
        damaged[pos] ^= 0xFF
        path.write_bytes(bytes(damaged))
        assert index_integrity.problem(workspace, key, path, DIM) == "checksum mismatch", pos
    # The full open (verify, rebuild, search) on every damaged copy, in a child that a missed
    # case would crash.
    path.write_bytes(pristine)
    cases = workspace.root / "cases.json"
    cases.write_text(json.dumps([int(p) for p in positions]))
    child = f"""
import json, sys
import numpy as np
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.library.indexer import index_path, load_vectors, open_index
from vspectrum_app.library.catalog import open_workspace
ws = open_workspace(sys.argv[1], create=False)
path = index_path(ws, {key!r})
pristine = path.read_bytes()
_, vectors = load_vectors(ws, {key!r})
for pos in json.load(open(sys.argv[2])):
    damaged = bytearray(pristine); damaged[pos] ^= 0xFF
    path.write_bytes(bytes(damaged))
    rep = RecordingReporter()
    index, _ = open_index(ws, {key!r}, {DIM}, rep)
    warnings = [e for e in rep.of_type("log") if "integrity check" in e["message"]]
    assert len(warnings) == 1, (pos, rep.events)
    found, sims = index.query(vectors[:3], k=1)
    assert len(index) == len(vectors) and sims.min() > 0.99, pos
print("ok")
"""
    workspace.close()
    proc = subprocess.run(
        [sys.executable, "-c", child, str(workspace.root), str(cases)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode, proc.stderr[-2000:])


def test_index_without_a_recorded_checksum_is_rebuilt_not_loaded(workspace):
    key, ids, vectors = stored_embeddings(workspace, n=10)
    open_index(workspace, key, DIM)
    with workspace.transaction() as conn:
        conn.execute("DELETE FROM index_files")
    from tests.plugins.reporting import RecordingReporter

    rep = RecordingReporter()
    index, _ = open_index(workspace, key, DIM, rep)
    assert any("no checksum recorded" in e["message"] for e in rep.of_type("log"))
    assert len(index) == 10
    assert index_integrity.problem(workspace, key, index_path(workspace, key), DIM) is None


def test_reproduction_header_overwrite_then_cli_search_answers(indexed_workspace, tiny_clip):
    ws = indexed_workspace
    (path,) = list(ws.index_dir.glob("*.hnsw"))
    data = bytearray(path.read_bytes())
    data[52:56] = struct.pack("<I", 99999999)
    path.write_bytes(bytes(data))
    root = ws.root
    ws.close()
    cmd = [
        sys.executable,
        "-m",
        "vspectrum_app",
        "-w",
        str(root),
        "library",
        "search",
        "cat",
        "--json",
        "--clip-config",
        tiny_clip.config,
        "--clip-checkpoint",
        tiny_clip.checkpoint,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "integrity check" in proc.stderr
    hits = json.loads(proc.stdout)
    assert hits, proc.stdout
    # and the rebuilt file verifies now
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert again.returncode == 0 and "integrity check" not in again.stderr


def _settled(monkeypatch):
    """Move the integrity check's clock a minute on: the file looks long settled."""
    monkeypatch.setattr(index_integrity, "_now_ns", lambda: time.time_ns() + 60_000_000_000)


def _no_hashing(monkeypatch):
    def refuse(path):
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(index_integrity, "file_sha256", refuse)


def test_an_unchanged_settled_file_is_hashed_once_then_known_by_its_identity(workspace, monkeypatch):
    key, _, _ = stored_embeddings(workspace)
    open_index(workspace, key, DIM)
    path = index_path(workspace, key)
    hashed = []
    real = index_integrity.file_sha256
    monkeypatch.setattr(index_integrity, "file_sha256", lambda p: hashed.append(p) or real(p))
    # Fresh from the save: mtime is now, a same-tick write could hide, so it is hashed and
    # its identity is not kept.
    assert index_integrity.problem(workspace, key, path, DIM) is None
    assert index_integrity.problem(workspace, key, path, DIM) is None
    assert len(hashed) == 2
    _settled(monkeypatch)
    assert index_integrity.problem(workspace, key, path, DIM) is None  # hashed, identity kept
    _no_hashing(monkeypatch)
    assert index_integrity.problem(workspace, key, path, DIM) is None
    # a new save forgets the identity: the next open hashes again
    monkeypatch.setattr(index_integrity, "file_sha256", real)
    index_integrity.record(workspace, key, path, 40, DIM)
    _no_hashing(monkeypatch)
    with pytest.raises(AssertionError, match="hashed"):
        index_integrity.problem(workspace, key, path, DIM)


def test_a_damaged_file_whose_mtime_was_put_back_is_still_caught(workspace, monkeypatch):
    key, _, _ = stored_embeddings(workspace)
    open_index(workspace, key, DIM)
    path = index_path(workspace, key)
    _settled(monkeypatch)
    assert index_integrity.problem(workspace, key, path, DIM) is None  # identity recorded
    before = os.stat(path)
    damaged = bytearray(path.read_bytes())
    damaged[100] ^= 0xFF
    while os.stat(path).st_ctime_ns == before.st_ctime_ns:  # until the coarse file clock ticks
        path.write_bytes(bytes(damaged))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back; ctime cannot be
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns and os.stat(path).st_size == before.st_size
    assert index_integrity.problem(workspace, key, path, DIM) == "checksum mismatch"


def test_a_copied_workspace_hashes_its_index_once_more(workspace, tmp_path, monkeypatch):
    key, _, _ = stored_embeddings(workspace)
    open_index(workspace, key, DIM)
    _settled(monkeypatch)
    assert index_integrity.problem(workspace, key, index_path(workspace, key), DIM) is None
    workspace.close()
    copy = tmp_path / "copy"
    shutil.copytree(workspace.root, copy, copy_function=shutil.copy2)  # times kept, inode not
    from vspectrum_app.library.catalog import open_workspace

    ws2 = open_workspace(copy, create=False)
    hashed = []
    real = index_integrity.file_sha256
    monkeypatch.setattr(index_integrity, "file_sha256", lambda p: hashed.append(p) or real(p))
    assert index_integrity.problem(ws2, key, index_path(ws2, key), DIM) is None
    assert index_integrity.problem(ws2, key, index_path(ws2, key), DIM) is None
    assert len(hashed) == 1
    ws2.close()


def test_a_catalog_from_before_identities_still_verifies_and_gains_the_column(workspace, monkeypatch):
    key, _, _ = stored_embeddings(workspace)
    open_index(workspace, key, DIM)
    with workspace.transaction() as conn:  # as an older app left it: schema version 1
        conn.execute("ALTER TABLE index_files DROP COLUMN identity")
        conn.execute("UPDATE schema_versions SET version = 1 WHERE component = 'index_files'")
    _settled(monkeypatch)
    path = index_path(workspace, key)
    assert index_integrity.problem(workspace, key, path, DIM) is None
    _no_hashing(monkeypatch)
    assert index_integrity.problem(workspace, key, path, DIM) is None


def test_a_busy_catalog_costs_the_identity_not_the_search(workspace, monkeypatch):
    key, _, _ = stored_embeddings(workspace)
    open_index(workspace, key, DIM)
    _settled(monkeypatch)

    def busy(*args):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(index_integrity, "_remember_identity", busy)
    assert index_integrity.problem(workspace, key, index_path(workspace, key), DIM) is None
