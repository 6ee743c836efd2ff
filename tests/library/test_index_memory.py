"""Indexing memory is bounded: the decode pipeline keeps only the batches in flight, the todo list
is read a page at a time, and a rebuild reads the stored vectors a chunk at a time."""

from __future__ import annotations

import gc
import weakref

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.core.jobs import Cancelled, NullReporter
from vspectrum_app.library import indexer
from vspectrum_app.encoders.backends import load_embedder
from vspectrum_app.library.importer import add_image
from vspectrum_app.library.indexer import (
    _prefetched_batches,
    build_index,
    count_missing,
    index_path,
    missing_images,
    open_index,
    todo_pages,
)


class _Pixels:
    """Stands for a batch's pixel array (numpy arrays take no weak references)."""


class _CountingEmbedder:
    input_size = (32, 32)

    def preprocess(self, picture):
        return picture.size

    def collate(self, pictures):
        return _Pixels()


def test_consumed_batches_are_released_while_the_build_runs(workspace):
    for i in range(12):
        add_image(workspace, make_image_bytes(seed=i, color=(20 * i, 40, 90)), source_name=f"{i}.jpg")
    todo = missing_images(workspace, "no-model-yet")
    alive_at_each_step, refs = [], []
    for ids, pixels, failures in _prefetched_batches(workspace, _CountingEmbedder(), todo, batch_size=1, depth=2):
        assert len(ids) == 1 and failures == []
        refs.append(weakref.ref(pixels))
        del pixels
        gc.collect()
        alive_at_each_step.append(sum(r() is not None for r in refs))
    assert len(refs) == 12
    # Only batches still in flight may be referenced; before the fix all consumed ones were.
    assert max(alive_at_each_step) <= 1


def _add_images(ws, n: int, seed: int = 0) -> list[int]:
    return [
        add_image(ws, make_image_bytes(seed=seed + i, color=(20 * i % 256, 40, 90)), source_name=f"{i}.jpg")[0]
        for i in range(n)
    ]


def test_batches_are_made_as_the_build_reaches_them(workspace):
    """The todo rows are read at most ``depth`` batches ahead: a library of any size costs the same."""
    _add_images(workspace, 12)
    read = []

    def rows():
        for row in missing_images(workspace, "no-model-yet"):
            read.append(row[0])
            yield row

    batches = _prefetched_batches(workspace, _CountingEmbedder(), rows(), batch_size=2, depth=2)
    seen = []
    for ids, _pixels, _failures in batches:
        seen += ids
        assert len(read) <= len(seen) + 2 * 2  # the batches in flight, no more
    assert seen == read and len(seen) == 12


def test_the_todo_list_is_read_a_page_at_a_time_in_id_order(workspace):
    ids = _add_images(workspace, 11)
    pages = list(todo_pages(workspace, "no-model-yet", page=4))
    assert [len(p) for p in pages] == [4, 4, 3]
    assert [row[0] for p in pages for row in p] == sorted(ids)
    assert [row[0] for p in todo_pages(workspace, "no-model-yet", ids=[ids[5], ids[2], 10**6]) for row in p] == [
        ids[2],
        ids[5],
    ]
    assert count_missing(workspace, "no-model-yet") == 11
    assert count_missing(workspace, "no-model-yet", ids=[ids[0], 10**6]) == 1


def test_a_library_larger_than_a_page_is_embedded_once_and_resumes_without_repeating(workspace, tiny_clip, monkeypatch):
    """Pages of 5, batches of 2: stopped after the first batches, the next run embeds only the rest."""
    monkeypatch.setattr(indexer, "PENDING_PAGE", 5)
    ids = _add_images(workspace, 13)
    embedder = load_embedder(tiny_clip, backend="onnx")
    encoded: list[int] = []
    real_encode = embedder.encode_batch

    class StopAfterTwoBatches(NullReporter):
        def progress(self, done, total=None, message=""):
            if done >= 4:
                self.cancel()

    def counting_encode(pixels):
        encoded.append(len(pixels))
        return real_encode(pixels)

    monkeypatch.setattr(embedder, "encode_batch", counting_encode)
    with pytest.raises(Cancelled):
        build_index(workspace, tiny_clip, StopAfterTwoBatches(), batch_size=2, embedder=embedder)
    first = workspace.db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    assert 4 <= first < 13
    assert first == sum(encoded)  # the batch encoding when the stop came was stored, not dropped
    report = build_index(workspace, tiny_clip, batch_size=2, embedder=embedder)
    assert report.embedded == 13 - first and report.total == 13 - first and not report.failed
    stored = [r[0] for r in workspace.db.execute("SELECT image_id FROM embeddings ORDER BY image_id")]
    assert stored == sorted(ids)
    assert sum(encoded) == 13  # each image encoded once over both runs
    index, repaired = open_index(workspace, report.model_key, embedder.dim)
    assert index.labels() == set(ids) and repaired == 0


def test_a_rebuild_reads_the_stored_vectors_a_chunk_at_a_time(workspace, tiny_clip, monkeypatch):
    ids = _add_images(workspace, 9)
    report = build_index(workspace, tiny_clip, backend="onnx")
    index_path(workspace, report.model_key).unlink()
    chunks = []
    real_load = indexer.load_vectors

    def counting_load(ws, key, wanted=None):
        chunks.append(len(list(wanted)) if wanted is not None else None)
        return real_load(ws, key, wanted)

    monkeypatch.setattr(indexer, "REPAIR_CHUNK", 4)
    monkeypatch.setattr(indexer, "load_vectors", counting_load)
    index, _ = open_index(workspace, report.model_key, 64)
    assert index.labels() == set(ids) and chunks == [4, 4, 1]
