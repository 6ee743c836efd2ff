"""The index file is saved periodically while a long run stores vectors, but a slow save
(a large index) is not allowed to eat the run (issue 16: a 1M save takes about 9 s)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.plugins.library import stored_embeddings
from vspectrum_app.core.jobs import NullReporter
from vspectrum_app.library import indexer
from vspectrum_app.library.indexer import IndexReport, open_index, save_interval, store_batches

DIM = 16


def test_the_interval_keeps_saving_to_a_tenth_of_the_run():
    assert save_interval(0.0) == indexer.SAVE_EVERY_S == 30.0
    assert save_interval(2.9) == 30.0
    assert save_interval(9.0) == pytest.approx(90.0)  # a 1M index: 9 s of every 99 s at most


@pytest.mark.parametrize("save_takes, saves", [(0.0, 6), (60.0, 2)])
def test_a_slow_save_is_made_less_often(workspace, monkeypatch, save_takes, saves):
    key, ids, vectors = stored_embeddings(workspace, n=20)
    index, _ = open_index(workspace, key, DIM)
    clock = [0.0]
    monkeypatch.setattr(indexer, "_now", lambda: clock[0])
    made = []

    def save(ws, model_key, idx):
        made.append(len(idx))
        clock[0] += save_takes

    monkeypatch.setattr(indexer, "save_index", save)

    def batches():  # 20 batches of one vector, 10 s apart (re-storing is an upsert)
        for i, v in zip(ids, vectors):
            clock[0] += 10.0
            yield [i], v[None, :].astype(np.float32), []

    store_batches(workspace, key, index, batches(), IndexReport(model_key=key), NullReporter())
    # fast saves: every 4th batch (40 s > 30 s) = 5, then the final one; a 60 s save waits
    # 600 s before the next, so only the first periodic one and the final one
    assert len(made) == saves
