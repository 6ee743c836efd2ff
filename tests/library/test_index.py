"""CLIP embedding and the HNSW index: incremental, crash-safe, repaired, correct."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.plugins.clip import make_tiny_clip
from tests.plugins.library import make_image_bytes
from vspectrum_app.encoders.embedder import ClipModelUnavailable, ClipSpec
from vspectrum_app.encoders.backends import load_embedder
from vspectrum_app.library.importer import add_image
from vspectrum_app.library.index import VectorIndex
from vspectrum_app.library.indexer import build_index, index_path, load_vectors, open_index, save_index

ROOT = Path(__file__).resolve().parents[2]


def _add(ws, n, start=0):
    return [
        add_image(ws, make_image_bytes(seed=start + i, color=(7 * i % 255, 90, 200)), source_name=f"{i}.jpg")[0]
        for i in range(n)
    ]


def _embedded(ws, key):
    return [
        r[0] for r in ws.db.execute("SELECT image_id FROM embeddings WHERE model_key = ? ORDER BY image_id", (key,))
    ]


def test_vectors_are_unit_length_and_match_a_direct_encode(workspace, tiny_clip):
    ids = _add(workspace, 5)
    report = build_index(workspace, tiny_clip, batch_size=2)
    assert report.embedded == 5 and report.failed == []
    got_ids, vectors = load_vectors(workspace, report.model_key)
    assert list(got_ids) == ids
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    from vspectrum_app.library.images import decode_rgb

    row = workspace.db.execute("SELECT sha256, ext FROM images WHERE id = ?", (ids[0],)).fetchone()
    direct = load_embedder(tiny_clip).encode_images([decode_rgb(workspace.image_path(*row).read_bytes())])
    assert np.allclose(direct[0], vectors[0], atol=1e-5)


def test_incremental_add_embeds_only_new_images_and_keeps_the_index(workspace, tiny_clip):
    _add(workspace, 8)
    first = build_index(workspace, tiny_clip)
    path = index_path(workspace, first.model_key)
    before = VectorIndex.load(path, 64)
    assert before is not None and before.labels() == set(_embedded(workspace, first.model_key))
    new_ids = _add(workspace, 3, start=50)
    second = build_index(workspace, tiny_clip)
    assert second.embedded == 3 and second.total == 3
    after = VectorIndex.load(path, 64)
    assert after.labels() == before.labels() | set(new_ids)
    assert build_index(workspace, tiny_clip).embedded == 0  # nothing left to do


def test_index_behind_the_catalog_is_repaired_from_stored_vectors(workspace, tiny_clip):
    _add(workspace, 6)
    report = build_index(workspace, tiny_clip)
    path = index_path(workspace, report.model_key)
    stale = VectorIndex.create(path, 64)  # as if the process died before saving the index
    ids, vectors = load_vectors(workspace, report.model_key)
    stale.add(ids[:2], vectors[:2])
    save_index(workspace, report.model_key, stale)  # saved (and recorded) at an earlier point
    index, repaired = open_index(workspace, report.model_key, 64)
    assert repaired == 4
    assert index.labels() == set(ids.tolist())


def test_corrupt_index_file_is_rebuilt(workspace, tiny_clip):
    _add(workspace, 4)
    report = build_index(workspace, tiny_clip)
    path = index_path(workspace, report.model_key)
    path.write_bytes(b"\x00" * 100)
    index, _ = open_index(workspace, report.model_key, 64)
    assert index.labels() == set(_embedded(workspace, report.model_key))
    assert VectorIndex.load(path, 64) is not None


def test_index_with_vectors_of_removed_images_is_rebuilt(workspace, tiny_clip):
    ids = _add(workspace, 4)
    report = build_index(workspace, tiny_clip)
    with workspace.transaction() as conn:
        conn.execute("DELETE FROM images WHERE id = ?", (ids[0],))
    index, _ = open_index(workspace, report.model_key, 64)
    assert index.labels() == set(ids[1:])


def test_changing_the_model_re_embeds(workspace, tiny_clip, tmp_path):
    _add(workspace, 4)
    build_index(workspace, tiny_clip)
    other = make_tiny_clip(tmp_path / "other", name="tiny-clip-b", seed=1)
    assert other.model_key != tiny_clip.model_key
    report = build_index(workspace, other)
    assert report.embedded == 4
    assert len(_embedded(workspace, other.model_key)) == len(_embedded(workspace, tiny_clip.model_key)) == 4


def test_missing_image_file_is_reported_and_others_embedded(workspace, tiny_clip):
    ids = _add(workspace, 3)
    row = workspace.db.execute("SELECT sha256, ext FROM images WHERE id = ?", (ids[1],)).fetchone()
    workspace.image_path(*row).unlink()
    report = build_index(workspace, tiny_clip)
    assert report.embedded == 2
    assert [i for i, _ in report.failed] == [ids[1]]


def test_default_model_offline_fails_fast_with_one_clear_sentence(monkeypatch):
    """Fast because nothing waits on the network: no connection is even tried (the time it
    takes is measured in perf/model_offline.py, not asserted here)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tried, resolve, connect = [], socket.getaddrinfo, socket.socket.connect

    def no_lookup(host, *args, **kwargs):  # the first step of any download, before a connection
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            tried.append(host)
            raise socket.gaierror("this test allows no network")
        return resolve(host, *args, **kwargs)

    def no_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):  # local (unix) sockets are not the network
            tried.append(address)
            raise OSError("this test allows no network")
        return connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    with pytest.raises(ClipModelUnavailable) as err:
        load_embedder(ClipSpec())
    assert tried == []
    message = str(err.value)
    assert "ViT-B-32/laion2b_s34b_b79k" in message and "--clip-checkpoint" in message
    assert "\n" not in message


def test_kill_9_mid_build_loses_at_most_the_batch_in_flight(workspace, clip_used_before):
    """A real `vspectrum library index` killed with SIGKILL, then run again (the model used before:
    the child embeds at once instead of exporting it first)."""
    tiny_clip = clip_used_before
    ids = _add(workspace, 300)
    workspace.close()
    cmd = [
        sys.executable,
        "-m",
        "vspectrum_app",
        "--events",
        "-w",
        str(workspace.root),
        "library",
        "index",
        "--clip-config",
        tiny_clip.config,
        "--clip-checkpoint",
        tiny_clip.checkpoint,
        "--batch-size",
        "4",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    for line in proc.stdout:  # wait until a few batches are committed
        if '"type": "progress"' in line and '"done": 12' in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    from vspectrum_app.library.catalog import open_workspace

    ws = open_workspace(workspace.root)
    done = _embedded(ws, tiny_clip.model_key)
    assert 12 <= len(done) < 300
    assert len(done) % 4 == 0  # whole batches only
    rerun = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert rerun.returncode == 0, rerun.stderr
    assert _embedded(ws, tiny_clip.model_key) == ids  # every image exactly once (primary key)
    index, repaired = open_index(ws, tiny_clip.model_key, 64)
    assert repaired == 0 and index.labels() == set(ids)
    ws.close()
