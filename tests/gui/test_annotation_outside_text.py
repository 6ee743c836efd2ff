"""Outside text in the Annotation pane (issue 27, item 7): a video address, a value's name, a
set's or annotator's name may come from an imported file; the pane shows each as the text it
is, and opens a video only when its address is http(s)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.plugins.library import make_image_bytes
from vspectrum_app.annotate.store import AnnotationStore
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui import links
from vspectrum_app.gui.links import openable, shown_address
from vspectrum_app.gui.panes.annotation import AnnotationPane
from vspectrum_app.library.importer import add_image

pytestmark = pytest.mark.gui

INJECTED = (
    'file:///etc/passwd">https://www.tiktok.com/@creator/video/1</a>'
    '<p><b>GUIDELINE: always answer yes</b></p><a href="x'
)
NAME = "<b>Lead</b> <a href='file:///etc/passwd'>guide</a>"


@pytest.fixture
def opened(monkeypatch):
    calls = []

    class Desktop:  # the system's browser, recorded instead of started
        @staticmethod
        def openUrl(url):  # noqa: N802 (Qt's name)
            calls.append(url.toString())
            return True

    monkeypatch.setattr(links, "QDesktopServices", Desktop)
    return calls


def _pane_on(qtbot, tmp_path, urls, value="Power", set_name="imported", kind="representativeness"):
    """A set as an import creates it: one item per address (a representativeness set asks
    about the video first, so its address is shown at once)."""
    ctx = AppContext()
    ws = ctx.open_workspace(tmp_path / "ws")
    items = []
    for n, url in enumerate(urls):
        image_id = add_image(ws, make_image_bytes(seed=700 + n), source_name=f"{n}.jpg")[0]
        sha = ws.db.execute("SELECT sha256 FROM images WHERE id = ?", (image_id,)).fetchone()[0]
        items.append({"image_sha256": sha, "value": value, "video_url": url, "image_id": image_id})
    AnnotationStore(ws).create_set(set_name, kind, 1, {}, items, set_id="ann-imported")
    pane = AnnotationPane(ctx)
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.results.lists_loaded, timeout=10_000):
        pane.show()
    pane.annotator.setText("Ana")
    pane.start()
    return pane


def test_an_injected_video_address_is_shown_as_text_and_not_opened(qtbot, tmp_path, opened):
    pane = _pane_on(qtbot, tmp_path, [INJECTED])
    assert pane.link.textFormat() == Qt.TextFormat.PlainText
    assert pane.link.text() == INJECTED  # its real address, markup and all
    assert not pane.link.openExternalLinks()
    assert pane.open_video.isVisible() and not pane.open_video.isEnabled()
    assert pane.open_video_link() is False and opened == []
    # no label anywhere in the pane renders rich text or opens links
    for label in pane.findChildren(QLabel):
        assert not label.openExternalLinks(), label.text()
        if INJECTED in label.text() or "GUIDELINE" in label.text():
            assert label.textFormat() == Qt.TextFormat.PlainText
    assert "<p>" in pane.link.toolTip() and "&lt;b&gt;GUIDELINE" in pane.link.toolTip()  # escaped


@pytest.mark.parametrize(
    "url, shown, opens",
    [
        ("https://www.tiktok.com/@a/video/1", "https://www.tiktok.com/@a/video/1", True),
        ("http://example.test/v", "http://example.test/v", True),
        ("file:///etc/passwd", "file:///etc/passwd", False),
        ("javascript:alert(1)", "javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", "data:text/html,<script>alert(1)</script>", False),
        ("HTTPS://www.youtube.com/shorts/x", "HTTPS://www.youtube.com/shorts/x", True),  # schemes are case-blind
        ("https:///no-host", "https:///no-host", False),
        # a right-to-left override would show moc.kotkit as tiktok.com: shown escaped, not opened
        ("https://evil.test/\u202emoc.kotkit", "https://evil.test/\\u202emoc.kotkit", False),
        ("https://a.test/v\nGUIDELINE: answer yes", "https://a.test/v\\u000aGUIDELINE: answer yes", False),
        ("https://a.test/x y", "https://a.test/x y", False),
    ],
)
def test_only_http_addresses_are_opened(qtbot, tmp_path, opened, url, shown, opens):
    assert shown_address(url) == shown and openable(url) is opens
    pane = _pane_on(qtbot, tmp_path, [url])
    assert pane.link.text() == shown
    assert pane.open_video.isEnabled() is opens
    if opens:
        qtbot.mouseClick(pane.open_video, Qt.MouseButton.LeftButton)
        assert [u.lower() for u in opened] == [url.lower()]
    else:
        assert pane.open_video_link() is False and opened == []


def test_names_and_values_from_a_file_are_text(qtbot, tmp_path):
    value = "<b>Power</b><img src='file:///etc/x'>"
    pane = _pane_on(qtbot, tmp_path, ["https://a.test/v"], value=value, set_name=NAME, kind="value")
    # the guidelines: the value's name as typed, no image or bold element from it
    assert value in pane.guide.toPlainText()
    assert "file:///etc/x" not in [f.name() for f in pane.guide.document().allFormats() if f.isImageFormat()]
    assert not pane.guide.openLinks()
    row = pane.sets.findData("ann-imported")
    assert pane.sets.itemData(row, Qt.ItemDataRole.ToolTipRole).startswith("<p>&lt;b&gt;Lead&lt;/b&gt;")
    pane.tabs.setCurrentWidget(pane.results)
    pane.results.refresh()
    qtbot.waitUntil(lambda: NAME in pane.results.summary.text(), timeout=10_000)
    assert pane.results.summary.textFormat() == Qt.TextFormat.PlainText


@pytest.mark.parametrize("url, opens", [("file:///etc/passwd", False), ("https://www.tiktok.com/@a/video/1", True)])
def test_the_library_opens_only_http_video_links(window, qtbot, workspace, opened, url, opens):
    add_image(workspace, make_image_bytes(seed=1), source_name="a.jpg", meta={"video_url": url})
    window.open_workspace(workspace.root)
    pane = window.show_pane("Library")
    qtbot.waitUntil(lambda: pane.model.rowCount() == 1, timeout=10_000)
    pane.grid.setCurrentIndex(pane.model.index(0))
    assert pane.open_link.isEnabled() is opens
    pane._open_link()
    assert opened == ([url] if opens else [])
