"""Persona pane: `vspectrum persona run` with a form. Choose personas, models, the strategy
(Simple, ISQ or the Control policy) and the feed (the simulator or a real platform); start,
pause, stop; watch each screenshot and the model's decision arrive with the running yes-rate
per trial and the served topic mix. Past sessions can be resumed or replayed to another model;
their reports and the paper's Tables 3-8 are in Results; the persona library in Personas."""

from __future__ import annotations

from typing import Any

import tempfile
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core import events
from vspectrum_app.core.protocol import CAPTURE_AT_S
from vspectrum_app.persona import ops as persona_ops
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.feed_options import SimulatorBox, platform_combo
from vspectrum_app.gui.job_controls import JobControls
from vspectrum_app.gui.jobs import Job, result_of
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.panes.persona_library import PersonaLibraryWidget
from vspectrum_app.gui.panes.persona_live import LiveView
from vspectrum_app.gui.panes.persona_results import SessionResults

STRATEGIES = [
    ("Simple (yes / no)", "simple"),
    ("ISQ (seven questions, S%)", "isq"),
    ("Control (random watching, no model)", "control"),
]
SELECT_ROW = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
SESSION_HEADERS = ["Session", "Created", "Persona", "Model", "Strategy", "Platform", "Status", "Videos", "Note"]


class FormError(Exception):
    """What is missing or wrong in the form, in one sentence; ``field``: the control it is about."""

    def __init__(self, message: str, field: QWidget | None = None):
        super().__init__(message)
        self.field = field


def default_window(videos: int) -> int:
    """The paper's window of 50, or half the trial when the trial is shorter (first and last n must fit)."""
    return max(1, min(50, videos // 2))


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    return spin


def _dspin(lo: float, hi: float, value: float, suffix: str = "", decimals: int = 1) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(lo, hi)
    spin.setDecimals(decimals)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin


def _bounded(combo: QComboBox, chars: int = 20) -> QComboBox:
    """A combo whose items (session ids, runs) may be long: it asks for ``chars`` characters, elides
    the rest, and its list is as wide as it needs; it never widens the form."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    combo.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
    return combo


def _checked(widget: QListWidget) -> list[str]:
    return [
        widget.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(widget.count())
        if widget.item(i).checkState() == Qt.CheckState.Checked
    ]


class Checklist(QListWidget):
    """Checkable items, as tall as they are up to ``max_height``, then it scrolls: a model list
    of three lines does not take the room of eight. A long name wraps onto a second line
    rather than hiding behind a sideways scroll bar."""

    def __init__(self, max_height: int):
        super().__init__()
        self.max_height = max_height
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        rows = sum(self.sizeHintForRow(i) for i in range(self.count()))
        rows = max(rows, self.fontMetrics().height() + 4)  # an empty list still reads as a list
        return QSize(super().sizeHint().width(), min(self.max_height, rows + 2 * self.frameWidth()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.sizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.updateGeometry()  # a new width wraps names onto more or fewer lines


def _fill_checklist(widget: QListWidget, entries: list[tuple[str, str]]) -> None:
    """(value, tooltip) entries as checkable items, keeping what was checked."""
    checked = set(_checked(widget))
    widget.clear()
    for value, tooltip in entries:
        item = QListWidgetItem(value)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setToolTip(f"{value}\n{tooltip}" if tooltip else value)  # the name in full, then what it is
        item.setCheckState(Qt.CheckState.Checked if value in checked else Qt.CheckState.Unchecked)
        widget.addItem(item)
    widget.updateGeometry()


class PersonaPane(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.job: Job | None = None
        self._prompt_dir = tempfile.TemporaryDirectory(prefix="vspectrum-prompts-")
        self._prompts: dict[str, str] = {}  # the edited prompt per strategy
        self._error: str | None = None

        self.live = LiveView(ctx)
        self.library = PersonaLibraryWidget(ctx)
        self.results = SessionResults(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.live, "Live")
        self.tabs.addTab(self._build_sessions(), "Sessions")
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.library, "Personas")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        form = self._build_form()
        scroll.setWidget(form)
        scroll.setMinimumWidth(min(320, form.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()))
        left = QWidget()  # the form scrolls; Start and the status stay in view below it
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addWidget(self.form_error)
        left_layout.addWidget(self.controls)
        outer = QSplitter()
        outer.addWidget(left)
        outer.addWidget(self.tabs)
        outer.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(outer)

        self.library.changed.connect(self._load_personas)
        ctx.workspace_changed.connect(self._load_personas)
        ctx.workspace_changed.connect(self.load_sessions)
        ctx.providers_changed.connect(self._load_models)
        self._strategy_changed()
        self._platform_changed()
        self._load_personas()
        self._load_models()
        self.load_sessions()
        ctx.workspace_changed.connect(self.validate)
        ctx.providers_changed.connect(self.validate)
        self.validate()

    # -- building -----------------------------------------------------------------------
    def _build_form(self) -> QWidget:
        from vspectrum_app.crawl.browser import has_display

        config = QGroupBox("Persona session")
        form = QFormLayout(config)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # labels go above fields when narrow
        self.personas, self.models = Checklist(max_height=170), Checklist(max_height=130)
        self.strategy, self.platform = QComboBox(), platform_combo()
        for label, value in STRATEGIES:
            self.strategy.addItem(label, value)
        self.control_rate = _dspin(0, 1, 0.2, decimals=2)
        self.control_rate.setSingleStep(0.05)
        self.match = QComboBox()
        _bounded(self.match)
        self.match.setToolTip("Watch as often as this session did (the paper's control)")
        self.control_box = QGroupBox("Control")
        control_form = QFormLayout(self.control_box)
        control_form.addRow("Match session", self.match)
        control_form.addRow("Or watch rate", self.control_rate)
        self.threshold = _dspin(0, 100, 60, " %")
        self.threshold.setToolTip("ISQ: watch when S% exceeds this")
        self.speed = _dspin(0.1, 1000, 10, " x")
        self.speed.setToolTip("The simulator's clock runs this much faster than real time")
        self.sim_box = SimulatorBox([("Clock speed", self.speed)])
        self.skin, self.images = self.sim_box.skin, self.sim_box.images
        self.trials, self.scrolls = _spin(1, 1000, 10), _spin(1, 10_000, 100)
        self.window_n = _spin(1, 10_000, default_window(self.scrolls.value()))
        self._window_edited = False  # until the user sets it, the window follows the trial length
        self.trials.setToolTip("Each trial starts on a fresh feed profile")
        self.window_n.setToolTip(
            "n of the first and last n videos compared (at most the videos per trial; "
            "default 50, or half the trial when shorter)"
        )
        # why Start is disabled, beside the Start button; in space kept for it, so nothing moves
        self.form_error = MessageLabel(lines=2, reserve=True)
        self.field_errors: dict[QWidget, MessageLabel] = {}
        self.watch = _dspin(0, 3600, 45, " s")
        self.capture_at = _dspin(0, 60, CAPTURE_AT_S, " s")
        self.seed = _spin(0, 2**31 - 1, 0)
        self.show_browser = QCheckBox("Show the browser window")
        self.show_browser.setChecked(has_display())
        self.show_browser.setEnabled(has_display())
        self.show_browser.setToolTip(
            "Watch the feed, log in or solve a captcha when asked"
            if has_display()
            else "No display: the browser runs headless"
        )
        self.custom_prompt = QCheckBox("Edit the prompt")
        self.prompt = QPlainTextEdit()
        self.prompt.setToolTip(
            "{traits}: the persona's numbered statements, {max_trait}: their count; double other braces"
        )
        self.custom_prompt.toggled.connect(self.prompt.setVisible)
        self.prompt.textChanged.connect(self._prompt_edited)
        rows: tuple[tuple[str | None, QWidget], ...] = (
            ("Personas", self.personas),
            ("Models", self.models),
            ("Strategy", self.strategy),
            (None, self.control_box),
            ("ISQ threshold", self.threshold),
            ("Platform", self.platform),
            (None, self.sim_box),
            ("Trials", self.trials),
            ("Videos per trial", self.scrolls),
            ("Window (first/last n)", self.window_n),
            ("Watch on yes", self.watch),
            ("Screenshot at", self.capture_at),
            ("Seed", self.seed),
            (None, self.show_browser),
            (None, self.custom_prompt),
            (None, self.prompt),
        )
        for row_label, widget in rows:
            if row_label:
                form.addRow(row_label, widget)
            else:
                form.addRow(widget)
            if widget in (self.personas, self.models, self.window_n, self.prompt):
                # the reason, right under its field, on a line kept for it (the tooltip has it all)
                self.field_errors[widget] = MessageLabel(lines=1, reserve=True)
                form.addRow("", self.field_errors[widget])
        self.controls = JobControls(
            start_tip="Start a session per persona and model (Ctrl+Return)",
            pause_tip="Freeze the session where it stands; Resume continues it",
            stop_tip="Stop after the video in flight; every video so far is saved and the session can be resumed "
            "from the Sessions tab",
            idle="No session yet.",
            running="Running...",
            paused="Paused: Resume continues the session.",
            stopping="Stopping after the video in flight...",
            kept="every video so far",
        )
        self.start_button, self.pause_button, self.stop_button, self.status = (  # the names tests use
            self.controls.start_button,
            self.controls.pause_button,
            self.controls.stop_button,
            self.controls.status,
        )
        self.strategy.currentIndexChanged.connect(self._strategy_changed)
        self.scrolls.valueChanged.connect(self._scrolls_changed)
        self.window_n.valueChanged.connect(
            lambda _: setattr(self, "_window_edited", self.window_n.hasFocus() or self._window_edited)
        )
        for signal in (
            self.personas.itemChanged,
            self.models.itemChanged,
            self.strategy.currentIndexChanged,
            self.scrolls.valueChanged,
            self.window_n.valueChanged,
            self.custom_prompt.toggled,
            self.prompt.textChanged,
        ):
            signal.connect(lambda *_: self.validate())
        self.platform.currentIndexChanged.connect(self._platform_changed)
        self.controls.start_requested.connect(self.start)
        self.controls.running_changed.connect(lambda _running: self._update_session_buttons())
        return config

    def _build_sessions(self) -> QWidget:
        self.sessions = QTableWidget(0, len(SESSION_HEADERS))
        self.sessions.setHorizontalHeaderLabels(SESSION_HEADERS)
        self.sessions.horizontalHeader().setStretchLastSection(True)
        self.sessions.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.sessions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.sessions.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.sessions.itemSelectionChanged.connect(self._sessions_selected)
        self.resume_button, self.replay_button = QPushButton("Resume"), QPushButton("Replay to model...")
        self.results_button, refresh = QPushButton("Show results"), QPushButton("Refresh")
        self.resume_button.setToolTip("Go on with the selected unfinished sessions; nothing finished is redone")
        self.replay_button.setToolTip(
            "Counterfactual replay: show the selected finished session's recorded feed "
            "to another model (or persona, or strategy)"
        )
        self.resume_button.clicked.connect(lambda: self.resume_sessions(self._resumable()))
        self.replay_button.clicked.connect(self._replay_clicked)
        self.results_button.clicked.connect(lambda: self.tabs.setCurrentWidget(self.results))
        refresh.clicked.connect(lambda: self.load_sessions())
        buttons = QHBoxLayout()
        for b in (self.resume_button, self.replay_button, self.results_button, refresh):
            buttons.addWidget(b)
        buttons.addStretch()
        widget = QWidget()
        layout = QVBoxLayout(widget)
        layout.addWidget(self.sessions, 1)
        layout.addLayout(buttons)
        return widget

    # -- form ---------------------------------------------------------------------------
    def _load_personas(self) -> None:
        if self.ctx.workspace is None:
            return _fill_checklist(self.personas, [])
        from vspectrum_app.persona.personas import PersonaLibrary

        _fill_checklist(
            self.personas, [(p.name, "\n".join(p.statements)) for p in PersonaLibrary(self.ctx.workspace).all()]
        )

    def _load_models(self) -> None:
        _fill_checklist(self.models, [(m, "") for m in self._all_models()])

    def _all_models(self) -> list[str]:
        from vspectrum_app.providers.config import ProviderError, ProviderStore

        try:
            return [f"{p.name}:{model}" for p in ProviderStore().all() for model in p.models]
        except ProviderError as exc:
            self.controls.set_status(str(exc), error=True)
            return []

    def _prompt_edited(self) -> None:
        self._prompts[self.strategy.currentData()] = self.prompt.toPlainText()  # kept per strategy

    def _strategy_changed(self) -> None:
        from vspectrum_app.persona.prompts import PromptTemplates

        strategy = self.strategy.currentData()
        control = strategy == "control"
        self.control_box.setVisible(control)
        self.models.setEnabled(not control)
        self.threshold.setEnabled(strategy == "isq")
        self.custom_prompt.setEnabled(not control)
        self.prompt.setVisible(self.custom_prompt.isChecked() and not control)
        if not control:
            self.prompt.blockSignals(True)
            self.prompt.setPlainText(self._prompts.get(strategy, getattr(PromptTemplates(), strategy)))
            self.prompt.blockSignals(False)

    def _platform_changed(self) -> None:
        self.sim_box.setVisible(self.platform.currentData() == "sim")

    def _browser_options(self) -> persona_ops.BrowserOptions:
        return persona_ops.BrowserOptions(headless=None if self.show_browser.isChecked() else True)

    def run_params(self) -> persona_ops.Run:
        """The `vspectrum persona run` job for the form as it stands (FormError if incomplete)."""
        if self.ctx.workspace is None:
            raise FormError("Open a workspace first (File menu): sessions are kept in it.")
        personas, models, strategy = _checked(self.personas), _checked(self.models), self.strategy.currentData()
        if not personas:
            raise FormError("Tick at least one persona in the list above.", self.personas)
        if strategy != "control" and not models:
            raise FormError(
                "Tick at least one model (add a provider in Settings), or choose the Control "
                "strategy, which needs none.",
                self.models,
            )
        from vspectrum_app.persona.report import window_problem  # the runner's own check and sentence

        problem = window_problem(self.window_n.value(), self.scrolls.value())
        if problem:
            raise FormError(problem[0].upper() + problem[1:] + ".", self.window_n)
        chosen: dict[str, Any] = {}
        if strategy == "control":
            match = self.match.currentData()
            if match:
                chosen.update(match=match)
            else:
                chosen.update(control_rate=self.control_rate.value())
        platform = self.platform.currentData()
        if platform == "sim":
            skin, images = self.sim_box.choice()
            chosen.update(skin=skin, images=images, speed=self.speed.value())
        if strategy == "isq":
            chosen.update(threshold=self.threshold.value())
        if strategy != "control" and self.custom_prompt.isChecked():
            chosen.update(prompt_file=self._prompt_file(strategy))
        return persona_ops.Run(
            persona=tuple(personas),
            model=tuple(models) if strategy != "control" else (),
            strategy=strategy,
            platform=platform,
            trials=self.trials.value(),
            scrolls=self.scrolls.value(),
            window=self.window_n.value(),
            watch_s=self.watch.value(),
            capture_at_s=self.capture_at.value(),
            seed=self.seed.value(),
            run_options=self._browser_options(),
            **chosen,
        )

    def _prompt_file(self, strategy: str) -> Path:
        """The edited prompt, checked by filling it in for a sample persona, in a temporary file."""
        from vspectrum_app.persona.personas import Persona
        from vspectrum_app.persona.prompts import PromptError, PromptTemplates

        text = self.prompt.toPlainText()
        try:
            PromptTemplates(**{strategy: text}).render(strategy, Persona("sample", ("I like tea",)))
        except PromptError as exc:
            raise FormError(f"{str(exc)[0].upper()}{str(exc)[1:]}.", self.prompt) from None
        path = Path(self._prompt_dir.name) / f"{strategy}-prompt.txt"
        path.write_text(text, "utf-8")
        return path

    def _scrolls_changed(self, videos: int) -> None:
        if not self._window_edited:
            self.window_n.blockSignals(True)
            self.window_n.setValue(default_window(videos))
            self.window_n.blockSignals(False)

    def validate(self) -> str | None:
        """Check the form as it stands: Start is disabled and the reason shown beside the
        field (and beside Start) while it is invalid. Returns the reason, None when valid."""
        try:
            self.run_params()
        except FormError as exc:
            reason: str | None = str(exc)
            field = exc.field
        else:
            reason, field = None, None
        for widget, label in [*self.field_errors.items(), (None, self.form_error)]:
            shown = reason if (widget is None or widget is field) else None
            if label.full_text() != (shown or ""):  # set (and log) a message once, not per keystroke
                label.set_message(shown or "", "error" if shown else "info")
        self.controls.block_start(reason)
        return reason

    # -- actions ------------------------------------------------------------------------
    def start(self) -> None:
        if self.job is not None:
            return
        try:
            params = self.run_params()
        except FormError as exc:
            self.controls.set_status(str(exc), error=True)
            return
        self._launch("Persona run", params, "Running...")

    def resume_sessions(self, session_ids: list[str]) -> None:
        if session_ids and self.job is None:
            self._launch(
                f"Resume {', '.join(session_ids)}",
                persona_ops.Resume(sessions=tuple(session_ids), run_options=self._browser_options()),
                "Resuming...",
            )

    def start_replay(self, source: str, model: str, persona: str | None = None, strategy: str | None = None) -> None:
        if self.job is None:
            self._launch(
                f"Replay {source}",
                persona_ops.Replay(source=source, model=model, persona=persona, strategy=strategy),
                f"Replaying {source} to {model}...",
            )

    def _launch(
        self, title: str, params: persona_ops.Run | persona_ops.Resume | persona_ops.Replay, running_text: str
    ) -> None:
        if self.ctx.workspace is None:
            self.controls.set_status("Open a workspace first (File menu): sessions are kept in it.", error=True)
            return
        self.live.reset(self.scrolls.value())
        self._error = None
        self.job = job = self.ctx.run_job(title, params)
        job.received.connect(self._on_event)
        self.live.log.follow(job, self.live.progress)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._finished)
        self.controls.attach(job)
        self.controls.set_status(running_text)
        self.tabs.setCurrentWidget(self.live)

    # -- job events ---------------------------------------------------------------------
    def _on_event(self, event: events.Event) -> None:
        match event:
            case events.PersonaSession():
                self.live.session_started(event)
            case events.PersonaStep():
                self.live.add_step(event)
            case events.Result(data=persona_ops.SessionsRan() as result):
                for summary in result.summaries:
                    self.live.log.appendPlainText(summary)

    def _on_failed(self, message: str) -> None:
        self._error = message
        self.live.log.appendPlainText(f"error: {message}")

    def _finished(self, code: int) -> None:
        result = result_of(self.job, persona_ops.SessionsRan)
        self.job = None
        self.controls.attach(None)
        self.live.redraw()
        ids = list(result.session_ids if result is not None else ()) or self.live.session_ids
        done = self.live.run_steps
        if code == 0:
            self.controls.set_status(
                f"Finished: {len(ids)} session(s), {done} videos this run; see Results.", kind="success"
            )
        elif code == 130:
            self.controls.set_status(
                f"Stopped: {done} videos this run are saved; select the session under "
                f"Sessions and press Resume to go on."
            )
        else:
            self.controls.set_status(f"Failed: {self._error or f'exit code {code}'}", error=True)
        self.load_sessions(select=ids or None)

    # -- sessions -----------------------------------------------------------------------
    def load_sessions(self, select: list[str] | None = None) -> None:
        """The workspace's sessions, newest first; ``select``: the ones to select (default: as before)."""
        wanted = set(select if select is not None else self._selected_ids())
        self.sessions.blockSignals(True)
        self.sessions.setRowCount(0)
        self.match.clear()
        self.match.addItem("(none: use the watch rate)", None)
        rows = []
        if self.ctx.workspace is not None:
            from vspectrum_app.persona.store import SessionStore

            rows = list(reversed(SessionStore(self.ctx.workspace).list()))
        self.sessions.setRowCount(len(rows))
        for i, r in enumerate(rows):
            who = f"{r['provider']}:{r['model']}" if r["model"] else "control"
            note = (f"replay of {r['replay_of']}" if r["replay_of"] else "") + (f" {r['error']}" if r["error"] else "")
            cells = [
                r["id"],
                r["created_at"][:19].replace("T", " "),
                r["persona"],
                who,
                r["strategy"],
                r["platform"],
                r["status"],
                f"{r['steps']}/{r['total_steps']}",
                note.strip(),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                item.setData(Qt.ItemDataRole.UserRole, r)
                self.sessions.setItem(i, col, item)
            if r["id"] in wanted:
                self.sessions.selectionModel().select(self.sessions.model().index(i, 0), SELECT_ROW)
            if r["strategy"] != "control" and r["steps"]:
                self.match.addItem(f"{r['id']} ({r['persona']} / {who})", r["id"])
        self.sessions.resizeColumnsToContents()
        self.sessions.blockSignals(False)
        self._sessions_selected()

    def _selected_rows(self) -> list[dict[str, Any]]:
        rows = sorted({i.row() for i in self.sessions.selectedIndexes()})
        items = [self.sessions.item(r, 0) for r in rows]
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item is not None]

    def _selected_ids(self) -> list[str]:
        return [r["id"] for r in self._selected_rows()]

    def _resumable(self) -> list[str]:
        return [r["id"] for r in self._selected_rows() if r["status"] != "done"]

    def _sessions_selected(self) -> None:
        self._update_session_buttons()
        self.results.show_sessions(self._selected_ids())

    def _update_session_buttons(self) -> None:
        rows = self._selected_rows()
        idle = self.job is None
        self.resume_button.setEnabled(idle and bool(rows) and all(r["status"] != "done" for r in rows))
        self.replay_button.setEnabled(
            idle and len(rows) == 1 and rows[0]["status"] == "done" and rows[0]["strategy"] != "control"
        )
        self.results_button.setEnabled(bool(rows))

    def _replay_clicked(self) -> None:
        rows = self._selected_rows()
        models = self._all_models()
        if len(rows) != 1:
            return
        if not models:
            self.controls.set_status("Add a model provider in Settings first: a replay asks another model.", error=True)
            return
        names = [self.personas.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.personas.count())]
        dialog = ReplayDialog(self, rows[0], models, names)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.start_replay(rows[0]["id"], *dialog.choice())


class ReplayDialog(QDialog):
    """Which model (and optionally persona or strategy) a finished session's feed is shown to."""

    def __init__(self, parent: QWidget | None, session: dict[str, Any], models: list[str], personas: list[str]):
        super().__init__(parent)
        self.setWindowTitle(f"Replay {session['id']}")
        self.model, self.persona, self.strategy = QComboBox(), QComboBox(), QComboBox()
        self.model.addItems(models)
        self.persona.addItem(f"(the session's: {session['persona']})", None)
        for name in personas:
            self.persona.addItem(name, name)
        self.strategy.addItem(f"(the session's: {session['strategy']})", None)
        for label, value in STRATEGIES[:2]:
            self.strategy.addItem(label, value)
        form = QFormLayout(self)
        form.addRow(QLabel("The recorded screenshots are asked again; the feed does not react."))
        form.addRow("Model", self.model)
        form.addRow("Persona", self.persona)
        form.addRow("Strategy", self.strategy)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[str, str | None, str | None]:
        return self.model.currentText(), self.persona.currentData(), self.strategy.currentData()
