"""Short work (a search, a report) on a thread pool, with its result delivered on the GUI thread."""

from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)


class Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]):
        super().__init__()
        self.fn = fn
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # delivered as one sentence; the traceback is for debugging only
            traceback.print_exc()
            self.signals.failed.emit(str(exc) or type(exc).__name__)
        else:
            self.signals.done.emit(result)


def run_in_pool(pool: QThreadPool, fn: Callable[[], Any], on_done: Callable[[Any], None],
                on_error: Callable[[str], None]) -> Task:
    task = Task(fn)
    task.signals.done.connect(on_done)
    task.signals.failed.connect(on_error)
    pool.start(task)
    return task
