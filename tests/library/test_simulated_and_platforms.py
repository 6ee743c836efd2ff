"""Simulator captures stay out of retrieval; a folder's name gives its platform; a crawl
compares its captures with every screenshot in the library, imported ones included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.crawl.quality import PhashIndex, backfill_phashes, phash
from vspectrum_app.library import keywords
from vspectrum_app.library.importer import import_paths, platform_from_path
from vspectrum_app.library.search import Searcher


def test_platform_from_the_folder_name():
    assert platform_from_path(Path("/data/pilot/gpt4o-tiktok/a.jpg")) == "tiktok"
    assert platform_from_path(Path("/data/pilot/gppt4o-Ins/a.jpg")) == "instagram"
    assert platform_from_path(Path("/data/pilot/gpt4o-youtube/sub/a.jpg")) == "youtube"
    assert platform_from_path(Path("/data/shots/a.jpg")) is None
    assert platform_from_path(Path("/data/sim/a.jpg")) is None  # only the crawler marks simulator captures


def test_import_takes_the_platform_from_the_folder_unless_the_csv_names_one(workspace, tmp_path):
    folder = tmp_path / "gpt4o-tiktok"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(make_image_bytes(seed=1))
    (folder / "b.jpg").write_bytes(make_image_bytes(seed=2))
    csv = tmp_path / "meta.csv"
    csv.write_text("file,platform\nb.jpg,youtube\n", "utf-8")
    import_paths(workspace, [folder], csv)
    got = dict(workspace.db.execute("SELECT source_name, platform FROM images").fetchall())
    assert got == {"a.jpg": "tiktok", "b.jpg": "youtube"}


def test_simulator_captures_are_never_retrieved(indexed_workspace, tiny_clip):
    ks = keywords.KeywordSet(name="t", values={"Universalism": ("equality", "globe")})
    before = Searcher(indexed_workspace, tiny_clip).retrieve_value("Universalism", ks, k=2)
    tagged = before[0].image_id
    indexed_workspace.db.execute("UPDATE images SET platform = 'sim' WHERE id = ?", (tagged,))
    indexed_workspace.db.commit()
    searcher = Searcher(indexed_workspace, tiny_clip)
    after = searcher.retrieve_value("Universalism", ks, k=2)
    assert tagged not in {r.image_id for r in after} and len(after) == 4
    assert tagged not in {h.image_id for h in searcher.search("equality", k=12)}


def test_a_crawl_sees_imported_screenshots_as_duplicates(workspace, tmp_path):
    data = make_image_bytes(seed=7, size=(200, 300))
    (tmp_path / "shot.jpg").write_bytes(data)
    import_paths(workspace, [tmp_path / "shot.jpg"])
    assert PhashIndex.from_workspace(workspace).nearest_distance(phash(data)) is None  # imports carry no hash
    assert backfill_phashes(workspace) == 1
    assert PhashIndex.from_workspace(workspace).is_near_duplicate(phash(data))
    assert backfill_phashes(workspace) == 0  # once per image


# -- coverage: the calibrated threshold (docs/library.md) ----------------------------------
def test_calibrated_threshold_worked_example():
    from vspectrum_app.library.search import calibrated_threshold, radius_threshold

    sims = np.arange(101, dtype=np.float32).reshape(1, 101) / 100  # 0.00, 0.01, ..., 1.00
    assert calibrated_threshold(sims) == pytest.approx(0.99)  # rank 0.99 * 100 = 99 exactly
    assert calibrated_threshold(np.array([[0.1, 0.3]]), 0.5) == pytest.approx(0.2)  # interpolated
    assert calibrated_threshold(np.zeros((0, 3))) == 1.0  # nothing to compare: nothing counts
    assert radius_threshold(1.5) == pytest.approx(-0.125)  # the paper's radius as a cosine
    assert radius_threshold(0.0) == 1.0


def test_calibrated_coverage_counts_the_models_closest_pairs(indexed_workspace, tiny_clip):
    from vspectrum_app.library.indexer import load_vectors

    ks = keywords.KeywordSet(name="t", values={"Power": ("money", "crown"), "Hedonism": ("party", "cake")})
    searcher = Searcher(indexed_workspace, tiny_clip)
    got = searcher.coverage(ks)  # calibrated
    ids, matrix = load_vectors(indexed_workspace, tiny_clip.model_key)
    sims = matrix @ searcher.text_vectors(["money", "crown", "party", "cake"]).T  # 12 x 4 pairs
    cut = np.sort(sims.ravel())[int(np.floor(0.99 * 47))] + 0.99 * 47 % 1 * (
        np.sort(sims.ravel())[47] - np.sort(sims.ravel())[46]
    )  # rank 46.53 of 48 by hand
    assert searcher.last_threshold == pytest.approx(cut, abs=1e-6)
    close = sims >= searcher.last_threshold
    assert got["Power"]["images"] == int(close[:, :2].any(axis=1).sum())
    assert got["Hedonism"]["images"] == int(close[:, 2:].any(axis=1).sum())
    assert sum(v["images"] for v in got.values()) == 1  # the top 1 % of 48 pairs is one pair
    paper = searcher.coverage(ks, 1.5)  # the paper's radius stays available, and is far looser
    assert all(paper[v]["images"] >= got[v]["images"] for v in got) and searcher.last_threshold == -0.125
