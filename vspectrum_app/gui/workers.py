"""Short work (a search, a report) in a worker thread, with its result delivered on the GUI
thread through a queued signal (Python threads, like thumbnails.py)."""

from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal


class Worker(QObject):
    """One worker thread: tasks run in order (a searcher's index is not shared between threads)."""

    _done = Signal(object, object)    # callback, result
    _failed = Signal(object, str)     # callback, message

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gui-worker")
        self._done.connect(lambda callback, result: callback(result))
        self._failed.connect(lambda callback, message: callback(message))

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None], on_error: Callable[[str], None]) -> None:
        def task() -> None:
            try:
                result = fn()
            except Exception as exc:  # delivered as one sentence; the traceback is for debugging only
                traceback.print_exc()
                self._failed.emit(on_error, str(exc) or type(exc).__name__)
            else:
                self._done.emit(on_done, result)

        self._pool.submit(task)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
