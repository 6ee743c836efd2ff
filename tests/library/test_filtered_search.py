"""Filters run inside the HNSW walk (hnswlib's ``filter``): a filtered search returns k
results whenever k allowed items exist, and the searcher's platform, flag and simulator
filters use it."""

from __future__ import annotations

import numpy as np
import pytest

from perf._util import clustered_unit_vectors
from vspectrum_app.library import filtered, keywords
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


@pytest.fixture
def platformed(workspace, tiny_clip):
    """3,000 catalogued images with stored clustered vectors, indexed: platform ``rare`` holds
    15 of them, ``few`` 90, ``main`` the rest, ``sim`` (never retrieved) 30; 20 ``main`` ones
    flagged. Vectors are synthetic (the searcher never encodes an image)."""
    from vspectrum_app.core import clock
    from vspectrum_app.library.indexer import open_index, register_model

    n, dim = 3000, 32
    rng = np.random.default_rng(5)
    platform = np.array(["main"] * n, dtype=object)
    chosen = rng.permutation(n)
    platform[chosen[:15]], platform[chosen[15:105]], platform[chosen[105:135]] = "rare", "few", "sim"
    flagged = set(chosen[135:155].tolist())
    with workspace.transaction() as conn:
        conn.executemany(
            "INSERT INTO images(id, sha256, ext, width, height, bytes, platform, flags, imported_at) "
            "VALUES (?, ?, 'jpg', 64, 64, 1, ?, ?, ?)",
            [(i + 1, f"{i:064x}", platform[i], "black_frame" if i in flagged else "", clock.now()) for i in range(n)],
        )
    key = register_model(workspace, tiny_clip, dim)
    data = clustered_unit_vectors(n, dim, clusters=60, seed=3)
    with workspace.transaction() as conn:
        conn.executemany(
            "INSERT INTO embeddings(image_id, model_key, vector) VALUES (?, ?, ?)",
            [(i + 1, key, v.tobytes()) for i, v in enumerate(data)],
        )
    open_index(workspace, key, dim)
    allowed = {p: np.array([platform[i] == p and i not in flagged for i in range(n)]) for p in ("rare", "few", "main")}
    return Searcher(workspace, tiny_clip), data, allowed, rng


def _brute_force(data, allowed, query, k, exclude=()):
    """Ids (1-based, as stored) of the exact k best allowed, best first, ties by id."""
    sims = data @ query
    ok = allowed.copy()
    ok[[i - 1 for i in exclude]] = False
    idx = np.flatnonzero(ok)
    best = idx[np.lexsort((idx, -sims[idx]))][:k]
    return (best + 1).tolist(), sims[best]


@pytest.mark.parametrize("platform", ["rare", "few"])
def test_a_selective_platform_returns_exactly_the_brute_force_answer(platformed, platform):
    searcher, data, allowed, rng = platformed
    for row in rng.choice(len(data), 20, replace=False):
        query = data[row] + 0.1 * rng.normal(size=data.shape[1]).astype(np.float32)
        query /= np.linalg.norm(query)
        for k in (1, 10, 200):  # 200: more than the platform holds
            hits = searcher.search_vector(query, k, platforms=[platform])
            ids, sims = _brute_force(data, allowed[platform], query, k)
            assert [h.image_id for h in hits] == ids
            assert [h.similarity for h in hits] == pytest.approx(sims.tolist(), abs=1e-5)
        taken = set(ids[:3])  # a value's earlier keywords took these
        hits = searcher.search_vector(query, 5, exclude=taken, platforms=[platform])
        assert [h.image_id for h in hits] == _brute_force(data, allowed[platform], query, 5, taken)[0]


def test_a_selective_platform_is_scanned_not_walked_with_the_filter(platformed, monkeypatch):
    """The filtered walk visits about 1/s times the nodes of an unfiltered one (a second per
    query at 200k for a platform of 0.1 %): a selective platform never reaches it; a broad
    one is walked, and returns k allowed results."""
    searcher, data, allowed, rng = platformed
    walks = []
    query = VectorIndex.query
    monkeypatch.setattr(
        VectorIndex,
        "query",
        lambda self, v, k, allowed=None, ef=None: walks.append(allowed) or query(self, v, k, allowed, ef),
    )
    searcher.search_vector(data[0], 10, platforms=["rare"])
    assert walks == []  # not even an unfiltered query: the platform's 15 vectors are scanned
    monkeypatch.setattr(filtered, "EXACT_MAX", 10)  # "main" (2,845 allowed) is then too large to scan
    for row in range(0, 3000, 150):
        hits = searcher.search_vector(data[row], 10, platforms=["main"])
        assert len(hits) == 10 and all(allowed["main"][h.image_id - 1] for h in hits)
        overlap = len({h.image_id for h in hits} & set(_brute_force(data, allowed["main"], data[row], 10)[0]))
        assert overlap >= 9
    assert walks and all(a is not None for a in walks)  # the walk with the filter
    assert searcher.search_vector(data[0], 10, platforms=["nowhere"]) == []


def test_a_subset_scan_ranks_exactly_with_ties_by_id_and_exclusions():
    vectors = np.array([[1, 0], [0.6, 0.8], [1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    subset = filtered.Subset(np.array([9, 4, 2, 7, 5]), vectors)
    query = np.array([1.0, 0.0], dtype=np.float32)
    assert [i for i, _ in subset.nearest(query, 3)] == [2, 9, 4]  # 2 and 9 tie: lower id first
    assert [i for i, _ in subset.nearest(query, 2, exclude={2})] == [9, 4]
    assert [i for i, _ in subset.nearest(query, 10, exclude={2, 9, 4, 5})] == [7]
    assert filtered.Subset(np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.float32)).nearest(query, 3) == []
