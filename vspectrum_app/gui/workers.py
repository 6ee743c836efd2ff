"""The window's one pool of worker threads, for short work (a search, a report, a thumbnail,
an image decode), with results delivered on the GUI thread through a queued signal. Heavy or
crash-prone work (torch, Chromium, the network) is a child-process job instead (gui.jobs);
docs/gui.md has the rule. The pool is shut down when the application quits (``shutdown``,
connected in ``install``): queued work is dropped and running work finished, so no thread
outlives the workspace it reads.

The workers are plain Python threads that emit a queued signal: no QRunnable subclass in
Python (PySide6 6.12.0 lost a reference per ``QRunnable.run``; see requirements.in).
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, Signal, SignalInstance

T = TypeVar("T")
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_closed = False


def while_current(is_current: Callable[[], bool], callback: Callable[[T], object]) -> Callable[[T], None]:
    """``callback``, called only while ``is_current()``: a result that a newer request has
    replaced (another run selected meanwhile, say) is dropped."""

    def call(value: T) -> None:
        if is_current():
            callback(value)

    return call


def size() -> int:
    """Four threads: a weights download, a report, a search and thumbnails at once. The work is
    mostly waiting or in C code that releases the GIL, so the count does not follow the cores."""
    return 4


def submit(fn: Callable[..., Any], *args: Any) -> Future[Any] | None:
    """Run ``fn(*args)`` on the shared pool; None once the application is quitting."""
    global _pool
    with _lock:
        if _closed:
            return None
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=size(), thread_name_prefix="gui-worker")
        return _pool.submit(fn, *args)


def shutdown(wait: bool = True) -> None:
    """Drop queued work, let running work finish (``wait``), refuse new work. At application exit."""
    global _pool, _closed
    with _lock:
        pool, _pool, _closed = _pool, None, True
    if pool is not None:
        pool.shutdown(wait=wait, cancel_futures=True)


def install(app: QCoreApplication) -> None:
    """Shut the pool down when ``app`` (the QApplication) is about to quit."""
    app.aboutToQuit.connect(shutdown)


def running() -> bool:
    return _pool is not None


class Lane:
    """Tasks drained on the shared pool in the order they come, at most ``width`` at a time: a
    lane never holds more of the pool's threads than that, however much is queued on it, so a
    flood of thumbnails leaves threads for a search."""

    def __init__(self, width: int = 1):
        self.width = width
        self._queue: deque[Callable[[], None]] = deque()
        self._running = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, task: Callable[[], None]) -> bool:
        """Queue ``task``; False (and nothing queued) once the application is quitting."""
        with self._lock:
            if _closed:
                return False
            self._queue.append(task)
            if self._running >= self.width:
                return True  # a runner of this lane takes it after the tasks before it
            self._running += 1
            self._idle.clear()
        future = submit(self._drain)
        if future is None:  # quitting: nothing runs any more
            self._runner_gone()
            return False
        # dropped by the pool's shutdown before it started: the lane is idle, not stuck
        future.add_done_callback(self._unless_started)
        return True

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._running -= 1
                    if not self._running:
                        self._idle.set()
                    return
                task = self._queue.popleft()
            task()

    def _unless_started(self, future: Future[Any]) -> None:
        if future.cancelled():
            self._runner_gone()

    def _runner_gone(self) -> None:
        with self._lock:
            self._running -= 1
            if not self._running:
                self._queue.clear()
                self._idle.set()

    def clear(self) -> None:
        """Drop the queued tasks (the running ones finish)."""
        with self._lock:
            self._queue.clear()

    def wait(self) -> None:
        """Until nothing of this lane runs or waits."""
        self._idle.wait()


class Worker(QObject):
    """A lane of one on the shared pool for a pane: its tasks run in order, one at a time (a
    searcher's index is not shared between threads; the next images decode in the order they
    are shown), and each result is handed to a callback on the GUI thread."""

    _done = Signal(object, object)  # callback, result
    _failed = Signal(object, str)  # callback, message

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.lane = Lane()
        self._done.connect(lambda callback, result: callback(result))
        self._failed.connect(lambda callback, message: callback(message))

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], object], on_error: Callable[[str], object]) -> None:
        def task() -> None:
            try:
                result = fn()
            except Exception as exc:  # delivered as one sentence; the traceback is for debugging only
                traceback.print_exc()
                self._deliver(self._failed, on_error, str(exc) or type(exc).__name__)
            else:
                self._deliver(self._done, on_done, result)

        self.lane.submit(task)

    @staticmethod
    def _deliver(signal: SignalInstance, callback: Callable[[Any], object] | None, payload: object) -> None:
        try:
            signal.emit(callback, payload)
        except RuntimeError:  # the owner (and this object) was deleted meanwhile: nobody to tell
            pass

    def shutdown(self) -> None:
        """Drop this lane's queued tasks and wait for the one running (e.g. before closing its workspace)."""
        self.lane.clear()
        self.lane.wait()
