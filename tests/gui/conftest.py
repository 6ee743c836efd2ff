"""The main window as the GUI tests open it."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.main_window import MainWindow


@pytest.fixture
def window(qtbot):
    """The whole window, shown, with no workspace yet; its jobs are stopped afterwards."""
    ctx = AppContext()
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    yield win
    ctx.jobs.cancel_all(wait_ms=5000)
    # a job whose process never reported its end must not make closing the window ask (a modal
    # question offscreen waits for ever)
    ctx.jobs.jobs.clear()


def dialog_returns(monkeypatch, name: str, value) -> None:
    """QFileDialog.<name> answers ``value`` as if the user had picked it (native dialogs cannot
    be driven offscreen); getExistingDirectory returns a path, the others (path, filter)."""
    result = value if name == "getExistingDirectory" else (value, "")
    monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, **k: result))
