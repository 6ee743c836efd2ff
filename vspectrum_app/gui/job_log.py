"""What a running job (gui.jobs.Job) says, shown alike in every pane: its progress bar
(``JobProgress``) and its log lines (``JobLog``), beside the buttons of job_controls.py. One copy
of the progress and log handlers; each pane places the two widgets where its layout wants."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPlainTextEdit, QProgressBar, QWidget

from vspectrum_app.gui.jobs import Job

MAX_LOG_LINES = 5000  # a day-long crawl's log stays bounded


class JobProgress(QProgressBar):
    """Done of total, a busy bar while the total is unknown (0), and the job's latest message
    in the bar unless ``with_message`` is off (the pane shows it elsewhere)."""

    message = Signal(str)  # every non-empty progress message

    def __init__(self, parent: QWidget | None = None, *, with_message: bool = True):
        super().__init__(parent)
        self.with_message = with_message

    def start(self, total: int = 0) -> None:
        """A new job: nothing done of ``total`` (0: not known yet, a busy bar)."""
        self.resetFormat()
        self.setRange(0, max(total, 0))
        self.setValue(0)

    def on_progress(self, done: int, total: int, message: str = "") -> None:
        self.setRange(0, total if total > 0 else 0)
        self.setValue(done)
        if message:
            if self.with_message:
                self.setFormat(f"%v/%m  {message}")
            self.message.emit(message)


class JobLog(QPlainTextEdit):
    """A job's log lines, read-only and bounded; a warning or an error says so in front."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LOG_LINES)

    def on_log(self, level: str, message: str) -> None:
        self.appendPlainText(message if level == "info" else f"{level}: {message}")

    def follow(self, job: Job, progress: JobProgress | None = None) -> None:
        """Show ``job``'s log lines here and its progress in ``progress``."""
        job.log.connect(self.on_log)
        if progress is not None:
            job.progress.connect(progress.on_progress)
