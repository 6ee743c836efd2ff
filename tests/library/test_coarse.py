"""The inverted-file router (library/coarse.py) against exact search (issue 30, item 3)."""

from __future__ import annotations

import numpy as np
import pytest

from perf._util import clustered_unit_vectors
from vspectrum_app.library import coarse
from vspectrum_app.library.coarse import CoarseIndex

DIM = 64


def _exact(data, ids, q, k):
    sims = data @ q
    order = np.lexsort((ids, -sims))[:k]
    return ids[order], sims[order]


def _recall(router, data, ids, queries, nprobe, k=10):
    hits = [
        len(set(router.search(v, k, nprobe)[0].tolist()) & set(_exact(data, ids, v, k)[0].tolist())) / k
        for v in queries
    ]
    return float(np.mean(hits))


def _queries(data, n, seed=1):
    rng = np.random.default_rng(seed)
    q = data[rng.integers(0, len(data), n)] + 0.05 * rng.normal(size=(n, data.shape[1])).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


@pytest.fixture(autouse=True)
def small_lists(monkeypatch):
    monkeypatch.setattr(coarse, "PER_LIST", 100)  # 2 clusters of 50 per list, 60 lists at 6,000


def test_scanning_every_list_is_exact_search():
    data = clustered_unit_vectors(6000, DIM, clusters=120, seed=3)
    ids = np.arange(1000, 7000)
    router = CoarseIndex.train(ids, data)
    assert len(router) == 6000 and sorted(router.ids().tolist()) == ids.tolist()
    for v in _queries(data, 20):
        got_ids, got_sims = router.search(v, 10, nprobe=len(router.lists))
        want_ids, want_sims = _exact(data, ids, v, 10)
        assert got_ids.tolist() == want_ids.tolist()
        np.testing.assert_allclose(got_sims, want_sims, rtol=1e-5)


def test_one_or_two_lists_find_the_neighbours_of_clustered_vectors():
    """Clusters that share no direction (the graph's worst case): the nearest centroid names
    the query's cluster, so scanning 2 of 60 lists finds its top 10."""
    data = clustered_unit_vectors(6000, DIM, clusters=120, seed=3)
    ids = np.arange(6000)
    router = CoarseIndex.train(ids, data)
    assert 40 <= len(router.lists) <= 80
    assert _recall(router, data, ids, _queries(data, 100), nprobe=2) >= 0.99
    assert router.scanned(2) < 6000 / 10  # a tenth of a scan


def test_fewer_vectors_than_a_list_and_k_above_n():
    data = clustered_unit_vectors(7, DIM, clusters=2, seed=4)
    router = CoarseIndex.train(np.arange(7), data)
    ids, sims = router.search(data[3], 10, nprobe=1)
    assert sorted(ids.tolist()) == list(range(7)) and ids[0] == 3 and sims[0] == pytest.approx(1.0, abs=1e-5)
    assert router.search(data[3], 0, nprobe=1)[0].tolist() == []


def test_empty_lists_and_an_empty_router_are_searched_without_error():
    router = CoarseIndex(DIM)
    assert router.search(np.ones(DIM, dtype=np.float32) / 8, 5, nprobe=3)[0].tolist() == []
    data = clustered_unit_vectors(600, DIM, clusters=12, seed=5)
    router = CoarseIndex.train(np.arange(600), data)
    router.centroids = np.concatenate([router.centroids, np.eye(1, DIM, dtype=np.float32)])
    router.floors = np.append(router.floors, 0.5).astype(np.float32)
    router.lists.append((np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.float32)))
    got, _ = router.search(data[0], 5, nprobe=len(router.lists))
    assert got.tolist() == _exact(data, np.arange(600), data[0], 5)[0].tolist()


def test_new_clusters_overflow_then_become_lists_and_are_found(monkeypatch):
    """Screenshots of an app the training never saw fit no list: they go to the overflow,
    which every query scans, and once it is full they are clustered into new lists."""
    monkeypatch.setattr(coarse, "OVERFLOW_MAX", 300)
    old = clustered_unit_vectors(4000, DIM, clusters=80, seed=6)
    router = CoarseIndex.train(np.arange(4000), old)
    lists_before = len(router.lists)
    fresh = clustered_unit_vectors(200, DIM, clusters=4, seed=99)  # centres no list has seen
    router.add(np.arange(10_000, 10_200), fresh)
    # nearly all (at 64-d an unrelated centroid is at cosine 0 +- 0.125, so a few fit by chance)
    assert len(router.overflow_ids) >= 180 and len(router.lists) == lists_before
    q = _queries(fresh, 30, seed=2)
    every = np.concatenate([old, fresh])
    every_ids = np.concatenate([np.arange(4000), np.arange(10_000, 10_200)])
    assert _recall(router, every, every_ids, q, nprobe=1) >= 0.97
    more = clustered_unit_vectors(400, DIM, clusters=8, seed=98)
    router.add(np.arange(20_000, 20_400), more)  # the overflow passes 300: clustered
    assert len(router.lists) > lists_before and len(router.overflow_ids) <= 300 and len(router) == 4600
    every = np.concatenate([every, more])
    every_ids = np.concatenate([every_ids, np.arange(20_000, 20_400)])
    assert _recall(router, every, every_ids, _queries(more, 30, seed=3), nprobe=2) >= 0.99


def test_vectors_of_known_clusters_join_their_list():
    data = clustered_unit_vectors(6000, DIM, clusters=120, seed=3)
    router = CoarseIndex.train(np.arange(5000), data[:5000])
    router.add(np.arange(5000, 6000), data[5000:])  # same centres as the training's
    assert len(router.overflow_ids) < 50 and len(router) == 6000
    assert _recall(router, data, np.arange(6000), _queries(data, 60), nprobe=2) >= 0.99


def test_saved_router_loads_memory_mapped_and_answers_alike(tmp_path):
    data = clustered_unit_vectors(3000, DIM, clusters=60, seed=7)
    router = CoarseIndex.train(np.arange(3000), data)
    router.add(np.arange(5000, 5010), clustered_unit_vectors(10, DIM, clusters=1, seed=8))
    router.save(tmp_path / "x.ivf")
    loaded = CoarseIndex.load(tmp_path / "x.ivf", DIM)
    assert loaded is not None and len(loaded) == 3010 and len(loaded.overflow_ids) == len(router.overflow_ids)
    assert isinstance(loaded.lists[0][1], np.memmap)
    for v in _queries(data, 10):
        assert loaded.search(v, 10, 2)[0].tolist() == router.search(v, 10, 2)[0].tolist()
    loaded.add(np.arange(6000, 6100), data[:100])  # a mapped list grows as an in-memory copy
    assert len(loaded) == 3110
    assert CoarseIndex.load(tmp_path / "x.ivf", DIM + 1) is None
    assert CoarseIndex.load(tmp_path / "missing.ivf", DIM) is None


def test_files_from_two_saves_are_not_taken_for_one(tmp_path):
    a = CoarseIndex.train(np.arange(2000), clustered_unit_vectors(2000, DIM, clusters=40, seed=9))
    b = CoarseIndex.train(np.arange(2000), clustered_unit_vectors(2000, DIM, clusters=40, seed=10))
    a.save(tmp_path / "a.ivf")
    b.save(tmp_path / "b.ivf")
    (tmp_path / "b.ivf.npy").replace(tmp_path / "a.ivf.npy")
    assert CoarseIndex.load(tmp_path / "a.ivf", DIM) is None
    (tmp_path / "b.ivf.npz").write_bytes(b"not a zip")
    assert CoarseIndex.load(tmp_path / "b.ivf", DIM) is None
