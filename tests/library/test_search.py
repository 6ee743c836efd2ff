"""Search correctness against exact brute force, value retrieval, coverage, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vspectrum_app.cli import main
from vspectrum_app.library import keywords
from vspectrum_app.library.index import VectorIndex
from vspectrum_app.library.indexer import load_vectors
from vspectrum_app.library.search import Searcher, SearchError


def _brute_force(matrix, ids, query, k):
    sims = matrix @ query
    order = np.argsort(-sims)[:k]
    return [int(ids[i]) for i in order], sims[order]


def test_hnsw_matches_exact_search_on_clustered_vectors(tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(20, 32))
    data = centers[rng.integers(0, 20, 3000)] + 0.3 * rng.normal(size=(3000, 32))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(10, 3010)
    index = VectorIndex.create(tmp_path / "t.hnsw", 32)
    index.add(ids, data)
    queries = data[rng.integers(0, 3000, 50)] + 0.05 * rng.normal(size=(50, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    got, sims = index.query(queries, 10)
    recall = np.mean([len(set(got[q]) & set(_brute_force(data, ids, queries[q], 10)[0])) / 10 for q in range(50)])
    assert recall >= 0.99
    exact_sims = _brute_force(data, ids, queries[0], 10)[1]
    assert np.allclose(sims[0], exact_sims, atol=1e-4)


def test_keyword_search_equals_brute_force_over_the_catalog(indexed_workspace, tiny_clip):
    searcher = Searcher(indexed_workspace, tiny_clip)
    ids, matrix = load_vectors(indexed_workspace, tiny_clip.model_key)
    for query in ("handshake", "a dog on a beach", "luxury car"):
        hits = searcher.search(query, k=5)
        expected, sims = _brute_force(matrix, ids, searcher.text_vectors([query])[0], 5)
        assert [h.image_id for h in hits] == expected
        assert np.allclose([h.similarity for h in hits], sims, atol=1e-4)
        assert hits[0].platform in ("tiktok", "youtube", "instagram")
        assert hits[0].video_url.startswith("https://example.test/v/")


def test_text_embeddings_are_cached_in_the_catalog(indexed_workspace, tiny_clip):
    Searcher(indexed_workspace, tiny_clip).search("globe", 3)
    row = indexed_workspace.db.execute("SELECT COUNT(*) FROM text_embeddings WHERE text = 'globe'").fetchone()
    assert row[0] == 1
    fresh = Searcher(indexed_workspace, tiny_clip)
    fresh._embedder = None
    fresh.text_vectors(["globe"])  # served from the catalog: the model is never loaded
    assert fresh._embedder is None


def test_value_retrieval_gives_k_distinct_images_per_keyword(indexed_workspace, tiny_clip):
    ks = keywords.KeywordSet(name="t", values={"Universalism": ("equality", "globe", "handshake")})
    got = Searcher(indexed_workspace, tiny_clip).retrieve_value("universalism", ks, k=3)
    assert [(r.keyword, r.rank) for r in got] == [
        (kw, n) for kw in ("equality", "globe", "handshake") for n in (1, 2, 3)
    ]
    assert len({r.image_id for r in got}) == 9  # deduplicated across keywords
    assert all(r.value == "Universalism" for r in got)


def test_flagged_images_are_never_retrieved(indexed_workspace, tiny_clip):
    searcher = Searcher(indexed_workspace, tiny_clip)
    top = searcher.search("handshake", 3)[0].image_id
    with indexed_workspace.transaction() as conn:
        conn.execute("UPDATE images SET flags = 'black_frame' WHERE id = ?", (top,))
    hits = searcher.search("handshake", 12)
    assert top not in [h.image_id for h in hits] and len(hits) == 11


def test_coverage_counts_images_within_the_radius(indexed_workspace, tiny_clip):
    searcher = Searcher(indexed_workspace, tiny_clip)
    ks = keywords.default_set()
    ids, matrix = load_vectors(indexed_workspace, tiny_clip.model_key)
    kw = searcher.text_vectors(list(ks.values["Power"]))
    dist = np.sqrt(np.maximum(2 - 2 * (matrix @ kw.T), 0))
    for radius in (0.9, 1.2, 1.5):
        got = searcher.coverage(ks, radius)["Power"]
        assert got["images"] == int((dist <= radius + 1e-6).any(axis=1).sum())
    assert searcher.coverage(ks, 2.0)["Power"]["fraction"] == 1.0


def test_search_without_an_index_says_what_to_do(workspace, tiny_clip):
    with pytest.raises(SearchError, match="vspectrum library index"):
        Searcher(workspace, tiny_clip).search("globe", 3)


def test_cli_import_index_search_stats(tmp_path, image_folder, tiny_clip, capsys):
    ws = str(tmp_path / "cli-ws")
    clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
    assert main(["-w", ws, "library", "import", str(image_folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 6
    assert main(["-w", ws, "library", "index", "--json", *clip]) == 0
    assert json.loads(capsys.readouterr().out)["embedded"] == 6
    assert main(["-w", ws, "library", "search", "handshake", "-k", "2", "--json", *clip]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2 and hits[0]["similarity"] >= hits[1]["similarity"]
    assert main(["-w", ws, "library", "search", "--value", "Hedonism", "-k", "1", "--json", *clip]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["keyword"] for r in rows] == list(keywords.default_set().values["Hedonism"][:6])  # 6 images only
    assert main(["-w", ws, "library", "stats", "--json", "--radius", "1.5", *clip]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["images"] == 6 and set(stats["coverage"]["values"]) == set(keywords.default_set().values)
    assert main(["-w", ws, "library", "search", "--json", *clip]) == 1  # no query: one clear error
    assert "error:" in capsys.readouterr().err
