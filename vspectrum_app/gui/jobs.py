"""Background jobs: a ``vspectrum --events ...`` child process whose JSON lines become signals.

The child writes everything it finishes to the workspace as it goes, so cancelling
(SIGTERM: the CLI stops after the unit in flight) or a crash of the child loses nothing.
Its lines are decoded once, here (``core.operations.decode_line``), into typed events and
the operation's typed result; its failure comes as an ``error`` event in one sentence. The
child's stderr (a traceback, say) is never parsed for a message: its last lines go to the
app's log when the child ends without saying why, where Help > Open log folder finds them.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from vspectrum_app.core import events, processes
from vspectrum_app.core.operations import Operation, decode_line, job_argv, to_argv
from vspectrum_app.core.paths import cli_command

log = logging.getLogger("vspectrum.gui.jobs")
STDERR_TAIL = 20_000  # bytes of a child's error output kept for the log


def env_for_jobs(parent: QObject | None, env: dict[str, str] | None) -> dict[str, str]:
    """The variables the app adds to a child's environment: its JobManager's (e.g. where the
    watched browser's window goes), then the caller's."""
    return {**dict(getattr(parent, "env", None) or {}), **(env or {})}


class Job(QObject):
    # Pausing suspends the whole child process; Windows has no SIGSTOP to do that with.
    can_pause = hasattr(signal, "SIGSTOP")

    progress = Signal(int, int, str)  # done, total (0 = unknown), message
    log = Signal(str, str)  # level, message
    received = Signal(object)  # every core.events.Event, including Progress/Log/Result (its data typed)
    failed = Signal(str)  # a one-sentence error (the child's "error" event, or how it ended)
    finished = Signal(int)  # exit code (130 = cancelled)

    def __init__(
        self,
        title: str,
        params: Operation | None,
        workspace: str | None,
        parent: QObject | None = None,
        extra_env: dict[str, str] | None = None,
    ):
        super().__init__(parent)
        self.title, self.params = title, params
        self.args = to_argv(params) if params is not None else []  # the command words and options
        self.result: object = None  # an instance of params.result_type, once the child sent it
        self.output: list[str] = []  # the command's human-readable stdout lines
        self.error: str | None = None
        self.exit_code: int | None = None
        self.paused = False
        self._buffer = b""
        self._stderr_tail = b""  # for the log, should the child end without an error event
        self.process = QProcess(self)
        program, *prefix = cli_command()
        self.process.setProgram(program)
        self.process.setArguments([*prefix, *job_argv(params, workspace)] if params is not None else prefix)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        self.env = env_for_jobs(parent, extra_env)  # what this child gets beyond the app's environment
        for key, value in self.env.items():
            env.insert(key, value)
        self.process.setProcessEnvironment(env)
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        if processes.WINDOWS:  # its own group: CTRL_BREAK reaches it (and its browser) alone

            def _new_group(arguments: Any) -> None:
                arguments.flags |= processes.CREATE_NEW_PROCESS_GROUP

            self.process.setCreateProcessArgumentsModifier(_new_group)  # type: ignore[attr-defined]  # Windows-only, not in the Linux stubs

    def start(self) -> "Job":
        self.process.start()
        return self

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def cancel(self) -> None:
        """Cooperative stop (the CLI finishes the unit in flight); killed if it lingers."""
        if self.running:
            processes.interrupt(self.process.processId())
            self.resume()  # a stopped process would hold the SIGTERM until continued
            QTimer.singleShot(15_000, self._kill_if_running)

    def pause(self) -> bool:
        """Suspend the child where it stands (SIGSTOP); only for jobs whose work tolerates a
        frozen clock, e.g. the crawler, which restarts a video whose capture moment passed."""
        if self.can_pause and self.running and not self.paused:
            os.kill(self.process.processId(), signal.SIGSTOP)
            self.paused = True
        return self.paused

    def resume(self) -> None:
        if self.paused and self.running:
            os.kill(self.process.processId(), signal.SIGCONT)
        self.paused = False

    def _kill_if_running(self) -> None:
        """The child and every process it started (its browser), at once."""
        if self.running:
            processes.kill_tree(self.process.processId())

    def _read_stdout(self) -> None:
        self._buffer += self.process.readAllStandardOutput().data()
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._handle_line(line.decode("utf-8", "replace").strip())

    def _read_stderr(self) -> None:
        self._stderr_tail = (self._stderr_tail + self.process.readAllStandardError().data())[-STDERR_TAIL:]

    def _handle_line(self, line: str) -> None:
        handle_event(self, decode_line(type(self.params), line) if self.params is not None else events.decode(line))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        if self._buffer:
            self._handle_line(self._buffer.decode("utf-8", "replace").strip())
            self._buffer = b""
        self.exit_code = code
        if code not in (0, 130) and self.error is None:  # a crash: the child could not say why
            how = "crashed" if status == QProcess.ExitStatus.CrashExit else f"ended with exit code {code}"
            self.error = f"the job {how} before saying why (its last output is in the log: Help > Open log folder)"
            self._read_stderr()
            tail = self._stderr_tail.decode("utf-8", "replace").strip() or "(nothing)"
            log.error("job %r %s; its error output ended with:\n%s", self.title, how, tail)
            self.failed.emit(self.error)
        self.finished.emit(code)


R = TypeVar("R")


def result_of(job: object, cls: type[R]) -> R | None:
    """The job's result if it sent one of type ``cls`` (its operation's ``result_type``), else None."""
    result = getattr(job, "result", None)
    return result if isinstance(result, cls) else None


def handle_event(job: Job, event: events.Event) -> None:
    """What a job does with one decoded line of its child's stdout (``Job`` and the GUI
    tests' fake job both call this): the human-readable lines are kept, progress, logs,
    the error and the result get their own signals, and every event goes out on ``event``."""
    match event:
        case events.Output(text=text):
            if text:
                job.output.append(text)
            return
        case events.Garbled(reason=reason):  # e.g. half a line from a crashing child: said, then dropped
            job.log.emit("warning", f"a line from the job could not be read: {reason}")
            return
        case events.Progress(done=done, total=total, message=message):
            job.progress.emit(done or 0, total or 0, message or "")
        case events.Log(level=level, message=message):
            job.log.emit(level or "info", message or "")
        case events.Error(message=message):
            job.error = message or ""
            job.failed.emit(job.error)
        case events.Result(data=data):
            job.result = data
    job.received.emit(event)


class JobManager(QObject):
    """Keeps running jobs alive, tells the status bar, and cancels them on close."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs: list[Job] = []
        self.env: dict[str, str] = {}  # added to every child's environment (the main window keeps it current)
        self.closing = False  # set by cancel_all: a job asked for after that (a pane's timer) is not started

    def start(self, title: str, params: Operation, workspace: str | None) -> Job:
        """``params`` as a child's command line through ``to_argv``, the inverse of the CLI's parser."""
        job = Job(title, params, workspace, self)
        if self.closing:  # the window is closing: a debounced estimate must not outlive it (and ask to quit)
            return job
        self.jobs.append(job)
        job.finished.connect(lambda _code, j=job: self._done(j))
        job.start()
        self.changed.emit()
        return job

    def _done(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        self.changed.emit()

    def describe(self) -> str:
        return ", ".join(j.title for j in self.jobs) or "no jobs running"

    def cancel_all(self, wait_ms: int = 10_000) -> None:
        self.closing = True
        for job in list(self.jobs):
            job.cancel()
        for job in list(self.jobs):
            if not job.process.waitForFinished(wait_ms):
                job._kill_if_running()
                job.process.waitForFinished(2_000)
