"""Thumbnails decoded off the GUI thread (QImage in a QThreadPool), turned into QPixmaps on
the GUI thread, and kept in a bounded LRU cache: a 50,000-image grid never holds them all."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap


class _Signals(QObject):
    loaded = Signal(str, QImage)


class _Load(QRunnable):
    def __init__(self, key: str, path: str, signals: _Signals):
        super().__init__()
        self.key, self.path, self.signals = key, path, signals

    def run(self) -> None:
        image = QImage(self.path)
        self.signals.loaded.emit(self.key, image)


class ThumbnailCache(QObject):
    ready = Signal(str)  # key

    def __init__(self, capacity: int = 1500, parent: QObject | None = None):
        super().__init__(parent)
        self.capacity = capacity
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = _Signals()
        self._signals.loaded.connect(self._on_loaded)

    def get(self, key: str, path: str) -> QPixmap | None:
        """The pixmap if cached; otherwise start loading it and return None."""
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if key not in self._pending:
            self._pending.add(key)
            self._pool.start(_Load(key, path, self._signals))
        return None

    def _on_loaded(self, key: str, image: QImage) -> None:
        self._pending.discard(key)
        self._pixmaps[key] = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
        self.ready.emit(key)

    def __len__(self) -> int:
        return len(self._pixmaps)

    def wait(self) -> None:
        self._pool.waitForDone()
