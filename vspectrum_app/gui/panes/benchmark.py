"""Benchmark pane: choose models, values, keyword set, k and repeats; see the estimate (kept
up to date as the form changes); start, pause (a cooperative stop that can be resumed),
resume; watch scores live, with every wait for a rate limit or a retry named."""

from __future__ import annotations

from typing import Any

import time
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.bench import ops as bench_ops
from vspectrum_app.core import events
from vspectrum_app.core.values import SCHWARTZ_VALUES
from vspectrum_app.core.workspace import Workspace
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.job_log import JobProgress
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.plots import BarPlot, RadarPlot
from vspectrum_app.gui.jobs import Job
from vspectrum_app.gui.workers import Worker, while_current

if TYPE_CHECKING:
    from vspectrum_app.core.locks import Holder
    from vspectrum_app.library.keywords import KeywordSet

REDRAW_MS = 100  # live plots redraw on a timer, never per event
ESTIMATE_DELAY_MS = 800  # the estimate refreshes this long after the form stops changing
MAX_TABLE_ROWS = 5000

# Plain words for the terms a run reports (shown as tooltips where they appear).
TERMS = {
    "from the workspace": "Calls already answered in this workspace (same provider, model, settings, prompt and "
    "image) are reused instead of being sent again: they cost nothing and take no time.",
    "unparsed": 'The answer to "Do you like ...?" had neither a clear yes nor a clear no (e.g. "not sure"). '
    "It is kept and shown, but left out of the score.",
    "refusal": 'The model declined to answer (e.g. "As an AI I have no preferences"). Kept, left out of the score.',
    "items": 'An item is one question about one image for one model: "Do you like ...?" then "Why?" then '
    '"Describe it", so three calls per item (two for text-only models).',
}


def live_series(answers: list[dict[str, Any]]) -> dict[str, dict[str, tuple[Any, ...]]]:
    """The live plots' points: per model (and answer mode), per value, (score, low, high) from
    the report's own scoring (bench.report.live_scores: clustered interval), never recomputed here."""
    from vspectrum_app.bench.report import live_scores

    by_wording: dict[str, list[dict[str, Any]]] = defaultdict(
        list
    )  # a run with --prompt-variants: a series per wording
    for a in answers:
        by_wording[a.get("variant") or "paper"].append(a)
    series: dict[str, dict[str, tuple[Any, ...]]] = defaultdict(dict)
    for variant, group in by_wording.items():
        for s in live_scores(group):
            if s["score"] is not None:
                name = series_name(s["target"], variant)
                name = name if s["mode"] == "vlm" else f"{name} ({s['mode']})"
                series[name][s["value"]] = (s["score"], s["ci_low"], s["ci_high"])
    return dict(series)


def keyword_set_label(ks: KeywordSet) -> str:
    """A keyword set as a person reads it: its name and size, not its ``name@hash`` id."""
    return f"{ks.name} ({sum(len(k) for k in ks.values.values())} keywords)"


def describe_retrieval(estimate: events.Estimate) -> tuple[str, str]:
    """What the estimate says about retrieval, before anything is sent: the values whose keywords
    found fewer than k images (a warning, with what to do), then every value's count per keyword."""
    counts, k = estimate.retrieval or {}, estimate.k or 0
    if not counts:
        return "", "info"
    short = estimate.shortfall or {}
    detail = "; ".join(
        f"{value} {sum(kws.values())}/{k * len(kws)}: " + ", ".join(f"{kw} {n}" for kw, n in kws.items())
        for value, kws in counts.items()
    )
    if not short:
        return f"Every keyword found {k} images. Per value: {detail}", "info"
    lacking = ", ".join(f"{value} ({', '.join(f'{kw} {n}' for kw, n in kws.items())})" for value, kws in short.items())
    return (
        f"Too few images for some keywords (wanted {k} each): {lacking}. Import more screenshots or lower "
        f"Images per keyword. Per value: {detail}",
        "error",
    )


def run_holder(ws: Workspace, run_id: str) -> Holder | None:
    """The process running ``run_id`` now (core.locks), or None when nobody does."""
    from vspectrum_app.bench.store import RUN_LOCK
    from vspectrum_app.core.locks import lock_holder

    return lock_holder(ws.root, RUN_LOCK, run_id)


def series_name(target: str, variant: str) -> str:
    """A live series: the model, and the wording unless it is the run's own question, so that
    a run with several wordings (--prompt-variants) draws one series per wording."""
    return target if variant == "paper" else f"{target} · {variant}"


def _unfinished_runs(ws: Workspace) -> tuple[list[tuple[str, str]], list[str]]:
    """(run id, what the resume list says) for each unfinished run, and the runs another process holds."""
    from vspectrum_app.bench.store import RunStore

    store = RunStore(ws)
    labels = store.labels()
    offered, held = [], []
    for run in store.runs():
        if run["status"] != "done" and run["done"] < run["total"]:
            holder = run_holder(ws, run["id"])
            if holder is not None:  # another process is running it: resuming would pay twice
                held.append(f"{run['id']} (run by {holder.describe()})")
                continue
            name = labels.get(run["id"], {}).get("name") or run["id"]
            offered.append((run["id"], f"{name}: {run['done']}/{run['total']} items, {', '.join(run['targets'])}"))
    return offered, held


def _fit_height(checklist: QListWidget, most: int = 200) -> None:
    """A checklist as tall as its items (two rows at least), up to ``most`` px; then it scrolls."""
    row = checklist.sizeHintForRow(0) if checklist.count() else checklist.fontMetrics().lineSpacing() + 4
    rows = max(checklist.count(), 2)
    checklist.setFixedHeight(min(most, row * rows + 2 * checklist.frameWidth() + 4))


class BenchmarkPane(QWidget):
    unfinished_loaded = Signal()  # the unfinished runs are listed (read on the worker pool)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.job: Job | None = None
        self._worker = Worker(self)  # listing the runs counts every run's items: off the GUI thread
        self._listing = 0  # a list from an older request is dropped
        self.run_id: str | None = None
        self._estimate_job: Job | None = None
        self.answers: list[dict[str, Any]] = []  # the run's answers so far, as the report scores them
        self._dirty = False
        self._wait: tuple[float, events.Waiting] | None = None  # (monotonic deadline, the waiting event)
        self._status: events.RunStatus | None = None  # the engine's latest status
        self._thumbs: tuple[Workspace | None, dict[int, str]] = (None, {})  # (workspace, image id -> thumbnail path)

        # -- configuration: the form scrolls on a small screen; the estimate and the buttons stay in view
        config = QGroupBox("Run")
        form = QFormLayout(config)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # labels above fields when narrow
        self.models = QListWidget()
        self.models.setToolTip("Tick the models that answer. Models come from the providers in Settings.")
        self.models.setAccessibleName("Models")
        self.values = QListWidget()
        self.values.setAccessibleName("Values")
        for value in SCHWARTZ_VALUES:
            item = QListWidgetItem(value)
            item.setCheckState(Qt.CheckState.Checked)
            self.values.addItem(item)
        for lst in (self.models, self.values):
            _fit_height(lst)
        self.keyword_set = QComboBox()
        self.keyword_set.setAccessibleName("Keyword set")
        self.keyword_set.setToolTip(
            "The keywords used to pick images for each value (the paper's set by default). "
            "Each run records the exact keywords it used."
        )
        self.keyword_set.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.keyword_set.setMinimumContentsLength(12)
        self.k = QSpinBox()
        self.k.setRange(1, 50)
        self.k.setValue(5)
        self.k.setToolTip("How many of the closest screenshots each keyword retrieves")
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 20)
        self.repeats.setToolTip("How many times each model answers each image (repeats measure its consistency)")
        form.addRow(QLabel("Models"))
        form.addRow(self.models)
        form.addRow(QLabel("Values"))
        form.addRow(self.values)
        form.addRow("Keyword set", self.keyword_set)
        form.addRow("Images per keyword", self.k)
        form.addRow("Answers per image", self.repeats)
        from vspectrum_app.gui.panes.wordings_box import WordingsBox

        self.wordings = WordingsBox()  # --prompt-variants: every image asked under each wording
        form.addRow(QLabel("Question wordings"))
        form.addRow(self.wordings)
        self.batch = QCheckBox("Batch (half price)")
        self.batch.setToolTip(
            "Send OpenAI and Anthropic requests through their batch APIs: half the price, answers within "
            "24 hours per round (the three questions are three rounds). Other providers are asked live."
        )
        form.addRow(self.batch)
        config_area = QScrollArea()
        form_column = QWidget()  # the form at its own height: on a tall screen the room is below it,
        fc = QVBoxLayout(form_column)  # not spread between its rows (labels floating in gaps)
        fc.setContentsMargins(0, 0, 0, 0)
        fc.addWidget(config)
        fc.addStretch(1)
        config_area.setWidget(form_column)
        config_area.setWidgetResizable(True)
        config_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the form fits its width
        config_area.setFrameShape(QFrame.Shape.NoFrame)
        self.form_hint = MessageLabel(lines=2)
        self.estimate_label = MessageLabel(lines=5)
        self.estimate_label.setToolTip(TERMS["items"])
        self.retrieval_label = MessageLabel(lines=3)
        buttons = QHBoxLayout()
        self.estimate_button, self.start_button = QPushButton("Estimate"), QPushButton("Start")
        self.start_button.setShortcut("Ctrl+Return")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Stops after the calls in flight; Resume continues where it stopped")
        self.pause_button.setEnabled(False)
        for b in (self.estimate_button, self.start_button, self.pause_button):
            buttons.addWidget(b)
        self.resume_combo = QComboBox()
        self.resume_combo.setAccessibleName("Unfinished runs")
        self.resume_combo.setToolTip("Runs that stopped before every item was answered")
        self.resume_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.resume_combo.setMinimumContentsLength(12)
        self.resume_button = QPushButton("Resume")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip(
            "Delete the chosen unfinished run and its answers (after asking). Answers "
            "other runs can reuse stay in the workspace."
        )
        for combo in (self.keyword_set, self.resume_combo):  # a name cut short is whole in the tooltip
            combo.currentTextChanged.connect(
                lambda text, c=combo, tip=combo.toolTip(): c.setToolTip(f"{text}\n\n{tip}" if text else tip)
            )
        resume_row = QHBoxLayout()
        resume_row.addWidget(self.resume_combo, 1)
        resume_row.addWidget(self.resume_button)
        resume_row.addWidget(self.delete_button)
        self.estimate_button.clicked.connect(lambda: self.estimate())
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button.clicked.connect(lambda: self.pause())
        self.resume_button.clicked.connect(lambda: self.resume())
        self.delete_button.clicked.connect(lambda: self.delete_run())
        left = QWidget()
        # as wide as the narrowest form (its rows wrapped) and a scroll bar: never scrolled sideways
        left.setMinimumWidth(
            max(260, form_column.minimumSizeHint().width() + config_area.verticalScrollBar().sizeHint().width())
        )
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.addWidget(config_area, 1)
        lcol.addWidget(self.form_hint)
        lcol.addWidget(self.estimate_label)
        lcol.addWidget(self.retrieval_label)
        lcol.addLayout(buttons)
        lcol.addWidget(QLabel("Unfinished runs"))
        lcol.addLayout(resume_row)

        # -- an interrupted run is offered for resuming when the workspace opens
        self.resume_frame = QFrame()
        self.resume_frame.setObjectName("resumeBanner")
        self.resume_frame.setStyleSheet("QFrame#resumeBanner { background: #fff4ce; color: #000000; }")
        self.resume_banner = MessageLabel(lines=3)
        QVBoxLayout(self.resume_frame).addWidget(self.resume_banner)
        self.resume_frame.setVisible(False)

        # -- live view
        self.radar = RadarPlot("Scores per value (live)")
        self.bars = BarPlot("Score per value")
        self.progress = JobProgress(with_message=False)
        self.progress.setAccessibleName("Run progress (items)")
        self.counters = MessageLabel("No run yet.", lines=2)
        self.wait_label = MessageLabel(lines=1)
        self.error_label = MessageLabel(lines=2)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["", "Model", "Value", "Keyword", "Answer", "Said"])
        if (said := self.table.horizontalHeaderItem(4)) is not None:
            said.setToolTip("yes / no / refusal / unparsed: " + TERMS["unparsed"])
        self.table.setIconSize(QPixmap(40, 64).size())
        self.table.verticalHeader().setDefaultSectionSize(68)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        plots = QSplitter()
        plots.addWidget(self.radar)
        plots.addWidget(self.bars)
        status = QWidget()
        sl = QVBoxLayout(status)
        sl.setContentsMargins(0, 0, 0, 0)
        for w in (self.progress, self.counters, self.wait_label, self.error_label):
            sl.addWidget(w)
        live_split = QSplitter(Qt.Orientation.Vertical)
        live_split.addWidget(plots)
        live_split.addWidget(status)
        live_split.addWidget(self.table)
        live_split.setStretchFactor(0, 3)
        live_split.setStretchFactor(2, 2)
        live_split.setCollapsible(1, False)
        live = QWidget()
        ll = QVBoxLayout(live)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.resume_frame)
        ll.addWidget(live_split, 1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(live)
        split.setStretchFactor(0, 1)  # a wider window widens the form too: its combos show their names
        split.setStretchFactor(1, 3)
        split.setCollapsible(0, False)
        split.setCollapsible(1, False)
        split.setSizes([330, 700])  # the form needs ~300 px, plus its scroll bar on a short screen
        QVBoxLayout(self).addWidget(split)

        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw)
        self.timer.start()
        self.estimate_timer = QTimer(self)
        self.estimate_timer.setSingleShot(True)
        self.estimate_timer.setInterval(ESTIMATE_DELAY_MS)
        self.estimate_timer.timeout.connect(lambda: self.estimate(auto=True))
        for signal in (
            self.models.itemChanged,
            self.values.itemChanged,
            self.keyword_set.currentIndexChanged,
            self.k.valueChanged,
            self.repeats.valueChanged,
            self.wordings.changed,
            self.batch.toggled,
        ):
            signal.connect(self._form_changed)
        ctx.providers_changed.connect(self._load_choices)
        ctx.workspace_changed.connect(self._load_choices)
        ctx.runs_changed.connect(self._load_unfinished)
        self._load_choices()

    # -- choices ------------------------------------------------------------------------
    def _load_choices(self) -> None:
        from vspectrum_app.providers.config import ProviderError, ProviderStore

        checked = set(self._selected(self.models))
        self.models.blockSignals(True)
        self.models.clear()
        try:
            providers = ProviderStore().all()
        except ProviderError as exc:
            self.error_label.set_message(f"The provider settings cannot be read: {exc}. Fix them in Settings.", "error")
            providers = []
        for p in providers:
            for model in p.models:
                item = QListWidgetItem(f"{p.name}:{model}")
                item.setToolTip(f"Model {model!r} of provider {p.name!r} ({p.requests_per_minute} requests/min)")
                item.setCheckState(Qt.CheckState.Checked if f"{p.name}:{model}" in checked else Qt.CheckState.Unchecked)
                self.models.addItem(item)
        self.models.blockSignals(False)
        _fit_height(self.models)
        self.keyword_set.blockSignals(True)
        self.keyword_set.clear()
        if self.ctx.workspace:
            from vspectrum_app.library.keywords import list_sets

            for ks in list_sets(self.ctx.workspace):
                self.keyword_set.addItem(keyword_set_label(ks), ks.id)
                self.keyword_set.setItemData(
                    self.keyword_set.count() - 1,
                    f"{ks.description or ks.name}\nFingerprint {ks.hash}: recorded in each "
                    f"run, it changes whenever a keyword does.",
                    Qt.ItemDataRole.ToolTipRole,
                )
        self.keyword_set.blockSignals(False)
        self._load_unfinished()
        if self._validate():
            self._form_changed()
        else:
            self.estimate_label.set_message("")

    def _load_unfinished(self) -> None:
        self._listing += 1
        listing, ws = self._listing, self.ctx.workspace
        if not ws:
            self._fill_unfinished([], [])
            return
        self._worker.run(
            lambda: _unfinished_runs(ws),
            while_current(lambda: listing == self._listing, lambda found: self._fill_unfinished(*found)),
            lambda message: self.error_label.set_message(f"Cannot read the runs: {message}", "error"),
        )

    def _fill_unfinished(self, offered: list[tuple[str, str]], held: list[str]) -> None:
        self.resume_combo.clear()
        for run_id, text in offered:
            self.resume_combo.addItem(text, run_id)
        self._held = held
        self._update_resume()
        self.unfinished_loaded.emit()

    def _update_resume(self) -> None:
        idle = self.job is None
        n = self.resume_combo.count()
        self.resume_button.setEnabled(bool(n) and idle)
        self.delete_button.setEnabled(bool(n) and idle)
        held = getattr(self, "_held", [])
        text = (
            f"{n} run(s) did not finish (closed, crashed or paused): choose one under Unfinished runs and press "
            f"Resume; nothing finished is sent again."
            if n
            else ""
        )
        if held:
            text += (" " if text else "") + (
                f"{len(held)} unfinished run(s) are running in another window or "
                f"terminal and are not offered: {'; '.join(held)}."
            )
        self.resume_banner.set_message(text)
        self.resume_frame.setVisible(bool(text) and idle)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """Runs held elsewhere may have finished or stopped meanwhile: list them afresh."""
        super().showEvent(event)
        if self.job is None:
            self._load_unfinished()

    def _selected(self, widget: QListWidget) -> list[str]:
        return [
            widget.item(i).text() for i in range(widget.count()) if widget.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _problem(self) -> str | None:
        """Why the form cannot run, in words that say what to click; None when it can."""
        if self.ctx.workspace is None:
            return "Open a workspace first (File menu)."
        if not self.models.count():
            return "Add a model provider in Settings first."
        if not self._selected(self.models):
            return "Tick at least one model."
        if not self._selected(self.values):
            return "Tick at least one value."
        return None

    def _validate(self) -> bool:
        problem = self._problem()
        self.form_hint.set_message(problem or "")
        idle = self.job is None
        self.start_button.setEnabled(problem is None and idle)
        self.estimate_button.setEnabled(problem is None and idle)
        self.start_button.setToolTip(problem or "Start the run (answers are stored as they arrive)")
        return problem is None

    def _form_changed(self, *_: object) -> None:
        """The estimate follows the form: refreshed once the form has been still for a moment."""
        self._refresh_estimate()

    def _refresh_estimate(self) -> None:
        """Ask the core's estimate again soon: after the form changes, and after a run starts,
        pauses, resumes or ends (what the workspace already holds changes what a run sends)."""
        if self._problem() is None:
            self.estimate_label.set_message("Updating the estimate...")
            self.estimate_timer.start()
        else:
            self.estimate_timer.stop()
            self.estimate_label.set_message("")
        self._validate()

    def _run_params(self) -> bench_ops.Run | None:
        if not self._validate():
            return None
        return self._form_params()

    def _form_params(self) -> bench_ops.Run:
        return bench_ops.Run(
            values=tuple(self._selected(self.values)),
            k=self.k.value(),
            repeats=self.repeats.value(),
            targets=tuple(self._selected(self.models)),
            keyword_set=self.keyword_set.currentData() or None,
            prompt_variants=self.wordings.option(),
            batch=self.batch.isChecked(),
            clip=self.ctx.clip_options(),
        )

    # -- actions ------------------------------------------------------------------------
    def estimate(self, auto: bool = False) -> None:
        self.estimate_timer.stop()
        if self._problem() is not None:
            return
        params = self._form_params()
        if self._estimate_job is not None and getattr(self._estimate_job, "running", False):
            self._estimate_job.cancel()  # the form or the workspace changed: the old estimate is moot
        self.estimate_label.set_message("Estimating...")
        self.retrieval_label.set_message("")
        job = self._estimate_job = self.ctx.run_job("Estimate", replace(params, dry_run=True))
        job.received.connect(lambda e, j=job: self._estimated(j, e))
        job.failed.connect(
            while_current(
                lambda: job is self._estimate_job,
                lambda msg: self.estimate_label.set_message(f"Cannot estimate: {msg}", "error"),
            )
        )

    def _estimated(self, job: Job, event: events.Event) -> None:
        if isinstance(event, events.Estimate) and job is self._estimate_job:
            self._show_estimate(event)

    def _show_estimate(self, e: events.Estimate) -> None:
        self.estimate_label.set_message(self._describe_estimate(e))
        self.retrieval_label.set_message(*describe_retrieval(e))

    @staticmethod
    def _describe_estimate(e: events.Estimate) -> str:
        """The core's estimate (bench.plan.Estimate.headline: counted, priced and paced there, the
        words the CLI prints), with the limits it assumed per provider."""
        limits = [f"{name} {p['limit']}" for name, p in (e.per_provider or {}).items() if p.get("limit")]
        return e.headline + (f" ({', '.join(limits)})" if limits else "") + "."

    def start(self) -> None:
        params = self._run_params()
        if params is not None:
            self._launch("Benchmark run", params)

    def resume(self) -> None:
        run_id = self.resume_combo.currentData()
        if run_id:
            self._launch(f"Resume {run_id}", bench_ops.Resume(run_id=run_id), run_id=run_id)

    def delete_run(self) -> None:
        """Delete the chosen unfinished run, after asking: for runs nobody wants to finish."""
        from vspectrum_app.bench.store import RunNotFoundError, RunStore

        run_id, ws = self.resume_combo.currentData(), self.ctx.workspace
        if not run_id or self.job is not None or ws is None:
            return
        answer = QMessageBox.question(
            self,
            "Delete run",
            f"Delete {self.resume_combo.currentText()}?\n\nIts answers "
            f"are removed from this run; answers other runs can reuse stay in the workspace.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        holder = run_holder(ws, run_id)
        if holder is not None:
            self.error_label.set_message(
                f"Run {run_id} is being run by {holder.describe()}: stop it there first.", "error"
            )
            self._load_unfinished()
            return
        try:
            n = RunStore(ws).delete_run(run_id)
        except RunNotFoundError:
            n = 0  # deleted meanwhile (e.g. from the command line): nothing left to do
        self.error_label.set_message("")
        self.counters.set_message(f"Deleted run {run_id} ({n} items).", "success")
        self.ctx.runs_changed.emit()

    def pause(self) -> None:
        if self.job:
            self.wait_label.set_message("Stopping after the calls in flight...")
            self.job.cancel()

    def _launch(self, title: str, params: bench_ops.Run | bench_ops.Resume, run_id: str | None = None) -> None:
        if self.ctx.workspace is None:
            self.error_label.set_message("Open a workspace first (File menu).", "error")
            return
        self.estimate_timer.stop()
        self.answers = []
        self.table.setRowCount(0)
        self.error_label.set_message("")
        self.wait_label.set_message("")
        self._wait, self._status = None, None
        self.run_id = run_id
        if run_id:
            self._load_existing(run_id)
        self._started = time.monotonic()
        self.job = self.ctx.run_job(title, params)
        self.job.received.connect(self._on_event)
        self.job.progress.connect(self._on_progress)
        self.job.failed.connect(lambda msg: self.error_label.set_message(msg, "error"))
        self.job.finished.connect(self._finished)
        for b in (self.start_button, self.resume_button, self.estimate_button):
            b.setEnabled(False)
        self.pause_button.setEnabled(True)
        self.resume_frame.setVisible(False)
        self.counters.set_message("Starting...")
        self._refresh_estimate()

    def _load_existing(self, run_id: str) -> None:
        from vspectrum_app.bench.store import RunStore

        self.answers = RunStore(self.ctx.workspace).items(run_id) if self.ctx.workspace is not None else []
        self._dirty = True

    def _on_event(self, event: events.Event) -> None:
        match event:
            case events.RunCreated():
                self.run_id = event.run_id
            case events.Answer():
                self.answers.append(
                    {
                        "target": event.target,
                        "mode": event.mode,
                        "value": event.value,
                        "image_sha256": event.image_sha256 or str(event.image_id),
                        "answer_class": event.answer_class,
                        "answer1": event.answer,
                        "variant": event.variant,
                    }
                )
                self._dirty = True
                self._add_row(event)
            case events.RunStatus():
                self._status = event
                self._show_status()
            case events.Waiting():
                self._wait = (time.monotonic() + float(event.seconds or 0), event)
                self._show_wait()
            case events.BatchState():  # a --batch run waits on its batches: say which and how far
                self.wait_label.set_message(event.message[:1].upper() + event.message[1:])
            case events.ItemError():
                self.error_label.set_message(
                    f"{event.target}: {event.message} (this item is asked again when you resume the run)", "error"
                )

    def _thumb(self, image_id: int) -> str | None:
        """The image's thumbnail path; asked of the catalog once per image (a run asks each image many times)."""
        from vspectrum_app.library import catalog

        ws = self.ctx.workspace
        if ws is None:
            return None
        if self._thumbs[0] is not ws:
            self._thumbs = (ws, {})
        known = self._thumbs[1]
        if image_id not in known:
            file = catalog.image_file(ws, image_id)
            if file is None:
                return None
            known[image_id] = str(file.thumb(ws))
        return known[image_id]

    def _add_row(self, event: events.Answer) -> None:
        if self.table.rowCount() >= MAX_TABLE_ROWS:
            self.table.removeRow(MAX_TABLE_ROWS - 1)
        self.table.insertRow(0)
        thumb = self._thumb(event.image_id) if event.image_id is not None else None
        icon_item = QTableWidgetItem()
        if thumb:
            icon_item.setIcon(QIcon(thumb))
        said = (event.answer or "") + " / " + (event.reason or "")
        cells = (
            [icon_item, QTableWidgetItem(series_name(event.target, event.variant))]
            + [QTableWidgetItem(str(getattr(event, k))) for k in ("value", "keyword", "answer_class")]
            + [QTableWidgetItem(said)]
        )
        cells[4].setToolTip(TERMS.get(event.answer_class, ""))
        cells[5].setToolTip(said)
        for col, cell in enumerate(cells):
            self.table.setItem(0, col, cell)

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.on_progress(done, total)
        if self._status is None:  # before the engine's first status: items only
            self.counters.set_message(f"{done}/{total} items done")

    def _show_status(self) -> None:
        from dataclasses import asdict

        from vspectrum_app.bench.progress import status_text

        if self._status is None:
            return
        text = status_text(asdict(self._status))  # the CLI's progress line, word for word
        self.counters.set_message(text)
        self.counters.setToolTip(text + "\n\n" + "\n".join(f"{k}: {v}" for k, v in TERMS.items()))

    def _show_wait(self) -> None:
        """The wait in progress with its cause, counting down; cleared once it has passed."""
        if self._wait is None:
            return
        deadline, e = self._wait
        left = deadline - time.monotonic()
        if left <= 0:
            self._wait = None
            self.wait_label.set_message("")
            return
        if e.cause == "retry":
            text = f"Waiting {left:.0f} s before retrying a call to {e.provider} ({e.message})"
        else:
            text = f"Waiting for the rate limit of {e.provider}: {e.limit}, next call in {left:.0f} s"
        self.wait_label.set_message(text)

    def _finished(self, code: int) -> None:
        from vspectrum_app.bench.store import RunNotFoundError, RunStore

        self.pause_button.setEnabled(False)
        self.job = None
        self._wait = None
        self.wait_label.set_message("")
        status = None
        if self.run_id and self.ctx.workspace:
            try:
                status = next((r for r in RunStore(self.ctx.workspace).runs() if r["id"] == self.run_id), None)
            except RunNotFoundError:
                status = None
        if code == 0 or (status and status["done"] >= status["total"]):
            answered = f"{status['done']} items answered" if status else "every item answered"
            self.counters.set_message(f"Run finished: {answered}. See Results for the scores.", "success")
        elif code == 130:
            self.counters.set_message(
                "Paused. Choose the run under Unfinished runs and press Resume to continue; "
                "nothing answered is asked again."
            )
        else:
            left = f"{status['total'] - status['done']} items are not answered yet" if status else "The run stopped"
            reason = self.error_label.full_text()
            self.counters.set_message(
                f"{left}{': ' + reason if reason else ''}. Fix the cause if one is named, then press Resume.", "error"
            )
        self._dirty = True
        self._redraw()
        self._refresh_estimate()
        self.ctx.runs_changed.emit()

    # -- live plots ---------------------------------------------------------------------
    def _redraw(self) -> None:
        self._show_wait()
        if not self._dirty:
            return
        self._dirty = False
        series = live_series(self.answers)
        self.radar.set_series(series)
        values = [v for v in SCHWARTZ_VALUES if any(v in s for s in series.values())]
        self.bars.set_groups(values, {t: [s.get(v, (None, None, None)) for v in values] for t, s in series.items()})
