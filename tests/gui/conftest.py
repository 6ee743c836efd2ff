"""The main window as the GUI tests open it, and guards against modal dialogs and against
jobs that outlive their test."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.jobs import JobManager
from vspectrum_app.gui.main_window import MainWindow

_MANAGERS = pytest.StashKey[list[JobManager]]()


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


@pytest.fixture(autouse=True)
def jobs_end_with_their_test(request, monkeypatch):
    """Every JobManager a test creates (each AppContext has one) is stopped in
    ``pytest_runtest_teardown`` below. A job left running (a test that failed while waiting
    for it) would otherwise finish during a later test and call into a pane pytest-qt had
    already deleted: a RuntimeError there, then a crash in libshiboken that took the worker
    down (and pytest-xdist hung with it)."""
    managers: list[JobManager] = []
    original = JobManager.__init__

    def recorded(self, *args, **kwargs):
        original(self, *args, **kwargs)
        managers.append(self)

    monkeypatch.setattr(JobManager, "__init__", recorded)
    request.node.stash[_MANAGERS] = managers


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    """Runs before pytest-qt's own teardown (a ``trylast`` wrapper), which closes the test's
    widgets before any fixture is torn down."""
    for manager in item.stash.get(_MANAGERS, []):
        manager.cancel_all(wait_ms=5000)
        # a job whose process never reported its end must not make closing a window ask
        manager.jobs.clear()
    return (yield)


@pytest.fixture
def window(qtbot):
    """The whole window, shown, with no workspace yet (its jobs are stopped by the hook above)."""
    win = MainWindow(AppContext())
    qtbot.addWidget(win)
    win.show()
    return win


def dialog_returns(monkeypatch, name: str, value) -> None:
    """QFileDialog.<name> answers ``value`` as if the user had picked it (native dialogs cannot
    be driven offscreen); getExistingDirectory returns a path, the others (path, filter)."""
    result = value if name == "getExistingDirectory" else (value, "")
    monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, **k: result))
