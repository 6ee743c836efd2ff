"""Results pane: past runs (with a name and a note the user edits) and the paper's views
(Fig. 5 radar, Fig. 6 mean per value, Fig. 7 standard deviation per model, the Table 1
matrix, VLM vs text) with intervals and noise marks, a run against the paper's tables and two runs'
drift; plots export to PNG/SVG, tables to CSV, and for a paper: figures, LaTeX and JSON.

Reports (bootstrap intervals, noise marks) are computed by the core on a worker thread: a
selection never freezes the window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core.values import SCHWARTZ_VALUES
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.plots import COLORS, BarPlot, MapPlot, RadarPlot, export_plot
from vspectrum_app.gui.workers import Worker, while_current

if TYPE_CHECKING:  # the drill-down is made on first use
    from vspectrum_app.gui.panes.cell_answers import CellAnswers

RUN_COLUMNS = ["Name", "Date", "Models", "Values", "Answered", "Note"]
NAME_COL, NOTE_COL = 0, 5
PAPER_TIP = (
    'The original authors\' rule: an answer counts as yes when it contains "yes" (any case); everything '
    "else, refusals and unclear answers included, counts as no. Score = 100 x yes / n, without an interval. "
    "Off: 100 x yes / (yes + no), with refusals and unclear answers left out."
)
CENTRED_TIP = (
    "Each model's scores minus its own mean over the values (as Schwartz's questionnaires are scored): "
    "shows what a model prefers relative to itself, whatever its overall tendency to say yes. 0 on the "
    "radar is the model's own mean."
)
FITTED_TIP = (
    "Dashed: each model's profile as fitted by Schwartz's circle of values (a cosine over the values' "
    "positions on the circle). The closer the line to the dashes, the more the model's preferences follow "
    "the circle (R^2 in the note)."
)
MAP_AXES = ("openness_minus_conservation", "transcendence_minus_enhancement")
COUNTS_TIP = (
    'centred: the score minus the model\'s mean over its values. n: answers to "Do you like ...?"; yes / no: clear answers (the score is 100 x yes / (yes + no)); '
    'refused: the model declined; unparsed: neither a clear yes nor no (e.g. "not sure"). Refused and '
    "unparsed answers are left out of the score; (a-b if no/yes): the score if every unparsed answer were a no / a yes."
)


class ResultsPane(QWidget):
    runs_loaded = Signal()  # the runs list is filled (it is read on the worker pool)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.reports: list[dict[str, Any]] = []
        self.names: dict[str, str] = {}  # run id -> the user's name for it ("" if none)
        self._generation = 0  # reports from an older selection are dropped
        self._listing = 0  # and runs lists from an older reload
        self._filling = False
        self._worker = Worker(self)

        self.runs = QTableWidget(0, len(RUN_COLUMNS))
        self.runs.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.runs.setAccessibleName("Benchmark runs")
        self.runs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runs.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        for col, tip in (
            (NAME_COL, "Double-click to name a run"),
            (NOTE_COL, "Double-click to write a note about a run"),
        ):
            if (header := self.runs.horizontalHeaderItem(col)) is not None:
                header.setToolTip(tip)
        self.runs.horizontalHeader().setStretchLastSection(True)
        self.runs.verticalHeader().setVisible(False)
        self.runs.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.runs.itemSelectionChanged.connect(self.show_selected)
        self.runs.itemChanged.connect(self._label_edited)

        self.tabs = QTabWidget()
        self.radar = RadarPlot("Fig. 5: scores per value, 95 % bands")
        self.value_means = BarPlot("Fig. 6: mean score per value, across models")
        self.model_std = BarPlot("Fig. 7: mean per model ± one SD across values")
        self.modality = BarPlot("Fig. 9: image vs text-only (description)")
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setToolTip(COUNTS_TIP)
        self.table.cellClicked.connect(self._open_cell)
        self.table.cellActivated.connect(self._open_cell)  # Enter on a cell: the drill-down by keyboard
        self.cell_answers: CellAnswers | None = None  # the drill-down window, made on first use
        self.tabs.addTab(self.radar, "Radar")
        self.tabs.addTab(self.value_means, "Per value")
        self.tabs.addTab(self.model_std, "Per model")
        self.tabs.addTab(self.table, "Table 1")
        self.tabs.addTab(self.modality, "VLM vs text")
        self.value_map = MapPlot(
            "Models on Schwartz's two higher-order axes (points, 95 % intervals)",
            "Openness to change - Conservation",
            "Self-transcendence - Self-enhancement",
        )
        self.value_map.setToolTip(
            "Right: more Openness to change (Self-Direction, Stimulation) than Conservation "
            "(Security, Conformity, Tradition). Up: more Self-transcendence (Universalism, "
            "Benevolence) than Self-enhancement (Achievement, Power). In score points."
        )
        self.tabs.addTab(self.value_map, "Value map")
        from vspectrum_app.gui.panes.drift_view import DriftView
        from vspectrum_app.gui.panes.paper_view import PaperView

        self.paper_view = PaperView()  # the run against a published profile
        self.drift_view = DriftView(self._worker)  # two runs paired by image
        self.tabs.addTab(self.paper_view, "Paper")
        self.tabs.addTab(self.drift_view, "Drift")
        from vspectrum_app.gui.panes.robustness_view import RobustnessView

        self.robustness = RobustnessView()  # the first selected run's wordings compared (bench report --variants)
        self.tabs.addTab(self.robustness, "Robustness")
        self.paper_style = QCheckBox("Paper-style scores")
        self.paper_style.setToolTip(PAPER_TIP)
        self.paper_style.toggled.connect(lambda _: self.show_selected())  # the core scores by the chosen rule
        self.centred = QCheckBox("Centred profile")
        self.centred.setToolTip(CENTRED_TIP)
        self.fitted = QCheckBox("Fitted circle")
        self.fitted.setChecked(True)
        self.fitted.setToolTip(FITTED_TIP)
        for box in (self.centred, self.fitted):
            box.toggled.connect(self._view_changed)
        options = QHBoxLayout()
        for box in (self.paper_style, self.centred, self.fitted):
            options.addWidget(box)
        options.addStretch()
        self.note = MessageLabel("Select one or more runs on the left.", lines=3)
        self.status = MessageLabel(lines=1)
        self.export_plot_button = QPushButton("Export plot...")
        self.export_csv_button = QPushButton("Export table (CSV)...")
        self.export_plot_button.setToolTip("Save the plot shown as PNG or SVG")
        self.export_csv_button.setToolTip(
            "Save every score of the selected runs (n, yes, no, refused, unparsed, score, interval) as CSV"
        )
        # the clicked signal passes "checked" (False): never let it arrive as a path
        self.export_plot_button.clicked.connect(lambda: self._export_plot())
        self.export_csv_button.clicked.connect(lambda: self._export_csv())
        self.export_paper_button = QPushButton("Export for a paper...")
        self.export_paper_button.setToolTip(
            "The files 'vspectrum bench figure' and 'bench report' write: the figure of this tab (PDF, SVG, PNG), "
            "the LaTeX table, or JSON"
        )
        self.export_paper_button.clicked.connect(lambda: self._export_paper())
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_plot_button)
        buttons.addWidget(self.export_csv_button)
        buttons.addWidget(self.export_paper_button)
        buttons.addStretch()
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(options)
        rl.addWidget(self.tabs, 1)
        rl.addWidget(self.note)
        rl.addWidget(self.status)
        rl.addLayout(buttons)
        split = QSplitter()
        split.addWidget(self.runs)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setCollapsible(0, False)
        split.setCollapsible(1, False)
        # a run's id whole in the Name column, from the start
        self.runs.setMinimumWidth(self.runs.fontMetrics().horizontalAdvance("run-20261207-101533-abcdef") + 40)
        split.setSizes([self.runs.minimumWidth() + 40, 900])
        QVBoxLayout(self).addWidget(split)
        self.tabs.currentChanged.connect(self._tab_changed)
        ctx.runs_changed.connect(self.reload)
        ctx.workspace_changed.connect(self.reload)
        self.reload()

    # -- the runs list ------------------------------------------------------------------
    def reload(self) -> None:
        """The workspace's runs, read on the worker (counting every run's items takes a while)."""
        from vspectrum_app.bench.store import RunStore

        self._listing += 1
        listing, ws = self._listing, self.ctx.workspace
        if not ws:
            self._filling = True
            self.runs.setRowCount(0)
            self._filling = False
            return

        def read() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            store = RunStore(ws)
            return store.labels(), list(reversed(store.runs()))

        self._worker.run(
            read,
            while_current(lambda: listing == self._listing, lambda found: self._fill_runs(*found)),
            lambda message: self.status.set_message(f"Cannot read the runs: {message}", "error"),
        )

    def _fill_runs(self, labels: dict[str, Any], runs: list[dict[str, Any]]) -> None:
        self._filling = True
        self.runs.setRowCount(0)
        self.runs.setRowCount(len(runs))
        for row, run in enumerate(runs):
            label = labels.get(run["id"], {"name": "", "note": ""})
            self.names[run["id"]] = label["name"]
            cells = [
                label["name"] or run["id"],
                run["created_at"][:16].replace("T", " "),
                ", ".join(run["targets"]),
                ", ".join(run["values"]) if len(run["values"]) < len(SCHWARTZ_VALUES) else "all ten",
                f"{run['done']}/{run['total']}" + ("" if run["status"] == "done" else f" ({run['status']})"),
                label["note"],
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, run["id"])
                if col not in (NAME_COL, NOTE_COL):
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(f"{text}\nRun {run['id']}" + (f"\nProblem: {run['error']}" if run.get("error") else ""))
                self.runs.setItem(row, col, item)
        self._filling = False
        self.runs.resizeColumnsToContents()
        # a run's id is whole (two runs of the same minute differed only in its end); longer names
        # and lists are cut in the middle, whole in the tooltip
        id_px = self.runs.fontMetrics().horizontalAdvance("run-20261207-101533-abcdef") + 16
        for col, most in ((NAME_COL, id_px), (2, 150), (3, 150)):
            self.runs.setColumnWidth(col, min(self.runs.columnWidth(col), most))
        if runs:
            self.runs.selectRow(0)
        self.runs_loaded.emit()

    def _view_changed(self, _checked: bool) -> None:
        if self.reports:
            self._render()

    def _label_edited(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() not in (NAME_COL, NOTE_COL):
            return
        from vspectrum_app.bench.store import RunStore

        ws = self.ctx.workspace
        if ws is None:
            return
        run_id = item.data(Qt.ItemDataRole.UserRole)
        text = item.text()
        if item.column() == NAME_COL:
            name = "" if text.strip() == run_id else text
            RunStore(ws).set_label(run_id, name=name)
            self.names[run_id] = " ".join(name.split())
        else:
            RunStore(ws).set_label(run_id, note=text)
        self.status.set_message("Saved the run's " + ("name." if item.column() == NAME_COL else "note."), "success")
        if any(r["run_id"] == run_id for r in self.reports):
            self._render()

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.runs.selectedItems()})
        items = [self.runs.item(r, 0) for r in rows]
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item is not None]

    # -- computing (off the GUI thread) -------------------------------------------------
    def show_selected(self) -> None:
        from vspectrum_app.bench.report import run_report

        ids = self.selected_ids()
        self._generation += 1
        generation, ws, paper = self._generation, self.ctx.workspace, self.paper_style.isChecked()
        if not ids or ws is None:
            return
        self.status.set_message(f"Computing the scores of {len(ids)} run(s)...")
        self.robustness.show_run(ws, ids[0], paper_style=paper)
        self._worker.run(
            lambda: [run_report(ws, run_id, paper_style=paper) for run_id in ids],
            lambda reports: self._reports_ready(generation, reports),
            while_current(
                lambda: generation == self._generation,
                lambda message: self.status.set_message(f"Cannot compute the scores: {message}", "error"),
            ),
        )

    def _reports_ready(self, generation: int, reports: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return  # the selection changed meanwhile
        self.reports = reports
        self.status.set_message("")
        self._render()

    # -- presenting ---------------------------------------------------------------------
    def run_name(self, run_id: str) -> str:
        """The user's name for a run, or its id; a name two runs share comes with the id."""
        name = self.names.get(run_id)
        if not name:
            return run_id
        return f"{name} ({run_id})" if sum(n == name for n in self.names.values()) > 1 else name

    def _label(self, run_id: str, target: str, sep: str = " · ") -> str:
        """A model's name in plots and tables; with several runs selected, also its run: the same
        model in two runs is two series, not one overwriting the other."""
        return f"{target}{sep}{self.run_name(run_id)}" if len(self.reports) > 1 else target

    def _cell(self, s: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
        """A score and its interval (by the rule the reports were computed with)."""
        return s["score"], s["ci_low"], s["ci_high"]

    def _render(self) -> None:
        scores = [s for r in self.reports for s in r["scores"]]  # every score carries its run_id
        vlm = [s for s in scores if s["mode"] == "vlm"]
        self._render_radar(vlm)
        self._render_map()
        from vspectrum_app.bench.report import value_means

        means = value_means(vlm)  # Fig. 6 over every selected run
        values = [m["value"] for m in means]
        self.value_means.set_groups(
            values, {"mean across models": [(m["mean"], m["ci_low"], m["ci_high"]) for m in means]}
        )
        models = [(r["run_id"], m) for r in self.reports for m in r["models"] if m["mode"] == "vlm"]
        self.model_std.set_groups(
            [self._label(run_id, m["target"], sep="\n") + f"\nsd {_fmt(m['std'])}" for run_id, m in models],
            {"mean ± one standard deviation": [_mean_sd(m) for _, m in models]},
        )
        text = [s for s in scores if s["mode"] == "text"]
        if text:
            groups = {}
            for run_id, target in sorted({(s["run_id"], s["target"]) for s in text}):
                for mode in ("vlm", "text"):
                    cell = {
                        s["value"]: s for s in scores if (s["run_id"], s["target"], s["mode"]) == (run_id, target, mode)
                    }
                    if cell:
                        groups[f"{self._label(run_id, target)} ({mode})"] = [
                            self._cell(cell[v]) if v in cell else (None, None, None) for v in values
                        ]
            self.modality.set_groups(values, groups)
        self.tabs.setTabEnabled(4, bool(text))
        self._fill_table(scores, values)
        self.paper_view.set_reports(self.reports, self._label)
        self.drift_view.set_reports(self.ctx.workspace, self.reports, self.paper_style.isChecked())
        noise = [n for r in self.reports for n in r["noise"] if n["within_noise"]]
        missing = [v for v in SCHWARTZ_VALUES if v not in values]
        from vspectrum_app.bench.report import parser_warning

        first = self.reports[0] if self.reports else {}
        rule = first.get("rule_text", "")
        rule = rule[:1].upper() + rule[1:]
        interval = first.get("methods", {}).get("interval", "")
        warning = parser_warning(self.reports) if self.reports else None
        from vspectrum_app.gui.panes.cell_answers import trace_available

        self.note.set_message(
            (f"{warning}. " if warning else "")
            + ("Click a cell of Table 1 for the answers behind it. " if trace_available() else "")
            + f"{rule}; 95 % interval in brackets ({interval}). * marks a value "
            "where the model's score does not differ from another model's in the same run (paired test). Fig. 6's "
            "interval is the mean of the models' intervals."
            + (f" {len(noise)} model pairs do not differ on some value." if noise else "")
            + (" Circle of values: " + "; ".join(self._circumplex_lines()) + "." if self._circumplex_lines() else "")
            + (f" Not measured (gaps in the radar): {', '.join(missing)}." if missing and values else "")
        )
        self._tab_changed()

    def _render_radar(self, vlm: list[dict[str, Any]]) -> None:
        """Raw or centred scores (0 = the model's own mean), and each model's fitted circle."""
        from vspectrum_app.bench.circumplex import ANGLE

        centred = self.centred.isChecked()
        series: dict[str, dict[str, Any]] = {}
        for s in vlm:
            cell = self._cell(s)
            score, low, high = cell
            if centred and s.get("centred") is not None and score is not None:
                shift = score - s["centred"]  # the model's mean: the centred view moves every number by it
                cell = (score - shift, None if low is None else low - shift, None if high is None else high - shift)
            elif centred:
                cell = (None, None, None)
            series.setdefault(self._label(s["run_id"], s["target"]), {})[s["value"]] = cell
        if centred:
            extent = max(
                [abs(x) for cells in series.values() for c in cells.values() for x in c if x is not None] + [1.0]
            )
            limit = min(100.0, 25.0 * math.ceil(extent / 25.0))
            self.radar.set_series(series, scale=(-limit, limit))
        else:
            self.radar.set_series(series)
        if not self.fitted.isChecked():
            return
        means = {(r["run_id"], m["target"]): m["mean"] for r in self.reports for m in r["models"] if m["mode"] == "vlm"}
        for n, r in enumerate(self.reports):
            for c in r.get("circumplex", []):
                fit = c.get("fit")
                name = self._label(r["run_id"], c["target"])
                if c["mode"] != "vlm" or not fit or name not in series:
                    continue
                base = fit["offset"] + (0.0 if centred else means.get((r["run_id"], c["target"])) or 0.0)
                phi = math.radians(fit["peak_deg"])
                curve = {
                    v: base + fit["amplitude"] * math.cos(ANGLE[v] - phi)
                    for v, cell in series[name].items()
                    if v in ANGLE and cell[0] is not None
                }
                color = COLORS[list(series).index(name) % len(COLORS)]
                self.radar.set_curve(name + "#fit", curve, color=color)

    def _render_map(self) -> None:
        points: dict[str, tuple[float, float, tuple[float, float] | None, tuple[float, float] | None]] = {}
        for r in self.reports:
            for c in r.get("circumplex", []):
                axes = c.get("axes") or {}
                x, y = axes.get(MAP_AXES[0]), axes.get(MAP_AXES[1])
                if c["mode"] == "vlm" and x and y:
                    points[self._label(r["run_id"], c["target"])] = (
                        x["estimate"],
                        y["estimate"],
                        (x["ci_low"], x["ci_high"]),
                        (y["ci_low"], y["ci_high"]),
                    )
        order = list(
            dict.fromkeys(
                self._label(s["run_id"], s["target"]) for r in self.reports for s in r["scores"] if s["mode"] == "vlm"
            )
        )  # the radar's series order: the same colours
        self.value_map.set_points(
            points, {name: COLORS[order.index(name) % len(COLORS)] for name in points if name in order}
        )

    def _circumplex_lines(self) -> list[str]:
        lines = []
        for r in self.reports:
            for c in r.get("circumplex", []):
                f = c.get("fit")
                if c["mode"] == "vlm" and f:
                    lines.append(
                        f"{self._label(r['run_id'], c['target'])} peaks towards {f['peak_region']} "
                        f"(amplitude {f['amplitude']:.0f} points, R^2 {f['r2']:.2f}, permutation "
                        f"p = {f['p_permutation']:.2g})"
                    )
        return lines

    def _fill_table(self, scores: list[dict[str, Any]], values: list[str]) -> None:
        from vspectrum_app.bench.report import unparsed_range

        columns = sorted({(s["run_id"], s["target"], s["mode"]) for s in scores})
        noisy = {
            (r["run_id"], n["value"], t)
            for r in self.reports
            for n in r["noise"]
            if n["within_noise"]
            for t in (n["a"], n["b"])
        }
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(values))
        self.table.setHorizontalHeaderLabels(
            [self._label(run_id, t, sep="\n") + ("" if m == "vlm" else " (text)") for run_id, t, m in columns]
        )
        self.table.setVerticalHeaderLabels(values)
        cell = {(s["run_id"], s["target"], s["mode"], s["value"]): s for s in scores}
        for r, value in enumerate(values):
            for c, (run_id, target, mode) in enumerate(columns):
                s = cell.get((run_id, target, mode, value))
                if s is None:
                    text = "not measured"
                else:
                    score, lo, hi = self._cell(s)
                    head = (
                        "n/a" if score is None else f"{score:.0f}" + (f" [{lo:.0f}-{hi:.0f}]" if lo is not None else "")
                    )
                    if (run_id, value, target) in noisy and mode == "vlm":
                        head += " *"
                    if s.get("centred") is not None:
                        head += f"   centred {s['centred']:+.0f}"
                    text = (
                        f"{head}\nn={s['n']}: {s['yes']} yes, {s['no']} no, {s['refusal']} refused, "
                        f"{s['unparsed']} unparsed"
                        + (f" ({unparsed_range(s)} if no/yes)" if unparsed_range(s) else "")
                        + (f", {s['no_image']} saw no image" if s.get("no_image") else "")
                    )
                item = QTableWidgetItem(text)
                item.setToolTip(
                    COUNTS_TIP + ("\n\nClick (or press Enter) to see the answers behind this score." if s else "")
                )
                item.setData(Qt.ItemDataRole.UserRole, (run_id, target, mode, value))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()

    def _open_cell(self, row: int, column: int) -> None:
        """The answers behind the clicked score, in their own window."""
        from vspectrum_app.gui.panes.cell_answers import CellAnswers, trace_available

        item = self.table.item(row, column)
        cell = item.data(Qt.ItemDataRole.UserRole) if item else None
        if not cell or not trace_available():
            return
        if self.cell_answers is None:
            self.cell_answers = CellAnswers(self.ctx, self)
        run_id, target, mode, value = cell
        self.cell_answers.show_cell(run_id, target, mode, value, run_name=self.run_name(run_id))

    # -- export -------------------------------------------------------------------------
    def _tab_changed(self, *_: object) -> None:
        self.export_plot_button.setEnabled(
            self.tabs.currentWidget() not in (self.table, self.paper_view, self.drift_view)
        )

    def _export_paper(self, path: str | None = None) -> None:
        """A figure, LaTeX or JSON, written on the worker (see results_export)."""
        from vspectrum_app.gui.panes import results_export

        if not self.reports:
            self.status.set_message("Select a run first: there is nothing to export yet.")
            return
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export for a paper", "figure.pdf", results_export.FILTERS)
        if not path:
            return
        self.status.set_message(f"Writing {path}...")
        job = results_export.what_to_write(self)  # read the widgets here, write on the worker
        self._worker.run(
            lambda: results_export.write(job, path),
            lambda what: self.status.set_message(f"{what[:1].upper()}{what[1:]} saved to {path}", "success"),
            lambda message: self.status.set_message(f"Could not save {path}: {message}", "error"),
        )

    def _export_plot(self, path: str | None = None) -> None:
        widget = self.tabs.currentWidget()
        if widget is self.table:
            return self._export_csv(path)
        widget = self.robustness.bars if widget is self.robustness else widget
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export plot", "plot.png", "PNG (*.png);;SVG (*.svg)")
        if not path:
            return
        try:
            export_plot(widget, path)
        except OSError as exc:
            self.status.set_message(f"Could not save the plot: {exc.strerror or exc}. Choose another folder.", "error")
            return
        self.status.set_message(f"Plot saved to {path}", "success")

    def _export_csv(self, path: str | None = None) -> None:
        from vspectrum_app.bench.report import LONG_COLUMNS
        from vspectrum_app.core.csvfile import write_dicts

        if not self.reports:
            self.status.set_message("Select a run first: there is nothing to export yet.")
            return
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export scores", "scores.csv", "CSV (*.csv)")
        if not path:
            return
        try:
            with open(path, "w", newline="", encoding="utf-8") as f:
                write_dicts(f, LONG_COLUMNS, [s for r in self.reports for s in r["scores"]])
        except OSError as exc:
            self.status.set_message(f"Could not save the table: {exc.strerror or exc}. Choose another folder.", "error")
            return
        self.status.set_message(f"Table saved to {path}", "success")


def _mean_sd(model: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """Fig. 7: a model's mean score, whiskers one standard deviation across values either side."""
    mean, sd = model["mean"], model["std"]
    if mean is None or sd is None:
        return mean, None, None
    return mean, mean - sd, mean + sd


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"
