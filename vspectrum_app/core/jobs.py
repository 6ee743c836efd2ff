"""Progress, logs, partial results and cancellation for long work, without Qt.

Long operations (import, index build, benchmark run, crawl) take a ``Reporter``. The CLI
gives them a terminal progress bar, or JSON lines on stdout with ``--events``; the GUI runs
the same CLI command in a child process and reads those JSON lines, so the GUI and the CLI
run identical code and a crash in the job cannot take the window down.

Cancelling is cooperative: the job calls ``reporter.check_cancelled()`` between units of
work, and finishes (or rolls back) the unit in flight before it stops.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType
from typing import Any, TextIO

from vspectrum_app.core import events


class Cancelled(Exception):
    """Raised by ``check_cancelled`` inside a job; the CLI turns it into exit code 130."""


class Reporter:
    """Base reporter: records nothing, never cancelled. Subclasses render."""

    STOP_NOTICE = "stopping after the work in flight (press Ctrl-C again to abort now)"

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._stop_notice_due = False  # set by the signal handler, logged by the job's own thread

    # -- what jobs call -----------------------------------------------------------------
    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        self.emit("progress", done=done, total=total, message=message)

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=message)

    def emit(self, kind: str, **data: Any) -> None:  # overridden by renderers
        pass

    def cancelled(self) -> bool:
        # read the flag once: a signal landing between two reads made the job stop without
        # the notice (the storm test caught it about once in 200 runs)
        if not self._cancel.is_set():
            return False
        self._announce_stop()
        return True

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise Cancelled("cancelled")

    def _announce_stop(self) -> None:
        if self._stop_notice_due:
            self._stop_notice_due = False
            self.log(self.STOP_NOTICE, "warning")

    # -- what the owner calls -----------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM request a cooperative stop; a second SIGINT interrupts at once."""

        # The handler only sets flags: it runs between two bytecodes of the main thread, maybe
        # inside ``emit`` holding its (non-reentrant) lock, so logging here could deadlock.
        # The notice is logged by the job's next ``cancelled()`` / ``check_cancelled()``.
        # Once a stop is requested, further SIGTERMs mean nothing more (a hard stop is SIGKILL):
        # they are ignored at the OS level, so one landing while the interpreter exits (when
        # Python's own handlers are gone) cannot kill a process that is finishing cleanly.
        # ``signal.signal`` first runs the handlers of pending signals, so under a burst it
        # re-entered this handler, which called it again, until RecursionError (seen once in
        # CI): a SIGTERM after the first returns before any call.
        sigterm_seen = False

        def handler(signum: int, frame: FrameType | None) -> None:
            nonlocal sigterm_seen
            if signum == signal.SIGTERM:
                if sigterm_seen:
                    return
                sigterm_seen = True
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            elif signum == signal.SIGINT and self._cancel.is_set():
                raise KeyboardInterrupt
            self._stop_notice_due = True
            self._cancel.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, handler)
            signal.signal(signal.SIGTERM, handler)
            if hasattr(signal, "SIGBREAK"):  # Windows: the app's Stop sends CTRL_BREAK (core.processes)
                signal.signal(signal.SIGBREAK, handler)


class NullReporter(Reporter):
    pass


class JsonLinesReporter(Reporter):
    """One JSON object per line on ``stream`` (stdout by default): the GUI's job protocol
    (``core.events`` defines the events and their wire format)."""

    STOP_NOTICE = "stopping after the work in flight"  # the window has no Ctrl-C: its Stop is the way

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()

    def emit(self, kind: str, **data: Any) -> None:
        # typed on the way out: a field the event type does not declare fails here, in the tests
        line = events.encode(events.make(kind, t=round(time.time(), 3), **data))
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class TerminalReporter(Reporter):
    """A one-line progress bar with rate and ETA on stderr; logs above it."""

    def __init__(self, stream: TextIO | None = None, min_interval: float = 0.1) -> None:
        super().__init__()
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._min_interval = min_interval
        self._last = 0.0
        self._start: float | None = None
        self._bar_shown = False

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        now = time.monotonic()
        if self._start is None:
            self._start = now
        final = total is not None and done >= total
        if not final and now - self._last < (self._min_interval if self._tty else 5.0):
            return
        self._last = now
        self._stream.write(("\r\033[K" if self._tty else "") + self._format(done, total, message, now))
        self._stream.write("" if self._tty and not final else "\n")
        self._bar_shown = self._tty and not final
        self._stream.flush()

    def _format(self, done: int, total: int | None, message: str, now: float) -> str:
        elapsed = max(now - (self._start or now), 1e-9)
        rate = done / elapsed
        parts = []
        if total:
            frac = min(done / total, 1.0)
            bar = "#" * int(frac * 24)
            parts.append(f"[{bar:<24}] {done}/{total}")
            if 0 < rate and done < total:
                parts.append(f"ETA {format_duration((total - done) / rate)}")
        else:
            parts.append(f"{done}")
        parts.append(f"{rate:.1f}/s")
        if message:
            parts.append(message)
        return "  ".join(parts)

    def log(self, message: str, level: str = "info") -> None:
        prefix = "" if level == "info" else f"{level}: "
        if self._bar_shown:
            self._stream.write("\r\033[K")
            self._bar_shown = False
        self._stream.write(f"{prefix}{message}\n")
        self._stream.flush()

    def emit(self, kind: str, **data: Any) -> None:
        pass  # partial results are for machine readers; the terminal shows progress and logs


def format_duration(seconds: float) -> str:
    """'45s', '12m05s', '3h20m'."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
