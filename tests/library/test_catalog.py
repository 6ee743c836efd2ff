"""The catalog read API (library/catalog.py): what the other parts ask the library about its
images, answered from a real workspace filled through the importer and the indexer."""

from __future__ import annotations

import numpy as np
import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.core.workspace import Workspace
from vspectrum_app.library import catalog
from vspectrum_app.library.importer import add_image


@pytest.fixture
def three(workspace):
    """Three images: a TikTok one with a link and extra metadata, a flagged YouTube one with a
    link, and one without platform or link."""
    a, _ = add_image(
        workspace,
        make_image_bytes(seed=1),
        source_name="a.jpg",
        meta={"platform": "tiktok", "video_url": "https://example.test/v/a", "author": "ann", "mood": "calm"},
    )
    b, _ = add_image(
        workspace,
        make_image_bytes(seed=2, fmt="PNG"),
        source_name="b.png",
        meta={"platform": "youtube", "video_url": "https://example.test/v/b", "flags": "black_frame"},
    )
    c, _ = add_image(workspace, make_image_bytes(seed=3), source_name="c.jpg")
    return a, b, c


def test_open_workspace_brings_the_library_tables_and_core_alone_does_not(tmp_path):
    with catalog.open_workspace(tmp_path / "lib") as ws:
        assert catalog.image_count(ws) == 0
    # core knows no component's tables: a workspace opened without the library's has none of them
    with Workspace.open(tmp_path / "bare", schemas={}) as ws:
        names = {r[0] for r in ws.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "images" not in names and "embeddings" not in names


def test_single_images_by_id_and_by_sha(workspace, three):
    a, b, _ = three
    file = catalog.image_file(workspace, b)
    assert file.id == b and file.ext == "png"
    assert file.path(workspace).read_bytes() == make_image_bytes(seed=2, fmt="PNG")
    assert file.thumb(workspace).exists()
    assert catalog.image_by_sha(workspace, file.sha256) == file
    assert catalog.image_file(workspace, 999) is None and catalog.image_by_sha(workspace, "0" * 64) is None
    record = catalog.image_record(workspace, a)
    assert (record.platform, record.video_url, record.author, record.source_name) == (
        "tiktok",
        "https://example.test/v/a",
        "ann",
        "a.jpg",
    )
    assert record.extra == {"mood": "calm"} and record.file == catalog.image_file(workspace, a)
    assert catalog.image_record(workspace, 999) is None


def test_many_images_leave_out_unknown_ids_across_chunks(workspace, three):
    # a thousand unknown ids sort before the real ones, so these are found in a later chunk
    asked = [*range(-1000, 0), *three, 999]
    files = catalog.image_files(workspace, asked)
    assert sorted(files) == sorted(three)
    assert all(files[i] == catalog.image_file(workspace, i) for i in three)
    records = catalog.image_records(workspace, asked)
    assert sorted(records) == sorted(three) and records[three[0]].extra == {"mood": "calm"}
    assert catalog.image_files(workspace, []) == {} and catalog.image_records(workspace, []) == {}


def test_lists_counts_and_links(workspace, three):
    a, b, c = three
    newest = catalog.newest_images(workspace, 2)
    assert [n.id for n in newest] == [c, b] and newest[1].platform == "youtube"
    assert catalog.platforms(workspace) == ["tiktok", "youtube"]
    assert catalog.unflagged_ids_with_video(workspace) == [a]
    assert [r.id for r in catalog.unflagged_images(workspace)] == [a, c]
    assert catalog.excluded_from_search(workspace, "tiktok") == {a, b}
    assert catalog.has_video_url(workspace, "https://example.test/v/b")
    assert not catalog.has_video_url(workspace, "https://example.test/v/z")
    assert catalog.image_count(workspace) == 3 and catalog.embedded_count(workspace) == 0


def test_perceptual_hashes_are_read_and_written_through_the_catalog(workspace, three):
    a, b, c = three
    assert {f.id for f in catalog.files_without_phash(workspace)} == {a, b, c}
    catalog.set_phashes(workspace, [("00ff00ff00ff00ff", a), ("0123456789abcdef", c)])
    assert [f.id for f in catalog.files_without_phash(workspace)] == [b]
    assert sorted(catalog.phashes(workspace)) == ["00ff00ff00ff00ff", "0123456789abcdef"]


def test_embeddings_present(indexed_workspace, tiny_clip):
    ws, key = indexed_workspace, tiny_clip.model_key
    assert catalog.has_model(ws, key) and not catalog.has_model(ws, "no-such-model")
    dim = catalog.model_dim(ws, key)
    assert dim and catalog.model_dim(ws, "no-such-model") is None
    assert catalog.most_embedded_model(ws) == (key, 12) and catalog.embedded_count(ws) == 12
    vectors = catalog.vectors(ws, key)
    assert len(vectors) == 12 and all(v.shape == (dim,) and v.dtype == np.float32 for v in vectors.values())
    assert np.allclose([np.linalg.norm(v) for v in vectors.values()], 1.0, atol=1e-4)
    pairs = catalog.embedded_images(ws, key)
    assert [i for i, _ in pairs] == sorted(vectors)
    assert all(sha == catalog.image_file(ws, i).sha256 for i, sha in pairs)
    assert catalog.vectors(ws, "no-such-model") == {} and catalog.embedded_images(ws, "no-such-model") == []


def test_most_embedded_model_of_an_empty_library_is_none(workspace):
    assert catalog.most_embedded_model(workspace) is None


def test_search_hits_are_public_keep_the_order_and_leave_out_unknown_ids(workspace, three, tiny_clip):
    from vspectrum_app.library.search import Retrieval, Searcher

    a, b, c = three
    searcher = Searcher(workspace, tiny_clip)  # hits need no model: nothing is loaded
    hits = searcher.hits([(c, 0.9), (999, 0.8), (a, 0.5)])
    assert [(h.image_id, h.similarity) for h in hits] == [(c, 0.9), (a, 0.5)]
    assert hits[1].extra == {"mood": "calm"} and hits[1].sha256 == catalog.image_file(workspace, a).sha256
    assert searcher.hits([]) == []
    found = [Retrieval("benevolence", "help", 1, b, 0.7), Retrieval("benevolence", "care", 1, 999, 0.6)]
    assert {i: h.similarity for i, h in searcher.retrieval_hits(found).items()} == {b: 0.7}
    assert searcher._embedder is None
