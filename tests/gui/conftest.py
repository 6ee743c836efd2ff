"""The main window as the GUI tests open it."""

from __future__ import annotations

import pytest

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
