"""Issue 14 item 1: a corrupt index file never reaches hnswlib unverified.

Every load that could crash runs in a child process, so a missed case fails the test with
the child's exit code instead of killing pytest.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from vspectrum_app.library import index_integrity
from vspectrum_app.library.indexer import index_path, open_index

ROOT = Path(__file__).resolve().parents[2]
DIM = 16


def _stored_embeddings(ws, n=40, key="fuzz-model"):
    """A model with ``n`` stored unit vectors (no CLIP needed: the index is built from the table)."""
    from vspectrum_app.library.importer import add_image
    from tests.plugins.library import make_image_bytes

    rng = np.random.default_rng(0)
    with ws.transaction() as conn:
        conn.execute(
            "INSERT INTO clip_models(model_key, spec_json, dim, created_at) VALUES (?, '{}', ?, 'now')", (key, DIM)
        )
    ids = [add_image(ws, make_image_bytes(seed=i), source_name=f"{i}.jpg")[0] for i in range(n)]
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with ws.transaction() as conn:
        conn.executemany(
            "INSERT INTO embeddings(image_id, model_key, vector) VALUES (?, ?, ?)",
            [(i, key, v.tobytes()) for i, v in zip(ids, vectors)],
        )
    return key, ids, vectors


def test_saved_index_is_recorded_and_verifies(workspace):
    key, ids, _ = _stored_embeddings(workspace)
    index, _ = open_index(workspace, key, DIM)
    path = index_path(workspace, key)
    assert index_integrity.problem(workspace, key, path, DIM) is None
    assert index_integrity.recorded_count(workspace, key) == len(ids)
    assert index_integrity.problem(workspace, key, path, DIM + 1) is not None


def test_200_byte_flips_are_all_caught_before_loading(workspace):
    key, ids, vectors = _stored_embeddings(workspace)
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
from vspectrum_app.core.jobs import RecordingReporter
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
    key, ids, vectors = _stored_embeddings(workspace, n=10)
    open_index(workspace, key, DIM)
    with workspace.transaction() as conn:
        conn.execute("DELETE FROM index_files")
    from vspectrum_app.core.jobs import RecordingReporter

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
