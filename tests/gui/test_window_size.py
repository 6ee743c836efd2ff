"""Issue 12: no message can widen the window, and every pane stays usable from 1024x640 to
1920x1080. Each pane is rendered at both sizes with a 500-character message in every
MessageLabel it has; the window must keep its size and every visible control must lie inside
the area that shows it. PNGs of each pane at 1024x640 and 1280x720 go to
$VSPECTRUM_SIZE_PNGS (or the test's tmp folder) to be looked at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QWidget,
)

from tests.plugins.library import make_image_bytes
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.main_window import FRAME_GUESS, MINIMUM_SIZE, MainWindow, initial_geometry
from vspectrum_app.gui.message_label import MessageLabel, plain_tooltip
from vspectrum_app.gui.panes import PANES
from vspectrum_app.library.importer import add_image

pytestmark = pytest.mark.gui
SIZES = [(1024, 640), (1920, 1080)]
PNG_SIZES = [(1024, 640), (1280, 720)]
LONG = ("A very long message that a server or a path could produce " * 10)[:500]
CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox)


@pytest.fixture
def styled(qapp):
    """The app's own look (gui/style.py), as `vspectrum` starts it; undone afterwards."""
    from vspectrum_app.gui import style

    saved = qapp.palette(), qapp.font(), qapp.style().name(), qapp.styleSheet()
    style.apply(qapp, "light")
    yield
    qapp.setPalette(saved[0])
    qapp.setFont(saved[1])
    qapp.setStyle(saved[2])
    qapp.setStyleSheet(saved[3])


@pytest.fixture
def window(qtbot, workspace, styled):
    for i in range(6):
        add_image(workspace, make_image_bytes(seed=i), source_name=f"s{i}.jpg", meta={"platform": "tiktok"})
    ctx = AppContext()
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.open_workspace(workspace.root)
    win.show()
    yield win
    ctx.jobs.cancel_all(wait_ms=5000)


def _settle(qtbot) -> None:
    for _ in range(3):
        QApplication.processEvents()
    qtbot.wait(10)


def _text_cut(control: QWidget) -> str | None:
    """A push button narrower than its own label (the text would be cut)."""
    if not isinstance(control, QPushButton) or not control.text():
        return None
    need = control.fontMetrics().horizontalAdvance(control.text().replace("&", "")) + 8
    if not control.icon().isNull():
        need += control.iconSize().width()
    return (
        f"button {control.text()!r} is {control.width()} px wide, its label needs {need}"
        if control.width() < need
        else None
    )


def _clipped(control: QWidget, pane_area: QScrollArea) -> str | None:
    """Where ``control`` is cut off by a parent that shows it, or None. Inside a scroll area's
    content the control is reachable by scrolling, so the walk stops there."""
    child: QWidget = control
    parent = control.parentWidget()
    while parent is not None:
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport():
            return None  # the content of a scroll area (the pane's own or an inner one)
        top_left = child.mapTo(parent, child.rect().topLeft())
        bottom_right = child.mapTo(parent, child.rect().bottomRight())
        if not (parent.rect().contains(top_left) and parent.rect().contains(bottom_right)):
            return (
                f"{type(control).__name__} {control.accessibleName() or getattr(control, 'text', lambda: '')()!r} "
                f"cut off by {type(parent).__name__}"
            )
        if parent is pane_area:
            return None
        child, parent = parent, parent.parentWidget()
    return None


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_pane_keeps_the_window_size_with_long_messages(window, qtbot, size):
    window.resize(*size)
    _settle(qtbot)
    for title, _, _ in PANES:
        pane = window.show_pane(title)
        _settle(qtbot)
        labels = pane.findChildren(MessageLabel)
        for label in labels:
            label.set_message(LONG, "error")
        window.workspace_label.set_message(LONG)
        window.ctx.jobs.jobs.append(type("Job", (), {"args": ["crawl"], "title": LONG})())
        window.ctx.jobs.changed.emit()  # a long job title in the status bar
        _settle(qtbot)
        window.ctx.jobs.jobs.clear()  # (a job left in the list would make closing the window ask)
        assert (window.width(), window.height()) == size, f"{title} changed the window to {window.size()}"
        area = window.stack.currentWidget()
        assert not area.horizontalScrollBar().isVisible(), f"{title} needs {pane.minimumSizeHint().width()} px"
        shown = [w for w in pane.findChildren(QWidget) if isinstance(w, CONTROLS) and w.isVisibleTo(window)]
        cut = [c for c in (_clipped(w, area) or _text_cut(w) for w in shown) if c]
        assert not cut, f"{title} at {size}: {cut}"
        for label in labels:  # the full text is kept for the tooltip and the log
            assert label.full_text() == LONG and label.toolTip() == plain_tooltip(
                LONG
            )  # escaped: outside text never renders as HTML
        assert window.jobs_label.toolTip() == LONG


def test_pngs_of_every_pane(window, qtbot, tmp_path):
    out = Path(os.environ.get("VSPECTRUM_SIZE_PNGS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for w, h in PNG_SIZES:
        window.resize(w, h)
        for title, _, _ in PANES:
            window.show_pane(title)
            _settle(qtbot)
            path = out / f"{title.lower()}-{w}x{h}.png"
            assert window.grab().save(str(path)) and path.stat().st_size > 0


def test_first_window_fits_the_screen_and_geometry_is_remembered(qtbot, monkeypatch):
    from PySide6.QtCore import QRect

    small = initial_geometry(QRect(0, 0, 1280, 770))  # the content area: the frame fits too (issue 29)
    assert small.marginsAdded(FRAME_GUESS) == QRect(0, 0, 1280, 770)
    big = initial_geometry(QRect(0, 0, 2560, 1400))
    assert (big.width(), big.height()) == (1280, 800) and QRect(0, 0, 2560, 1400).contains(big)
    assert MINIMUM_SIZE.width() <= 1024 and MINIMUM_SIZE.height() <= 640

    monkeypatch.setattr(MainWindow, "available_area", lambda self: QRect(0, 0, 1920, 1080))
    ctx = AppContext()
    win = MainWindow(ctx)
    assert (win.width(), win.height()) == (1280, 800)  # first start: the default size
    qtbot.addWidget(win)
    win.show()
    win.resize(1100, 700)
    _settle(qtbot)
    win.close()
    again = MainWindow(AppContext())
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (1100, 700)
    monkeypatch.setattr(MainWindow, "available_area", lambda self: QRect(0, 0, 1000, 640))
    smaller_screen = MainWindow(AppContext())  # the saved size no longer fits: the default, within the screen
    qtbot.addWidget(smaller_screen)
    assert smaller_screen.geometry().marginsAdded(FRAME_GUESS) == QRect(0, 0, 1000, 640)
