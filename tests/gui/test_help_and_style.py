"""The Help menu, the log file, the shortcuts, the sidebar's state and the two palettes."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QTextBrowser

from vspectrum_app.gui import style
from vspectrum_app.gui.app import log_dir, setup_logging
from vspectrum_app.gui.message_label import MessageLabel

pytestmark = pytest.mark.gui


def _menu_actions(window, title: str) -> dict[str, object]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == title)
    return {a.text().replace("&", ""): a for a in menu.actions() if a.text()}


def test_help_menu_has_shortcuts_about_log_folder_and_diagnostics(window, qtbot, monkeypatch):
    actions = _menu_actions(window, "Help")
    assert set(actions) == {"Keyboard shortcuts", "Open log folder", "Copy diagnostics", "About Value-Spectrum Studio"}
    assert actions["Keyboard shortcuts"].shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
    actions["Keyboard shortcuts"].trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible())
    text = dialog.findChild(QTextBrowser).toPlainText()
    assert "Ctrl+F" in text and "Ctrl+O" in text and "Ctrl+Return" in text and "Esc" in text
    dialog.reject()
    actions["About Value-Spectrum Studio"].trigger()
    dialog = next(
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QDialog) and w.isVisible() and w.windowTitle() == "About"
    )
    about = dialog.findChild(QTextBrowser).toPlainText()
    assert "0.1.0" in about and "PySide6-Essentials" in about and "LGPL" in about and str(log_dir()) in about
    dialog.reject()


def test_diagnostics_carry_no_key(window, monkeypatch):
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

    ProviderStore().save(ProviderConfig(name="lab", kind="openai", models=["m1"]))
    secret = "sk-test-very-secret-value-123"
    # keys in the environment (undone after the test; a keyring entry would outlive it)
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", secret)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    _menu_actions(window, "Help")["Copy diagnostics"].trigger()
    copied = QGuiApplication.clipboard().text()
    assert "Value-Spectrum Studio" in copied and "lab: openai, default address, models m1" in copied
    assert "PySide6 " in copied  # the window's own line, on top of the text `vspectrum diagnostics` prints
    assert secret not in copied


def test_log_file_rotates_in_the_user_log_folder():
    path = setup_logging()
    assert path is not None and path.parent == log_dir()
    label = MessageLabel()
    label.set_message("a message worth keeping", "error")
    for handler in logging.getLogger("vspectrum").handlers:
        handler.flush()
    assert "a message worth keeping" in path.read_text("utf-8")
    assert setup_logging() is None  # once per process
    for handler in list(logging.getLogger("vspectrum").handlers):  # leave other tests' logging alone
        logging.getLogger("vspectrum").removeHandler(handler)
        handler.close()


def test_ctrl_f_ctrl_o_and_the_sidebar_state(window, qtbot, workspace, monkeypatch):
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.library.importer import add_image

    add_image(workspace, make_image_bytes(seed=1), source_name="a.jpg")
    window.open_workspace(workspace.root)
    window.show_pane("Settings")
    window.activateWindow()
    qtbot.keyClick(window, "F", modifier=Qt.KeyboardModifier.ControlModifier)
    library = window.pane("Library")
    assert window.current_pane() is library
    asked = []
    monkeypatch.setattr(type(library), "import_folder", lambda self: asked.append(True))
    file_actions = _menu_actions(window, "File")
    assert file_actions["Import screenshots..."].shortcut() == QKeySequence("Ctrl+O")
    file_actions["Import screenshots..."].trigger()
    assert asked == [True]
    assert window.nav.item(0).text().endswith("1 screenshot, no index yet")

    crawl = window.pane("Crawl")  # a crawl in progress shows in the sidebar
    window.ctx.jobs.jobs.append(type("J", (), {"args": ["crawl"], "title": "Crawl"})())
    window.ctx.jobs.changed.emit()
    in_progress = window.nav.item(1).text()
    window.ctx.jobs.jobs.clear()  # before any assert: a job left in the list makes closing the window ask
    assert in_progress.endswith("crawl in progress")
    window.ctx.jobs.changed.emit()
    assert window.nav.item(1).text() == "Crawl"
    assert crawl is not None


def test_the_sidebar_counts_runs_and_task_sets(window, workspace, qtbot):
    from tests.gui.test_results_pane import make_run
    from vspectrum_app.bench.store import RunStore

    window.open_workspace(workspace.root)
    row = {window.nav.item(r).data(Qt.ItemDataRole.UserRole): r for r in range(window.nav.count())}
    assert window.nav.item(row["Benchmark"]).text() == "Benchmark"  # nothing yet: just the name
    make_run(RunStore(window.ctx.workspace), {"Power": "yy"})
    window.ctx.library_changed.emit()
    assert window.nav.item(row["Benchmark"]).text() == "Benchmark\n1 run"
    assert window.nav.item(row["Annotation"]).text() == "Annotation"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_palettes(scheme):
    app = QApplication.instance()
    before, font, style_name, sheet = app.palette(), app.font(), app.style().name(), app.styleSheet()
    try:
        style.apply(app, scheme)
        window = app.palette().color(QPalette.ColorRole.Window)
        text = app.palette().color(QPalette.ColorRole.WindowText)
        assert (window.lightness() < text.lightness()) == (scheme == "dark")
        assert style.is_dark() == (scheme == "dark")
        assert not app.windowIcon().isNull()
    finally:
        app.setPalette(before)
        app.setFont(font)
        app.setStyle(style_name)
        app.setStyleSheet(sheet)
        style._current["dark"] = False
