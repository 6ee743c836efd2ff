"""The Library pane's messages and buttons: plain words, counts, nothing duplicated."""

from __future__ import annotations


import pytest
from PySide6.QtCore import Qt

from tests.plugins.library import make_image_bytes
from vspectrum_app.library.importer import add_image

pytestmark = pytest.mark.gui


def test_first_page_has_one_set_of_buttons_and_no_index_without_screenshots(window, tmp_path):
    window.open_workspace(tmp_path / "ws")
    pane = window.pane("Library")
    assert pane.stack.currentWidget() is pane.first_run
    assert pane.first_import.isVisible() and not pane.import_button.isVisible()
    assert not pane.index_button.isVisible()
    assert not pane.first_index.isEnabled() and not pane.index_button.isEnabled()
    assert "no screenshots yet" in window.nav.item(0).text()


def test_search_before_an_index_says_what_to_click_and_loads_no_model(window, qtbot, workspace):
    add_image(workspace, make_image_bytes(seed=1), source_name="a.jpg", meta={"platform": "tiktok"})
    window.open_workspace(workspace.root)
    pane = window.show_pane("Library")
    assert pane.index_button.isVisible() and pane.index_button.isEnabled()
    assert "1 screenshot, no index yet" in window.nav.item(0).text()
    window.focus_search()
    assert pane.search.hasFocus() or not window.isActiveWindow()  # offscreen windows may not take focus
    qtbot.keyClicks(pane.search, "handshake")
    qtbot.waitUntil(lambda: "Build the index first" in pane.status.full_text(), timeout=5000)
    assert "Library > Build index" in pane.status.full_text() and "--" not in pane.status.full_text()
    assert pane._searcher is None  # the CLIP model was never asked for
    pane.search_value("Power")
    assert "Build the index first" in pane.status.full_text() and not pane.chips["Power"].isChecked()


def test_import_says_how_many_were_added(window, qtbot, tmp_path):
    folder = tmp_path / "gpt4o-youtube"
    folder.mkdir()
    for i in range(3):
        (folder / f"s{i}.jpg").write_bytes(make_image_bytes(seed=i))
    (folder / "bad.jpg").write_bytes(b"not a picture")
    window.open_workspace(tmp_path / "ws")
    pane = window.show_pane("Library")
    pane.import_paths([str(folder)])
    with qtbot.waitSignal(pane._job.finished, timeout=120_000):
        pass
    text = pane.status.full_text()
    assert text.startswith("Import finished: 3 added, 0 already in the library, 1 skipped"), text
    assert pane.status.kind() == "success"
    assert [pane.platform.itemData(i) for i in range(pane.platform.count())] == [None, "youtube"]


def test_tile_tooltip_names_keyword_and_similarity(window, workspace):
    from vspectrum_app.gui.panes.library import Tile

    add_image(workspace, make_image_bytes(seed=1), source_name="a.jpg")
    window.open_workspace(workspace.root)
    pane = window.show_pane("Library")
    pane._set_results([Tile(1, "x", "jpg", None, None, 0.31, "helping others")], "1 result")
    pane.grid.doItemsLayout()
    item = pane.grid.visualRect(pane.model.index(0))  # measured on a tile whose thumbnail is not loaded yet
    assert item.height() >= pane.grid.iconSize().height() + 2 * pane.grid.fontMetrics().lineSpacing()
    tip = pane.model.data(pane.model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert "keyword: helping others" in tip and "similarity 0.310" in tip and "post date unknown" in tip
    caption = pane.model.data(pane.model.index(0), Qt.ItemDataRole.DisplayRole)
    assert caption.startswith("similarity 0.31")
    # the grid leaves room for every caption line under the icon (a caption that does not fit is not drawn)
    lines = caption.count("\n") + 1
    assert (
        pane.grid.gridSize().height()
        >= pane.grid.iconSize().height() + lines * pane.grid.fontMetrics().lineSpacing() + 12
    )
    pane._set_results([Tile(1, "x", "jpg", "instagram", None, 0.31)], "1 result")
    assert pane.model.data(pane.model.index(0), Qt.ItemDataRole.DisplayRole) == "similarity 0.31\nInstagram Reels"
    # browsing (no similarity) and searching give captions of the same height: the grid measures
    # one item for all, so a taller caption after a search would vanish
    pane._set_results([Tile(1, "x", "jpg", "instagram", None)], "1 screenshot")
    assert pane.model.data(pane.model.index(0), Qt.ItemDataRole.DisplayRole).count("\n") == lines - 1


def test_status_line_says_what_embedded_the_index(window, indexed_workspace, tiny_clip):
    """The backend and precision recorded in the index's manifest, as the core words them."""
    from vspectrum_app.library import catalog

    window.ctx.settings.update(
        clip_model=tiny_clip.model, clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint
    )
    window.open_workspace(indexed_workspace.root)
    pane = window.show_pane("Library")
    summary = catalog.index_summary(indexed_workspace, tiny_clip.model_key)
    assert summary is not None and summary.startswith("index: 12 screenshots, embedded with "), summary
    assert pane.status.full_text() == f"12 screenshots; {summary}"
