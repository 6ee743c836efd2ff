"""Benchmark pane: choose models, values, keyword set, k and repeats; see the estimate;
start, pause (a cooperative stop that can be resumed), resume; watch scores live."""

from __future__ import annotations

import math
import time
from collections import defaultdict

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from vspectrum_app.core.values import SCHWARTZ_VALUES
from vspectrum_app.gui.plots import BarPlot, RadarPlot

REDRAW_MS = 100  # live plots redraw on a timer, never per event
MAX_TABLE_ROWS = 5000


def wilson(yes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """A cheap interval for the live view (the report's intervals are bootstrapped)."""
    if n == 0:
        return 0.0, 100.0
    p = yes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


class BenchmarkPane(QWidget):
    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.job = None
        self.counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._dirty = False

        # -- configuration
        config = QGroupBox("Run")
        form = QFormLayout(config)
        self.models = QListWidget()
        self.values = QListWidget()
        for value in SCHWARTZ_VALUES:
            item = QListWidgetItem(value)
            item.setCheckState(Qt.CheckState.Checked)
            self.values.addItem(item)
        self.keyword_set = QComboBox()
        self.k = QSpinBox()
        self.k.setRange(1, 50)
        self.k.setValue(5)
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 20)
        form.addRow("Models", self.models)
        form.addRow("Values", self.values)
        form.addRow("Keyword set", self.keyword_set)
        form.addRow("Images per keyword", self.k)
        form.addRow("Answers per image", self.repeats)
        self.estimate_label = QLabel("Press Estimate to see calls, cost and time before starting.")
        self.estimate_label.setWordWrap(True)
        form.addRow(self.estimate_label)
        buttons = QHBoxLayout()
        self.estimate_button, self.start_button = QPushButton("Estimate"), QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Stops after the calls in flight; Resume continues where it stopped")
        self.pause_button.setEnabled(False)
        for b in (self.estimate_button, self.start_button, self.pause_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        resume_row = QHBoxLayout()
        self.resume_combo = QComboBox()
        self.resume_button = QPushButton("Resume")
        resume_row.addWidget(self.resume_combo, 1)
        resume_row.addWidget(self.resume_button)
        form.addRow("Unfinished runs", resume_row)
        self.estimate_button.clicked.connect(self.estimate)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)

        # -- an interrupted run is offered for resuming when the workspace opens
        self.resume_banner = QLabel()
        self.resume_banner.setStyleSheet("background: #fff4ce; padding: 6px")
        self.resume_banner.setWordWrap(True)
        self.resume_banner.setVisible(False)

        # -- live view
        self.radar = RadarPlot("Scores per value (live)")
        self.bars = BarPlot("Score per value")
        self.progress = QProgressBar()
        self.counters = QLabel("No run yet.")
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b00020")
        self.error_label.setWordWrap(True)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["", "Model", "Value", "Keyword", "Answer", "Said"])
        self.table.setIconSize(QPixmap(40, 64).size())
        self.table.verticalHeader().setDefaultSectionSize(68)
        plots = QSplitter()
        plots.addWidget(self.radar)
        plots.addWidget(self.bars)
        live = QWidget()
        ll = QVBoxLayout(live)
        ll.addWidget(self.resume_banner)
        ll.addWidget(plots, 3)
        ll.addWidget(self.progress)
        ll.addWidget(self.counters)
        ll.addWidget(self.error_label)
        ll.addWidget(self.table, 2)
        split = QSplitter()
        split.addWidget(config)
        split.addWidget(live)
        split.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(split)

        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw)
        self.timer.start()
        ctx.providers_changed.connect(self._load_choices)
        ctx.workspace_changed.connect(self._load_choices)
        ctx.runs_changed.connect(self._load_unfinished)
        self._load_choices()

    # -- choices ------------------------------------------------------------------------
    def _load_choices(self) -> None:
        from vspectrum_app.providers.config import ProviderError, ProviderStore

        checked = {self.models.item(i).text() for i in range(self.models.count())
                   if self.models.item(i).checkState() == Qt.CheckState.Checked}
        self.models.clear()
        try:
            providers = ProviderStore().all()
        except ProviderError as exc:
            self.error_label.setText(str(exc))
            providers = []
        for p in providers:
            for model in p.models:
                item = QListWidgetItem(f"{p.name}:{model}")
                item.setCheckState(Qt.CheckState.Checked if f"{p.name}:{model}" in checked else Qt.CheckState.Unchecked)
                self.models.addItem(item)
        if not providers:
            self.estimate_label.setText("Add a model provider in Settings first.")
        self.keyword_set.clear()
        if self.ctx.workspace:
            from vspectrum_app.library.keywords import list_sets

            for ks in list_sets(self.ctx.workspace):
                self.keyword_set.addItem(ks.id, ks.hash)
        self._load_unfinished()

    def _load_unfinished(self) -> None:
        self.resume_combo.clear()
        if not self.ctx.workspace:
            return
        from vspectrum_app.bench.store import RunStore

        for run in RunStore(self.ctx.workspace).runs():
            if run["status"] != "done" and run["done"] < run["total"]:
                self.resume_combo.addItem(f"{run['id']} ({run['done']}/{run['total']}, {run['status']})", run["id"])
        self.resume_button.setEnabled(self.resume_combo.count() > 0 and self.job is None)
        if self.resume_combo.count() and self.job is None:
            self.resume_banner.setText(f"{self.resume_combo.count()} run(s) did not finish (closed, crashed or "
                                       f"paused): choose one under Unfinished runs and press Resume; nothing "
                                       f"finished is sent again.")
        self.resume_banner.setVisible(bool(self.resume_combo.count()) and self.job is None)

    def _selected(self, widget: QListWidget) -> list[str]:
        return [widget.item(i).text() for i in range(widget.count())
                if widget.item(i).checkState() == Qt.CheckState.Checked]

    def _run_args(self) -> list[str] | None:
        models = self._selected(self.models)
        values = self._selected(self.values)
        if not models or not values:
            self.error_label.setText("Choose at least one model and one value.")
            return None
        args = ["bench", "run", "--values", *values, "--k", str(self.k.value()), "--repeats", str(self.repeats.value())]
        for m in models:
            args += ["--model", m]
        if self.keyword_set.currentData():
            args += ["--keyword-set", self.keyword_set.currentData()]
        return args + self.ctx.clip_args()

    # -- actions ------------------------------------------------------------------------
    def estimate(self) -> None:
        args = self._run_args()
        if args is None:
            return
        self.estimate_label.setText("Estimating...")
        job = self.ctx.run_job("Estimate", args + ["--dry-run"])
        job.event.connect(lambda e: e.get("type") == "estimate" and self.estimate_label.setText(
            f"{e['calls']} calls, ~{e['input_tokens']:,} input / ~{e['output_tokens']:,} output tokens, "
            f"~${e['cost_usd']:.2f}, ~{e['seconds'] / 60:.0f} min at the configured limits"))
        job.failed.connect(lambda msg: self.estimate_label.setText(f"Cannot estimate: {msg}"))

    def start(self) -> None:
        args = self._run_args()
        if args is not None:
            self._launch("Benchmark run", args)

    def resume(self) -> None:
        run_id = self.resume_combo.currentData()
        if run_id:
            self._launch(f"Resume {run_id}", ["bench", "resume", run_id], run_id=run_id)

    def pause(self) -> None:
        if self.job:
            self.counters.setText(self.counters.text() + "  (stopping after the calls in flight...)")
            self.job.cancel()

    def _launch(self, title: str, args: list[str], run_id: str | None = None) -> None:
        if self.ctx.workspace is None:
            self.error_label.setText("Open a workspace first (File menu).")
            return
        self.counts.clear()
        self.table.setRowCount(0)
        self.error_label.clear()
        self.run_id = run_id
        if run_id:
            self._load_existing(run_id)
        self._started = time.monotonic()
        self.job = self.ctx.run_job(title, args)
        self.job.event.connect(self._on_event)
        self.job.progress.connect(self._on_progress)
        self.job.failed.connect(lambda msg: self.error_label.setText(msg))
        self.job.finished.connect(self._finished)
        for b in (self.start_button, self.resume_button, self.estimate_button):
            b.setEnabled(False)
        self.pause_button.setEnabled(True)
        self.resume_banner.setVisible(False)

    def _load_existing(self, run_id: str) -> None:
        from vspectrum_app.bench.store import RunStore

        for item in RunStore(self.ctx.workspace).items(run_id):
            self.counts[(item["target"], item["value"])][item["answer_class"]] += 1
        self._dirty = True

    def _on_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "run_created":
            self.run_id = event["run_id"]
        elif kind == "answer":
            self.counts[(event["target"], event["value"])][event["answer_class"]] += 1
            self._dirty = True
            self._add_row(event)
        elif kind == "error":
            self.error_label.setText(event.get("message", ""))
        elif kind == "item_error":
            self.error_label.setText(f"{event['target']}: {event['message']} (the item is retried on resume)")

    def _add_row(self, event: dict) -> None:
        if self.table.rowCount() >= MAX_TABLE_ROWS:
            self.table.removeRow(MAX_TABLE_ROWS - 1)
        self.table.insertRow(0)
        row = self.ctx.workspace.db.execute("SELECT sha256 FROM images WHERE id = ?", (event["image_id"],)).fetchone()
        icon_item = QTableWidgetItem()
        if row:
            icon_item.setIcon(QIcon(str(self.ctx.workspace.thumb_path(row[0]))))
        cells = [icon_item] + [QTableWidgetItem(str(event.get(k, ""))) for k in
                               ("target", "value", "keyword", "answer_class")] + \
                [QTableWidgetItem((event.get("answer") or "") + " / " + (event.get("reason") or ""))]
        for col, cell in enumerate(cells):
            self.table.setItem(0, col, cell)

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        elapsed = time.monotonic() - self._started
        eta = ""
        if total and done and elapsed > 1:
            answered = sum(sum(c.values()) for c in self.counts.values())
            rate = max(answered, 1) / elapsed
            eta = f", ETA {max(total - done, 0) / rate / 60:.1f} min"
        self.counters.setText(f"{done}/{total} done{eta}; {message}")

    def _finished(self, code: int) -> None:
        self.pause_button.setEnabled(False)
        for b in (self.start_button, self.estimate_button):
            b.setEnabled(True)
        status = {0: "finished", 130: "paused: Resume continues it"}.get(code, "stopped: see the message above; "
                                                                               "Resume continues it")
        self.counters.setText(self.counters.text() + f"  - run {status}")
        self.job = None
        self._dirty = True
        self._redraw()
        self.ctx.runs_changed.emit()

    # -- live plots ---------------------------------------------------------------------
    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        series: dict[str, dict[str, tuple]] = defaultdict(dict)
        for (target, value), c in self.counts.items():
            decided = c["yes"] + c["no"]
            if decided:
                lo, hi = wilson(c["yes"], decided)
                series[target][value] = (100 * c["yes"] / decided, lo, hi)
        self.radar.set_series(dict(series))
        values = [v for v in SCHWARTZ_VALUES if any(v in s for s in series.values())]
        self.bars.set_groups(values, {t: [s.get(v, (None, None, None)) for v in values] for t, s in series.items()})
        refusals = sum(c["refusal"] for c in self.counts.values())
        unparsed = sum(c["unparsed"] for c in self.counts.values())
        self.counters.setToolTip(f"refusals {refusals}, unparsed {unparsed}")
