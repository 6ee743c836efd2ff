"""Test doubles shared by the GUI tests: a stand-in for gui.jobs.Job that the test drives,
so that a pane can be exercised without starting a child process."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from vspectrum_app.core import events
from vspectrum_app.core.operations import Operation, decode_line, from_args, to_argv
from vspectrum_app.core.wire import to_wire
from vspectrum_app.gui.jobs import handle_event


class FakeJob(QObject):
    """The signals and controls of gui.jobs.Job, driven by the test."""

    progress = Signal(int, int, str)
    log = Signal(str, str)
    received = Signal(object)
    failed = Signal(str)
    finished = Signal(int)
    can_pause = True

    def __init__(self, params: Operation | None = None):
        super().__init__()
        self.params = params
        self.result, self.paused, self.cancelled = None, False, False
        self.output: list[str] = []
        self.error: str | None = None

    def pause(self) -> bool:
        self.paused = True
        return True

    def resume(self) -> None:
        self.paused = False

    def cancel(self) -> None:
        self.cancelled = True

    def send(self, event: dict | events.Event) -> None:
        """What Job does with one line of its child's stdout: the event goes over the wire
        (``events.encode``) and back (``decode_line`` for the job's operation, as Job reads it),
        then to ``gui.jobs.handle_event``. A result's data may be its typed instance."""
        if isinstance(event, dict):  # typed as the child's reporter types it: a drifted field fails here
            event = events.make(**{("kind" if k == "type" else k): v for k, v in event.items()})
        if isinstance(event, events.Result):
            event = events.Result(t=event.t, data=to_wire(event.data))
        line = events.encode(event)
        handle_event(self, decode_line(type(self.params), line) if self.params is not None else events.decode(line))


def assert_round_trips(params) -> list[str]:
    """``params`` -> argv -> the real parser -> the same params; returns the argv."""
    from vspectrum_app.cli import build_parser

    argv = to_argv(params)
    parsed = build_parser().parse_args(["--events", *argv])
    assert from_args(type(params), parsed) == params, (argv, params)
    return argv


def use_fake_jobs(ctx):
    """Make ``ctx.run_job`` hand out FakeJobs instead of starting the CLI: ``ctx.started``
    lists each job's (title, params), ``ctx.job`` is the latest one. Every command line is
    written (``to_argv``) and parsed back with the real ``vspectrum`` parser, which must give
    the same params: a pane cannot start a job whose options the CLI would read otherwise."""
    ctx.started = []

    def run_job(title, params):
        assert_round_trips(params)
        ctx.started.append((title, params))
        ctx.job = FakeJob(params)
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
