"""The main window as the GUI tests open it, and a guard against modal dialogs."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.main_window import MainWindow


@pytest.fixture(autouse=True)
def no_unexpected_modal(monkeypatch):
    """A static QMessageBox offscreen waits for a click that never comes: the suite would hang
    out of pytest-timeout's reach. A test that expects one patches it itself; any other is an
    error (pytest-qt reports an exception raised in a Qt handler as the test's failure)."""

    def unexpected(kind):
        def ask(parent, title, text, *rest, **kw):
            raise AssertionError(f"unexpected modal QMessageBox.{kind}: {title!r}: {text!r}")

        return staticmethod(ask)

    for kind in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, unexpected(kind))


def _stop_jobs(ctx: AppContext) -> None:
    ctx.jobs.cancel_all(wait_ms=5000)
    # a job whose process never reported its end must not make closing the window ask
    ctx.jobs.jobs.clear()


@pytest.fixture
def window(qtbot):
    """The whole window, shown, with no workspace yet. Its jobs are stopped before pytest-qt
    closes it (which happens before this fixture's own teardown)."""
    ctx = AppContext()
    win = MainWindow(ctx)
    qtbot.addWidget(win, before_close_func=lambda _: _stop_jobs(ctx))
    win.show()
    return win


def dialog_returns(monkeypatch, name: str, value) -> None:
    """QFileDialog.<name> answers ``value`` as if the user had picked it (native dialogs cannot
    be driven offscreen); getExistingDirectory returns a path, the others (path, filter)."""
    result = value if name == "getExistingDirectory" else (value, "")
    monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, **k: result))
