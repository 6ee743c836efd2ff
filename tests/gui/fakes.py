"""Test doubles shared by the GUI tests: a stand-in for gui.jobs.Job that the test drives,
so that a pane can be exercised without starting a child process."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class FakeJob(QObject):
    """The signals and controls of gui.jobs.Job, driven by the test."""

    progress = Signal(int, int, str)
    log = Signal(str, str)
    event = Signal(dict)
    failed = Signal(str)
    finished = Signal(int)
    can_pause = True

    def __init__(self):
        super().__init__()
        self.result, self.paused, self.cancelled = None, False, False

    def pause(self) -> bool:
        self.paused = True
        return True

    def resume(self) -> None:
        self.paused = False

    def cancel(self) -> None:
        self.cancelled = True

    def send(self, event: dict) -> None:
        """What Job._handle_line does with one JSON line."""
        if event["type"] == "progress":
            self.progress.emit(event["done"], event["total"], event.get("message", ""))
        elif event["type"] == "log":
            self.log.emit(event.get("level", "info"), event["message"])
        elif event["type"] == "result":
            self.result = event["data"]
        self.event.emit(event)


def use_fake_jobs(ctx):
    """Make ``ctx.run_job`` hand out FakeJobs instead of starting the CLI: ``ctx.started``
    lists each job's (title, args), ``ctx.job`` is the latest one."""
    ctx.started = []

    def run_job(title, args):
        ctx.started.append((title, args))
        ctx.job = FakeJob()
        return ctx.job

    ctx.run_job = run_job
    return ctx


def shown_pane(qtbot, pane_class, ctx, root, size=(1000, 600)):
    """A pane on ``ctx`` with a workspace opened at ``root``, shown at ``size`` (offscreen)."""
    ctx.open_workspace(root)
    pane = pane_class(ctx)
    qtbot.addWidget(pane)
    pane.resize(*size)
    pane.show()
    return pane
