"""Thumbnails decoded off the GUI thread (QImage on a lane of two threads of the shared worker
pool, gui.workers: a grid's worth of requests never takes the threads a search needs), turned
into QPixmaps on the GUI thread, and kept in a bounded LRU cache: a 50,000-image grid never
holds them all."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from vspectrum_app.gui import workers


class ThumbnailCache(QObject):
    ready = Signal(str)  # key
    _loaded = Signal(str, QImage)  # from a worker thread; delivered queued on the GUI thread

    def __init__(self, capacity: int = 600, size: QSize = QSize(96, 160), parent: QObject | None = None):
        super().__init__(parent)
        self.capacity, self.size = capacity, size
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._lane = workers.Lane(width=2)
        self._loaded.connect(self._on_loaded)

    def get(self, key: str, path: str) -> QPixmap | None:
        """The pixmap if cached; otherwise start loading it and return None."""
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if key not in self._pending:
            if self._lane.submit(lambda: self._load(key, path)):  # False: the application is quitting
                self._pending.add(key)
        return None

    def _load(self, key: str, path: str) -> None:
        image = QImage(path)
        if not image.isNull():  # scaled here, off the GUI thread: the cache holds icon-sized pixmaps
            image = image.scaled(
                self.size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        try:
            self._loaded.emit(key, image)
        except RuntimeError:  # the cache was deleted meanwhile
            pass

    def _on_loaded(self, key: str, image: QImage) -> None:
        self._pending.discard(key)
        self._pixmaps[key] = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
        self.ready.emit(key)

    def __len__(self) -> int:
        return len(self._pixmaps)

    def wait(self) -> None:
        """Until every thumbnail requested so far is decoded (their signals may still be queued)."""
        self._lane.wait()
