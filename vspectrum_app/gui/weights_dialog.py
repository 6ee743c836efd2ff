"""The CLIP weights dialog (size, progress, speed, Cancel, resume, checksum, "Use a file I
already have...") and a small state widget for the welcome page and Settings.

The work is ``encoders.weights`` run in a worker thread; one ``WeightsDownload`` per
application holds it, so the dialog can be closed and reopened, and every state widget shows
the same download.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core.jobs import format_duration
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.workers import Worker
from vspectrum_app.encoders import weights
from vspectrum_app.encoders.weights import Progress, ProgressCallback, WeightsSource

STATE_TEXT = {
    "missing": "not downloaded",
    "partial": "download interrupted (can resume)",
    "downloading": "downloading",
    "ready": "ready",
}


class WeightsDownload(QObject):
    """One download at a time; ``progress`` and ``changed`` arrive on the GUI thread."""

    progress = Signal(object)  # Progress
    changed = Signal(str)  # the new state: missing, partial, downloading, ready
    message = Signal(str, str)  # text, kind ("info", "success", "error")

    def __init__(self, source: WeightsSource = weights.DEFAULT, parent: QObject | None = None):
        super().__init__(parent)
        self.source = source
        self.last: Progress | None = None
        self._cancel: threading.Event | None = None
        self._worker = Worker(self)
        self._shown_at = 0.0

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def state(self) -> str:
        return "downloading" if self.running else weights.state(self.source)

    def start(self) -> None:
        if self.running:
            return
        self._cancel = threading.Event()
        cancel = self._cancel
        self.changed.emit("downloading")

        def work() -> str:
            try:
                weights.download(self.source, progress=self._report, cancel=cancel)
            except weights.Cancelled:
                return "cancelled"
            return "done-built" if _build_after(self.source, self._report) else "done"

        self._worker.run(work, self._finished, self._failed)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def use_file(self, path: str) -> None:
        """Verify and copy a file the user has (in the worker: hashing 600 MB takes seconds)."""
        if self.running:
            return
        self._cancel = threading.Event()
        self.changed.emit("downloading")
        how = "copied" if self.source.sha256 else "copied-unpinned"

        def work() -> str:
            weights.use_existing(path, self.source, progress=self._report)
            return how + ("-built" if _build_after(self.source, self._report) else "")

        self._worker.run(work, self._finished, self._failed)

    def _report(self, p: Progress) -> None:  # worker thread: at most ~10 updates a second reach the GUI
        now = time.monotonic()
        if now - self._shown_at >= 0.1 or (p.total and p.done >= p.total):
            self._shown_at = now
            self.progress.emit(p)

    def _finished(self, how: str) -> None:
        self._cancel = None
        if how == "cancelled":
            self.message.emit(
                "Download cancelled; the part already fetched is kept: Resume continues from there.", "info"
            )
        else:
            built = how.endswith("-built")  # the lean install built its encoder from them too
            how = how.removesuffix("-built")
            checked = {
                "copied": "copied and verified",
                "done": "verified",
                "copied-unpinned": "copied; no checksum is pinned for a file you bring, so loading it is the check",
            }[how] + ("; encoder built" if built else "")
            self.message.emit(f"The CLIP weights are ready ({checked}).", "success")
        self.changed.emit(self.state())

    def _failed(self, text: str) -> None:
        self._cancel = None
        self.message.emit(text, "error")
        self.changed.emit(self.state())

    def shutdown(self) -> None:
        self.cancel()
        self._worker.shutdown()


def _build_after(source: WeightsSource, progress: ProgressCallback) -> bool:
    from vspectrum_app.encoders.onnx_build import build_after_download  # numpy and onnx: not at startup

    return build_after_download(source, progress)


_download: WeightsDownload | None = None


def shared_download() -> WeightsDownload:
    """The application's one download of the default weights."""
    global _download
    if _download is None:
        from PySide6.QtWidgets import QApplication

        _download = WeightsDownload(parent=QApplication.instance())
    return _download


def describe_progress(p: Progress) -> str:
    done = f"{_mib(p.done)} of {_mib(p.total)}" if p.total else _mib(p.done)
    if p.phase == "verify":
        return f"checking the file: {done}"
    if p.phase == "build":
        return "building the encoder from the weights (once)"
    left = f", about {format_duration((p.total - p.done) / p.speed)} left" if p.total and p.speed > 0 else ""
    return f"{done} at {_mib(p.speed)}/s{left}"


def _mib(n: float | None) -> str:
    return f"{(n or 0) / (1 << 20):.1f} MiB"


class WeightsDialog(QDialog):
    def __init__(self, download: WeightsDownload | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.download = download or shared_download()
        source = self.download.source
        self.setWindowTitle("CLIP model weights")
        layout = QVBoxLayout(self)
        size = f"about {source.size / (1 << 20):.0f} MiB" if source.size else "size unknown"
        intro = QLabel(
            f"The library search needs the weights of the CLIP model {source.label} ({size}), "
            f"downloaded once from {urlparse(source.url).hostname}. Without a connection, use a copy "
            f"of the file (open_clip_pytorch_model.bin) you already have."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        checksum = (
            f"Checked against the pinned SHA-256 {source.sha256[:16]}..."
            if source.sha256
            else "Checked against the SHA-256 the server states for the file."
        )
        self.checksum_note = QLabel(checksum + f" Saved in {weights.target_path(source).parent}.")
        self.checksum_note.setWordWrap(True)
        layout.addWidget(self.checksum_note)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Download progress")
        layout.addWidget(self.bar)
        self.detail = QLabel()  # progress figures: many updates, not for the log (a MessageLabel logs each)
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status = MessageLabel(lines=3)
        layout.addWidget(self.detail)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        self.file_button = QPushButton("Use a file I already have...")
        self.close_button = QPushButton("Close")
        for b in (self.download_button, self.cancel_button, self.file_button):
            buttons.addWidget(b)
        buttons.addStretch()
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.download_button.clicked.connect(self.download.start)
        self.cancel_button.clicked.connect(self.download.cancel)
        self.file_button.clicked.connect(self._choose_file)
        self.close_button.clicked.connect(self.accept)
        self.download.progress.connect(self._progress)
        self.download.changed.connect(self._state)
        self.download.message.connect(self.status.set_message)
        self.resize(560, 260)
        self._state(self.download.state())

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "The CLIP weights file", "", "Weights (*.bin *.pt *.pth *.safetensors);;All files (*)"
        )
        if path:
            self.download.use_file(path)

    def _progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * p.done / p.total))
        else:
            self.bar.setRange(0, 0)  # busy indicator
        self.detail.setText(describe_progress(p))

    def _state(self, state: str) -> None:
        running = state == "downloading"
        self.download_button.setEnabled(state in ("missing", "partial"))
        self.download_button.setText("Resume" if state == "partial" else "Download")
        self.cancel_button.setEnabled(running)
        self.file_button.setEnabled(not running)
        if state == "ready":
            self.bar.setRange(0, 1000)
            self.bar.setValue(1000)
            self.detail.setText(f"Ready: {weights.target_path(self.download.source)}")
        elif state == "partial" and not running:
            part = weights.part_path(self.download.source)
            have = part.stat().st_size if part.exists() else 0
            self.detail.setText(f"{_mib(have)} fetched so far; Resume continues from there.")

    def done(self, result: int) -> None:  # noqa: D401 (Qt's name): keep the download running when closed
        for signal, slot in (
            (self.download.progress, self._progress),
            (self.download.changed, self._state),
            (self.download.message, self.status.set_message),
        ):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        super().done(result)


class WeightsStateWidget(QWidget):
    """'CLIP weights: not downloaded [Download...]', 'downloading 42 %', 'ready'. For a model
    other than the default one it says where the weights come from instead."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, download: WeightsDownload | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.download = download or shared_download()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = MessageLabel(lines=1)
        self.button = QPushButton("Download...")
        self.button.setAccessibleName("Download the CLIP weights")
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.button.clicked.connect(self.open_dialog)
        self.download.changed.connect(lambda _state: self.refresh())
        self.download.progress.connect(self._progress)
        # the Settings pane emits library_changed when it saves: a local model chosen there is shown
        ctx.library_changed.connect(self.refresh)
        self.refresh()

    def state(self) -> str:
        """missing, partial, downloading, ready, or "other" (a model this widget does not fetch)."""
        return self.download.state() if self._is_default() else "other"

    def _is_default(self) -> bool:
        s = self.ctx.settings
        if s.get("clip_config") or s.get("clip_checkpoint"):
            return False
        source = self.download.source
        return (s.get("clip_model"), s.get("clip_pretrained")) == (source.model, source.pretrained)

    def refresh(self) -> None:
        state = self.state()
        if state == "other":
            from vspectrum_app.encoders.embedder import ClipSpec

            self._say(f"CLIP model: {ClipSpec.from_settings(self.ctx.settings.as_dict()).describe()}")
            self.button.hide()
            return
        self.button.show()
        self.button.setText(
            {"partial": "Resume...", "downloading": "Show...", "ready": "Details..."}.get(state, "Download...")
        )
        self._say(f"CLIP weights: {STATE_TEXT[state]}")

    def _progress(self, p: Progress) -> None:
        if p.total and self.state() == "downloading":
            self._say(
                f"CLIP weights: {'checking' if p.phase == 'verify' else 'downloading'} {100 * p.done // p.total} %"
            )

    def _say(self, text: str) -> None:
        if text != self.label.full_text():  # each new message also goes to the log: once per percent is plenty
            self.label.set_message(text)

    def open_dialog(self) -> None:
        WeightsDialog(self.download, self).exec()
        self.refresh()
