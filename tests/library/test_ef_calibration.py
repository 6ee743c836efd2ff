"""The search breadth measured on the index's own vectors (issue 16, item 4)."""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

from perf._util import clustered_unit_vectors
from tests.plugins.library import stored_embeddings
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.library import ef_calibration
from vspectrum_app.library.index import Calibration, VectorIndex, ef_for
from vspectrum_app.library.indexer import calibrate_if_due, open_index, vector_chunks

DIM = 32


def _index(tmp_path, data, m=16, ef_construction=100):
    index = VectorIndex(tmp_path / "x.hnsw", DIM)
    index._hnsw.init_index(max_elements=len(data), M=m, ef_construction=ef_construction, random_seed=1)
    index._hnsw.add_items(data, np.arange(len(data)), num_threads=1)  # one thread: the same graph each run
    return index


def _chunks(data, size=700):
    for s in range(0, len(data), size):
        yield np.arange(s, min(len(data), s + size)), data[s : s + size]


def test_exact_top_k_over_chunks_equals_a_full_sort():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2500, DIM)).astype(np.float32)
    q = rng.normal(size=(7, DIM)).astype(np.float32)
    got = ef_calibration.exact_top_k(q, _chunks(data, size=333), 10)
    want = np.argsort(-(q @ data.T), axis=1)[:, :10]
    assert [set(r) for r in got.tolist()] == [set(r) for r in want.tolist()]


def test_a_sparse_graph_gets_a_wider_search_than_a_good_one(tmp_path):
    data = clustered_unit_vectors(4000, DIM, clusters=80, seed=2)
    good = ef_calibration.calibrate(_index(tmp_path, data), _chunks(data), queries=100)
    poor_index = _index(tmp_path, data, m=4, ef_construction=20)
    poor = ef_calibration.calibrate(poor_index, _chunks(data), queries=100)
    assert good.ef == ef_calibration.LADDER[0] and good.recall >= ef_calibration.TARGET
    assert poor.ef > good.ef and poor.count == 4000
    # what it reports is what an independent count finds on the same queries: the target
    # reached with 95 % confidence at its ef, and not one step narrower
    at_ef = _recalls(poor_index, data, poor.ef)
    assert at_ef.mean() == pytest.approx(poor.recall)
    assert _bound(at_ef) >= ef_calibration.TARGET
    narrower = ef_calibration.LADDER[ef_calibration.LADDER.index(poor.ef) - 1]
    assert _bound(_recalls(poor_index, data, narrower)) < ef_calibration.TARGET


def _bound(recalls):
    """One-sided 95 % lower bound of the mean, from the standard library's normal quantile."""
    z = statistics.NormalDist().inv_cdf(0.95)
    return statistics.fmean(recalls) - z * statistics.stdev(recalls) / len(recalls) ** 0.5


def _recalls(index, data, ef, queries=100):
    """Per-query recall@10 of ``index`` at ``ef`` (brute-force truth) for the queries ``calibrate`` makes."""
    rng = np.random.default_rng(0)
    sources = rng.choice(np.fromiter(index.labels(), dtype=np.int64), size=queries, replace=False)
    q = data[sources]
    noise = rng.normal(size=q.shape).astype(np.float32)
    noise -= (noise * q).sum(axis=1, keepdims=True) * q
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    c = ef_calibration.QUERY_COSINE
    q = (c * q + np.sqrt(1 - c * c) * noise).astype(np.float32)
    assert np.allclose((q * data[sources]).sum(axis=1), c, atol=1e-4)
    exact = np.argsort(-(q @ data.T), axis=1)[:, :10]
    found, _ = index.query(q, 10, ef=ef)
    return np.array([len(set(f) & set(e)) / 10 for f, e in zip(found.tolist(), exact.tolist())])


def test_the_bound_is_the_mean_less_its_one_sided_margin_and_blocks_a_lucky_mean():
    # 198 of 200 queries found all 10, 2 found none: mean 0.99, on target, but the bound,
    # 0.99 - 1.645 * sd / sqrt(200) with sd = sqrt(1.98 / 199) = 0.0997, is 0.978
    two_missed = np.array([1.0] * 198 + [0.0] * 2)
    assert ef_calibration.lower_bound(two_missed) == pytest.approx(_bound(two_missed.tolist()))
    assert ef_calibration.lower_bound(two_missed) == pytest.approx(0.99 - 1.6448536 * 0.0997484 / 200**0.5, abs=1e-6)
    assert ef_calibration.lower_bound(two_missed) < ef_calibration.TARGET <= two_missed.mean()
    assert ef_calibration.lower_bound(np.ones(50)) == 1.0  # all found: no spread, the mean
    assert ef_calibration.lower_bound(np.array([0.7])) == 0.7 and ef_calibration.lower_bound(np.array([])) == 0.0


def test_unreachable_target_returns_the_top_of_the_ladder_with_its_recall(tmp_path, monkeypatch):
    data = clustered_unit_vectors(3000, DIM, clusters=60, seed=4)
    monkeypatch.setattr(ef_calibration, "LADDER", (10, 12))
    monkeypatch.setattr(ef_calibration, "TARGET", 1.01)
    got = ef_calibration.calibrate(_index(tmp_path, data, m=2, ef_construction=8), _chunks(data), queries=50)
    assert got.ef == 12 and 0 < got.recall < 1.01


def test_calibration_is_due_when_large_and_again_after_doubling(tmp_path, monkeypatch):
    data = clustered_unit_vectors(400, DIM, clusters=8, seed=5)
    index = _index(tmp_path, data)
    monkeypatch.setattr(ef_calibration, "CALIBRATE_FROM", 500)
    assert not ef_calibration.due(index)
    monkeypatch.setattr(ef_calibration, "CALIBRATE_FROM", 300)
    assert ef_calibration.due(index)
    index.calibration = Calibration(64, 0.995, 201)
    assert not ef_calibration.due(index)
    index.calibration = Calibration(64, 0.995, 200)
    assert ef_calibration.due(index)


def test_search_breadth_follows_the_calibration_and_grows_with_the_index(tmp_path):
    data = clustered_unit_vectors(300, DIM, clusters=6, seed=6)
    index = _index(tmp_path, data)
    assert index.search_ef() == ef_for(300)
    index.calibration = Calibration(70, 0.99, 300)
    assert index.search_ef() == 70
    index.calibration = Calibration(70, 0.99, 100)  # measured when it was smaller: same growth law as ef_for
    assert index.search_ef() == round(70 * ef_for(300) / ef_for(100))
    index.calibration = Calibration(70, 0.99, 200_000)
    assert index.search_ef() == 70  # fewer vectors than when measured: as measured


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "ef=5",
        {"ef": "64", "recall": 0.99, "count": 10},
        {"ef": 0, "recall": 0.99, "count": 10},
        {"ef": 64, "recall": 0.99, "count": -1},
        {"ef": 64, "count": 10},
        [64, 0.99, 10],
    ],
)
def test_a_calibration_record_that_makes_no_sense_is_ignored(tmp_path, raw):
    data = clustered_unit_vectors(100, DIM, clusters=4, seed=7)
    index = _index(tmp_path, data)
    index.save()
    meta_path = index.path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["calibration"] = raw
    meta_path.write_text(json.dumps(meta))
    loaded = VectorIndex.load(index.path, DIM)
    assert loaded is not None and loaded.calibration is None and loaded.search_ef() == ef_for(100)


def test_library_index_calibrates_a_large_index_and_the_next_open_uses_it(workspace, monkeypatch):
    key, ids, _ = stored_embeddings(workspace, n=120)
    index, _ = open_index(workspace, key, 16)
    monkeypatch.setattr(ef_calibration, "CALIBRATE_FROM", 100)
    monkeypatch.setattr(ef_calibration, "QUERIES", 20)
    reporter = RecordingReporter()
    calibrate_if_due(workspace, key, index, reporter)
    assert index.calibration is not None and index.calibration.count == 120
    assert any("search breadth set to ef" in e["message"] for e in reporter.of_type("log"))
    again, _ = open_index(workspace, key, 16)  # saved, and the integrity record follows the save
    assert again.calibration == index.calibration
    calibrate_if_due(workspace, key, again, reporter)  # not doubled since: nothing to do
    assert len([e for e in reporter.of_type("log") if "search breadth" in e["message"]]) == 1
    chunks = list(vector_chunks(workspace, key, chunk=50))
    assert [len(c[0]) for c in chunks] == [50, 50, 20]
    assert sorted(np.concatenate([c[0] for c in chunks]).tolist()) == sorted(ids)
