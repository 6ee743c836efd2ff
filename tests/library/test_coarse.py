"""The inverted-file router (library/coarse.py) against exact search (issue 30, item 3)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from perf._util import clustered_unit_vectors
from vspectrum_app.library import coarse
from vspectrum_app.library.coarse import CoarseIndex
from vspectrum_app.library.index import router_path

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
    router = CoarseIndex.train(np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.float32))
    assert len(router) == 0 and router.search(np.ones(DIM, dtype=np.float32) / 8, 5, nprobe=3)[0].tolist() == []
    router.add(np.array([5]), np.ones((1, DIM), dtype=np.float32) / 8)  # no list yet: the overflow
    assert router.search(np.ones(DIM, dtype=np.float32) / 8, 5, nprobe=3)[0].tolist() == [5]
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
    CoarseIndex(DIM).save(tmp_path / "empty.ivf")  # no vectors at all: still a pair of files
    empty = CoarseIndex.load(tmp_path / "empty.ivf", DIM)
    assert empty is not None and len(empty) == 0


def test_files_from_two_saves_are_not_taken_for_one(tmp_path):
    a = CoarseIndex.train(np.arange(2000), clustered_unit_vectors(2000, DIM, clusters=40, seed=9))
    b = CoarseIndex.train(np.arange(2000), clustered_unit_vectors(2000, DIM, clusters=40, seed=10))
    a.save(tmp_path / "a.ivf")
    b.save(tmp_path / "b.ivf")
    (tmp_path / "b.ivf.npy").replace(tmp_path / "a.ivf.npy")
    assert CoarseIndex.load(tmp_path / "a.ivf", DIM) is None
    damaged = bytearray((tmp_path / "b.ivf.npz").read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte inside a member: its CRC no longer matches
    (tmp_path / "b.ivf.npz").write_bytes(bytes(damaged))
    assert CoarseIndex.load(tmp_path / "b.ivf", DIM) is None
    (tmp_path / "b.ivf.npz").write_bytes(b"not a zip")
    assert CoarseIndex.load(tmp_path / "b.ivf", DIM) is None


# -- chosen by the calibration, kept beside the graph (index.py, ef_calibration.py) ----------


def _graph(tmp_path, data, m, ef_construction):
    from vspectrum_app.library.index import VectorIndex

    index = VectorIndex(tmp_path / "x.hnsw", DIM)
    index._hnsw.init_index(max_elements=len(data) + 1000, M=m, ef_construction=ef_construction, random_seed=1)
    index._hnsw.add_items(data, np.arange(len(data)), num_threads=1)  # one thread: the same graph each run
    return index


def _chunks(data, size=700):
    for s in range(0, len(data), size):
        yield np.arange(s, min(len(data), s + size)), data[s : s + size]


def test_a_graph_that_needs_a_wide_search_gets_the_router(tmp_path, monkeypatch):
    """A sparse graph over clusters that share no direction needs a wide ef; the calibration
    then trains the router, measures it on the same queries, and unfiltered queries go
    through it; saved and loaded with the index, it takes the vectors added later."""
    from vspectrum_app.library import ef_calibration
    from vspectrum_app.library.index import VectorIndex

    monkeypatch.setattr(ef_calibration, "ROUTER_FROM_EF", 64)
    data = clustered_unit_vectors(6000, DIM, clusters=120, seed=3)
    index = _graph(tmp_path, data, m=4, ef_construction=20)
    got = ef_calibration.calibrate(index, _chunks(data), queries=100, reread=lambda: _chunks(data))
    assert got.nprobe in ef_calibration.NPROBE_LADDER and index.router is not None and len(index.router) == 6000
    assert index.router.scanned(got.nprobe) < ef_calibration.SCAN_PER_STEP * got.ef
    index.calibration = got
    q = _queries(data, 50, seed=4)
    found, sims = index.query(q, 10)
    exact = np.argsort(-(q @ data.T), axis=1)[:, :10]
    assert np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found.tolist(), exact.tolist())]) >= 0.99
    np.testing.assert_allclose(sims[:, 0], (q * data[found[:, 0]]).sum(axis=1), rtol=1e-5)
    assert (
        index.query(q[:1], 10, allowed=lambda i: i % 2 == 0)[0][0].tolist()
        == [  # a filter: the graph
            i for i in index.query(q[:1], 40, ef=400)[0][0].tolist() if i % 2 == 0
        ][:10]
    )

    # more than the probed lists hold: the graph answers (k results whatever the lists)
    many, _ = index.query(q[:2], 3000)
    assert many.shape == (2, 3000) and len(set(many[0].tolist())) == 3000

    index.save()
    assert json.loads(index.path.with_suffix(".json").read_text())["calibration"]["nprobe"] == got.nprobe
    loaded = VectorIndex.load(index.path, DIM, capacity=8000)
    assert loaded is not None and loaded.router is not None and len(loaded.router) == 6000
    assert loaded.query(q, 10)[0].tolist() == found.tolist()
    fresh = clustered_unit_vectors(100, DIM, clusters=2, seed=77)
    loaded.add(np.arange(9000, 9100), fresh)
    assert len(loaded.router) == 6100
    assert set(loaded.query(fresh[:1], 10)[0][0].tolist()) <= set(range(9000, 9100))
    assert not ef_calibration.due(loaded) or len(loaded) >= 2 * got.count

    # the router's files gone (or from another save): the graph answers at the calibrated ef
    (tmp_path / "x.ivf.npz").unlink()
    reloaded = VectorIndex.load(index.path, DIM, capacity=8000)
    assert reloaded is not None and reloaded.router is None
    assert reloaded.query(q[:3], 10)[0].shape == (3, 10)
    monkeypatch.setattr(ef_calibration, "CALIBRATE_FROM", 1000)
    assert ef_calibration.due(reloaded)  # the next `library index` trains it again


def test_a_graph_that_reaches_the_target_narrowly_gets_no_router(tmp_path, monkeypatch):
    from vspectrum_app.library import ef_calibration

    data = clustered_unit_vectors(3000, DIM, clusters=60, seed=5)
    index = _graph(tmp_path, data, m=16, ef_construction=100)
    got = ef_calibration.calibrate(index, _chunks(data), queries=60, reread=lambda: _chunks(data))
    assert got.ef < ef_calibration.ROUTER_FROM_EF and got.nprobe is None and index.router is None


def test_a_router_costlier_than_the_graph_is_not_chosen():
    from vspectrum_app.library import ef_calibration

    data = clustered_unit_vectors(3000, DIM, clusters=60, seed=5)
    router = CoarseIndex.train(np.arange(3000), data)
    q = _queries(data, 30)
    exact = np.argsort(-(q @ data.T), axis=1)[:, :10]
    assert ef_calibration.choose_router(router, q, exact, ef=400) is not None
    # a graph at ef 1 costs 50 scanned vectors: fewer than the centroids alone
    assert ef_calibration.choose_router(router, q, exact, ef=1) is None


def test_library_index_saves_the_chosen_router_and_the_next_open_searches_through_it(workspace, monkeypatch):
    from tests.plugins.library import stored_embeddings
    from tests.plugins.reporting import RecordingReporter
    from vspectrum_app.library import ef_calibration
    from vspectrum_app.library.indexer import calibrate_if_due, open_index

    key, ids, _ = stored_embeddings(workspace, n=120)
    index, _ = open_index(workspace, key, 16)
    monkeypatch.setattr(ef_calibration, "CALIBRATE_FROM", 100)
    monkeypatch.setattr(ef_calibration, "QUERIES", 20)
    monkeypatch.setattr(ef_calibration, "ROUTER_FROM_EF", 1)  # any graph: the router is tried
    monkeypatch.setattr(coarse, "PER_LIST", 10)
    reporter = RecordingReporter()
    calibrate_if_due(workspace, key, index, reporter)
    assert index.calibration is not None and index.calibration.nprobe is not None and index.router is not None
    assert any("inverted-file router" in e["message"] for e in reporter.of_type("log"))
    again, _ = open_index(workspace, key, 16)  # the router's files were written beside the index
    assert again.calibration == index.calibration and again.router is not None and len(again.router) == 120
    v = again.vectors([ids[0]])
    assert again.query(v, 5)[0].tolist() == index.query(v, 5)[0].tolist()
    assert again.query(v, 5)[0][0][0] == ids[0]
    # the graph's saves rewrite the router's 2 GB (at 1M) only when vectors were added since
    # (each save writes a new file and renames it: a new inode)
    npy = router_path(again.path).with_name(router_path(again.path).name + ".npy")
    before = npy.stat().st_ino
    again.save()
    assert npy.stat().st_ino == before
    again.add([10_000], again.vectors([ids[1]]))
    again.save()
    assert npy.stat().st_ino != before and len(CoarseIndex.load(router_path(again.path), 16)) == 121
