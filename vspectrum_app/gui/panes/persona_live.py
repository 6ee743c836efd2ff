"""The Persona pane's live view: the session's newest screenshot with the model's decision (and
S% for ISQ), counters, progress, the running yes-rate per trial and the served topic mix, and
the job's log. Fed by the job's `persona_session` and `persona_step` events; the plots and the
screenshot redraw on a timer, never per event."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QImageReader, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core import events
from vspectrum_app.gui import style
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.job_log import JobLog, JobProgress
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.panes.persona_results import SeriesPlot, mix_bucket, mix_series, yes_rate_series

SHOT = QSize(256, 160)  # the browser's viewport is 1280 x 800 (1.6:1)
REDRAW_MS = 100
DECISIONS = {
    "yes": ("Yes: watches {dwell:g} s", "#1b7f3b"),
    "no": ("No: scrolls on", "#444444"),
    "unparsed": ("Unclear answer (neither yes nor no): scrolls on, counted as no", "#b36b00"),
    "refusal": ("Refused to answer: scrolls on", "#b36b00"),
}
DECISION_STYLE = "font-size: 16pt; font-weight: bold; color: {color}"


def _scaled(path: str | None) -> QPixmap:
    """A screenshot decoded at label size (it is a full browser viewport)."""
    reader = QImageReader(path or "")
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(SHOT, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return QPixmap.fromImage(image) if not image.isNull() else QPixmap()


def mix_title(labelled: bool, any_steps: bool, platform: str | None) -> str:
    """The topic-mix plot's title: what it shows, or why it is empty."""
    if labelled or not any_steps:
        return "Served topic mix (simulator ground truth)"
    if platform == "sim":
        return (
            "Served topic mix: the simulator's images carry no topics (give them a topics column in their metadata CSV)"
        )
    return "Served topic mix: real platforms do not label their videos"


class LiveView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.header, self.shot, self.decision, self.info, self.counters = (
            QLabel("No session running."),
            QLabel(),
            QLabel(),
            QLabel(),
            QLabel(),
        )
        self.shot.setFixedSize(SHOT)
        self.shot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.shot.setStyleSheet(f"background: {style.panel_color()}")
        for label in (self.header, self.decision, self.info, self.counters):
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.counters.setToolTip(
            "Unclear: the model's answer was neither yes nor no (it counts as no, as in the "
            "paper). Refusals: the model declined to role-play."
        )
        self.platform: str | None = None
        self.call_button = QPushButton("The model's answer...")
        self.call_button.setToolTip("The model call behind this decision: what it was asked and its raw answer")
        self.call_button.setEnabled(False)
        self.call_button.clicked.connect(lambda: self.show_call())
        self.call_dialog: QDialog | None = None
        side = QVBoxLayout()
        for widget in (self.decision, self.call_button, self.info, self.counters):
            side.addWidget(widget)
        side.addStretch()
        top = QHBoxLayout()
        top.addWidget(self.shot)
        top.addLayout(side, 1)
        self.progress = JobProgress()
        self.yes_plot = SeriesPlot("Yes-rate per trial", "video in the trial", "yes so far (%)")
        self.mix_plot = SeriesPlot("Topic mix served", "video in the trial", "share of videos (%)", symbols=True)
        self.yes_plot.setToolTip("The running share of yes answers in each trial, video by video")
        self.mix_note = MessageLabel(lines=2)  # what the topic mix shows, or why it is empty
        self.log = JobLog()
        for plot in (self.yes_plot, self.mix_plot):
            plot.setMinimumSize(180, 160)  # below this the pane scrolls instead of crushing the plots
        plots = QSplitter()
        plots.addWidget(self.yes_plot)
        mix = QWidget()
        mix_layout = QVBoxLayout(mix)
        mix_layout.setContentsMargins(0, 0, 0, 0)
        mix_layout.addWidget(self.mix_plot, 1)
        mix_layout.addWidget(self.mix_note)
        plots.addWidget(mix)
        lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(plots)
        lower.addWidget(self.log)
        lower.setStretchFactor(0, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(lower, 1)
        self.reset(100)
        self.progress.setRange(0, 1)  # idle until a job starts
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.redraw)
        self.timer.start()

    def reset(self, scrolls: int) -> None:
        """A new job: ``scrolls`` sets the topic mix's buckets until a session says its own."""
        self.steps: list[Any] = []  # the current session's steps (store.Step), for the plots
        self.counts = dict.fromkeys(DECISIONS, 0)
        self.run_steps = 0  # steps that arrived in this job, all sessions
        self.session_ids: list[str] = []  # the sessions this job ran, in order
        self.latest: events.PersonaStep | None = None  # the newest step event, shown at the next redraw
        self.spent: tuple[int, str] = (0, "")  # the job's model calls and their cost, as the core says it
        self.shown_image: str | None = None
        self.bucket = mix_bucket(scrolls)
        self.threshold: float | None = None
        self.log.clear()
        self.progress.start()
        self._dirty = True

    # -- events -------------------------------------------------------------------------
    def session_started(self, e: events.PersonaSession) -> None:
        """A new session's view; a resumed one starts from its recorded steps."""
        from vspectrum_app.persona.store import PersonaSessionError, SessionStore

        sid = e.session_id
        self.session_ids.append(sid)
        self.steps, self.counts, self.latest = [], dict.fromkeys(DECISIONS, 0), None
        self.spent = (0, "")  # each session counts its own calls
        what = f"replay of {e.replay_of}" if e.replay_of else f"{e.index}/{e.count}"
        try:
            if self.ctx.workspace is None:
                raise PersonaSessionError("no workspace is open")
            store = SessionStore(self.ctx.workspace)
            cfg = store.config(sid)
            self.steps = store.steps(sid)
        except PersonaSessionError:
            self.header.setText(f"Session {sid} ({what})")
        else:
            who = f"{cfg.provider}:{cfg.model}" if cfg.model else "control policy"
            self.header.setText(
                f"Session {sid} ({what}): {cfg.persona['name']} / {who} / {cfg.strategy} / {cfg.platform}"
            )
            self.bucket = mix_bucket(cfg.scrolls)
            self.platform = cfg.platform
            self.threshold = cfg.threshold if cfg.strategy == "isq" else None
            for s in self.steps:
                self.counts[s.decision] = self.counts.get(s.decision, 0) + 1
        self._dirty = True

    def add_step(self, e: events.PersonaStep) -> None:
        from vspectrum_app.persona.store import Step

        self.steps.append(
            Step(
                trial=e.trial,
                position=e.position,
                decision=e.decision,
                dwell_s=float(e.dwell_s or 0),
                item_id=e.item_id,
                item_topics=list(e.topics or []),
                score=e.score,
                related=e.related,
            )
        )
        self.counts[e.decision] = self.counts.get(e.decision, 0) + 1
        self.run_steps += 1
        self.latest = e
        if e.calls:
            self.spent = (e.calls, e.cost)
        self._dirty = True
        score = f" (S% {e.score:.1f})" if e.score is not None else ""
        topics = f"; {', '.join(e.topics)}" if e.topics else ""
        self.log.appendPlainText(f"trial {e.trial + 1}, video {e.position + 1}: {e.decision}{score}{topics}")

    # -- drawing ------------------------------------------------------------------------
    def redraw(self) -> None:
        if not self._dirty:
            return
        from vspectrum_app.persona.report import cumulative_yes_rate, topic_mix

        self._dirty = False
        self.yes_plot.set_series(yes_rate_series(cumulative_yes_rate(self.steps)))
        labelled = any(s.item_topics for s in self.steps)
        self.mix_plot.set_series(mix_series(topic_mix(self.steps, self.bucket)) if labelled else {})
        note = mix_title(labelled, bool(self.steps), self.platform)
        if note != self.mix_note.full_text():
            self.mix_note.set_message(note)
        from vspectrum_app.persona.report import live_summary

        self.counters.setText(live_summary(self.steps, *self.spent))
        if self.latest is not None:
            self._show_step(self.latest)

    def show_call(self) -> None:
        """The drill-down: the model call behind the newest decision, in a small dialog."""
        from vspectrum_app.persona.calls import describe_call
        from vspectrum_app.persona.store import SessionStore

        e = self.latest
        if e is None or e.session_id is None or self.ctx.workspace is None:
            return
        call = SessionStore(self.ctx.workspace).call(e.session_id, e.trial, e.position)
        text = describe_call(call) if call else "No model call behind this decision (a control policy decides alone)."
        dialog = self.call_dialog = QDialog(self)
        dialog.setWindowTitle(f"Model call: trial {e.trial + 1}, video {e.position + 1}")
        view = QPlainTextEdit(text)
        view.setReadOnly(True)
        view.setAccessibleName("The model call")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(view)
        layout.addWidget(buttons)
        dialog.resize(560, 420)
        dialog.open()

    def _show_step(self, e: events.PersonaStep) -> None:
        self.call_button.setEnabled(e.session_id is not None)  # a control step's dialog says it has none
        text, color = DECISIONS.get(e.decision, (e.decision, "#444444"))
        text = text.format(dwell=float(e.dwell_s or 0))
        if e.score is not None:
            text += f"\nS% {e.score:.1f}" + (f" (watch above {self.threshold:g})" if self.threshold else "")
        self.decision.setText(text)
        self.decision.setStyleSheet(DECISION_STYLE.format(color=color))
        topics = ", ".join(e.topics or [])
        related = "" if e.related is None else " (on-persona)" if e.related else " (off-persona)"
        self.info.setText(
            f"Trial {e.trial + 1}, video {e.position + 1}"
            + (f": {e.item_id}" if e.item_id else "")
            + (f"\nTopics: {topics}{related}" if topics else "")
        )
        if e.image != self.shown_image:
            self.shown_image = e.image
            self.shot.setPixmap(_scaled(self.shown_image))
            self.shot.setToolTip(self.shown_image or "")
