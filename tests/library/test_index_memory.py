"""Indexing memory is bounded: the decode pipeline keeps only the batches in flight."""

from __future__ import annotations

import gc
import weakref

from tests.plugins.library import make_image_bytes
from vspectrum_app.library.importer import add_image
from vspectrum_app.library.indexer import _prefetched_batches, missing_images


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
