"""Filters run inside the HNSW walk (hnswlib's ``filter``): a filtered search returns k
results whenever k allowed items exist, and the searcher's platform, flag and simulator
filters use it."""

from __future__ import annotations

import numpy as np
import pytest

from perf._util import clustered_unit_vectors
from vspectrum_app.library import keywords
from vspectrum_app.library.index import TooFewAllowed, VectorIndex, ef_for
from vspectrum_app.library.indexer import load_vectors
from vspectrum_app.library.search import Searcher


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    data = clustered_unit_vectors(3000, 32, clusters=60, seed=3)
    index = VectorIndex.create(tmp_path_factory.mktemp("idx") / "f.hnsw", 32, capacity=3000)
    index.add(np.arange(3000), data)
    return index, data


def _exact_allowed(data, query, allowed, k):
    sims = data @ query
    sims[~allowed] = -2
    return set(np.argsort(-sims)[:k].tolist())


def test_a_filtered_search_returns_k_allowed_results(clustered):
    index, data = clustered
    allowed = np.zeros(len(data), dtype=bool)
    allowed[::7] = True  # one item in seven; a query's own neighbourhood is mostly rejected
    overlap = []
    for row in range(0, 3000, 300):
        query = data[row]
        ids, sims = index.query(query[None, :], 10, allowed=lambda label: bool(allowed[label]))
        assert ids.shape == (1, 10) and allowed[ids[0]].all()
        assert np.all(np.diff(sims[0]) <= 1e-6)  # best first
        overlap.append(len(set(ids[0].tolist()) & _exact_allowed(data, query, allowed, 10)) / 10)
    assert np.mean(overlap) >= 0.95


def test_too_few_allowed_is_reported_not_padded(clustered):
    index, data = clustered
    with pytest.raises(TooFewAllowed):
        index.query(data[:1], 10, allowed=lambda label: label < 3)
    ids, _ = index.query(data[:1], 3, allowed=lambda label: label < 3)
    assert set(ids[0].tolist()) == {0, 1, 2}


def test_search_breadth_grows_with_the_index():
    assert ef_for(0) == ef_for(100_000) < ef_for(1_000_000) < ef_for(10_000_000)


def test_platform_filter_returns_k_from_that_platform_ranked_exactly(indexed_workspace, tiny_clip):
    searcher = Searcher(indexed_workspace, tiny_clip)
    platform = {r[0]: r[1] for r in indexed_workspace.db.execute("SELECT id, platform FROM images")}
    hits = searcher.search("a red square", k=3, platforms=["youtube"])
    assert len(hits) == 3 and {h.platform for h in hits} == {"youtube"}
    ids, matrix = load_vectors(indexed_workspace, tiny_clip.model_key)
    on = np.array([platform[int(i)] == "youtube" for i in ids])
    sims = matrix @ searcher.text_vectors(["a red square"])[0]
    best = ids[on][np.argsort(-sims[on])[:3]]
    assert [h.image_id for h in hits] == best.tolist()
    both = searcher.search("a red square", k=12, platforms=["youtube", "tiktok"])
    assert len(both) == 8 and {h.platform for h in both} == {"youtube", "tiktok"}  # 4 per platform exist
    assert searcher.search("a red square", k=5, platforms=["nowhere"]) == []


def test_a_value_retrieval_on_one_platform_dedups_within_it(indexed_workspace, tiny_clip):
    ks = keywords.KeywordSet(name="t", values={"Power": ("money", "crown", "throne")})
    got = Searcher(indexed_workspace, tiny_clip).retrieve_value("Power", ks, k=2, platforms=["tiktok"])
    # 4 tiktok images: the first two keywords take two each, the third finds none left
    assert [r.keyword for r in got] == ["money", "money", "crown", "crown"]
    assert len({r.image_id for r in got}) == 4


@pytest.mark.parametrize("few", [96, 0], ids=["over-fetch", "filter"])
def test_a_flag_set_after_the_first_search_is_honoured_by_the_same_searcher(
    indexed_workspace, tiny_clip, few, monkeypatch
):
    monkeypatch.setattr("vspectrum_app.library.search.EF_SEARCH", few)  # up to this many blocked: over-fetch
    searcher = Searcher(indexed_workspace, tiny_clip)
    first = searcher.search("a blue circle", k=3)[0].image_id
    with indexed_workspace.transaction() as conn:  # this connection
        conn.execute("UPDATE images SET flags = 'black' WHERE id = ?", (first,))
    assert first not in {h.image_id for h in searcher.search("a blue circle", k=11)}
    assert len(searcher.search("a blue circle", k=12)) == 11
    import sqlite3

    other = sqlite3.connect(indexed_workspace.root / "catalog.sqlite")  # another process's commit
    other.execute("UPDATE images SET flags = '' WHERE id = ?", (first,))
    other.commit()
    other.close()
    assert first in {h.image_id for h in searcher.search("a blue circle", k=12)}
