"""Start / Pause-Resume / Stop buttons and a status line for a pane that runs one background
job (gui.jobs.Job) at a time: one copy of the pause, resume and stop logic, so that every such
pane behaves alike; each pane brings only its own wording."""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from vspectrum_app.gui.jobs import Job
from vspectrum_app.gui.message_label import MessageLabel


class JobControls(QWidget):
    start_requested = Signal()  # Start (or Ctrl+Return): the pane checks its form and attaches a job
    running_changed = Signal(bool)  # after the buttons follow a job starting (True) or ending (False)

    def __init__(
        self,
        *,
        start_tip: str,
        pause_tip: str,
        stop_tip: str,
        idle: str,
        running: str,
        paused: str,
        stopping: str,
        kept: str,
        parent: QWidget | None = None,
    ):
        """``idle``, ``running``, ``paused``, ``stopping``: the status line before any job, on
        resuming, on pausing and on Stop; ``kept``: what Stop keeps ("every capture so far"),
        said where pausing is not available."""
        super().__init__(parent)
        self.job: Job | None = None
        self._texts = {"running": running, "paused": paused, "stopping": stopping, "kept": kept}
        self.start_button, self.pause_button, self.stop_button = (
            QPushButton("Start"),
            QPushButton("Pause"),
            QPushButton("Stop"),
        )
        self.start_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.start_button.setToolTip(start_tip)
        self._start_tip, self._blocked = start_tip, cast(str | None, None)
        self.pause_button.setToolTip(pause_tip)
        self.stop_button.setToolTip(stop_tip)
        self.status = MessageLabel(idle, lines=3)
        for b, name in (
            (self.start_button, "Start"),
            (self.pause_button, "Pause or resume"),
            (self.stop_button, "Stop"),
        ):
            b.setAccessibleName(name)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self._set_running(False)

    def block_start(self, reason: str | None) -> None:
        """Disable Start while the pane's form is invalid (``reason`` in Start's tooltip); None allows it."""
        self._blocked = reason
        self._set_running(self.job is not None)
        self.start_button.setToolTip(reason or self._start_tip)

    def attach(self, job: Job | None) -> None:
        """The job the buttons now control; None once it has finished."""
        self.job = job
        self._set_running(job is not None)

    def set_status(self, text: str, error: bool = False, kind: str = "info") -> None:
        """The status line; red only for ``error`` (a real problem), a tick for ``kind="success"``."""
        self.status.set_message(text, "error" if error else kind)

    def toggle_pause(self) -> None:
        if self.job is None:
            return
        if self.job.paused:
            self.job.resume()
            self.set_status(self._texts["running"])
        elif self.job.pause():
            self.set_status(self._texts["paused"])
        self.pause_button.setText("Resume" if self.job.paused else "Pause")

    def stop(self) -> None:
        """Ask the job to stop (it finishes the unit in flight); the pane reports the end."""
        if self.job is not None:
            self.set_status(self._texts["stopping"])
            self.job.cancel()
            self.stop_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        can_pause = running and getattr(self.job, "can_pause", False)
        self.start_button.setEnabled(not running and not self._blocked)
        self.pause_button.setEnabled(can_pause)
        self.pause_button.setText("Pause")
        if running and not can_pause:
            self.pause_button.setToolTip(f"Pausing is not available on this system; Stop keeps {self._texts['kept']}")
        self.stop_button.setEnabled(running)
        self.running_changed.emit(running)
