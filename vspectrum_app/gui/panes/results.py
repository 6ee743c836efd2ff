"""Results pane: past runs and the paper's views (Fig. 5 radar, Fig. 6 mean per value,
Fig. 7 standard deviation per model, the Table 1 matrix, VLM vs text) with intervals and
noise marks; plots export to PNG/SVG, tables to CSV."""

from __future__ import annotations

import csv

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from vspectrum_app.core.values import SCHWARTZ_VALUES
from vspectrum_app.gui.plots import BarPlot, RadarPlot, export_plot


class ResultsPane(QWidget):
    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.reports: list[dict] = []
        self.runs = QListWidget()
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runs.itemSelectionChanged.connect(self.show_selected)
        self.tabs = QTabWidget()
        self.radar = RadarPlot("Fig. 5: scores per value, 95 % bands")
        self.value_means = BarPlot("Fig. 6: mean score per value across models")
        self.model_std = BarPlot("Fig. 7: standard deviation across values, per model")
        self.modality = BarPlot("Fig. 9: VLM (image) vs text-only (description)")
        self.table = QTableWidget()
        self.tabs.addTab(self.radar, "Radar")
        self.tabs.addTab(self.value_means, "Per value")
        self.tabs.addTab(self.model_std, "Per model")
        self.tabs.addTab(self.table, "Table 1")
        self.tabs.addTab(self.modality, "VLM vs text")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.export_plot_button = QPushButton("Export plot...")
        self.export_csv_button = QPushButton("Export table (CSV)...")
        self.export_plot_button.clicked.connect(self._export_plot)
        self.export_csv_button.clicked.connect(self._export_csv)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_plot_button)
        buttons.addWidget(self.export_csv_button)
        buttons.addStretch()
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.tabs, 1)
        rl.addWidget(self.note)
        rl.addLayout(buttons)
        split = QSplitter()
        split.addWidget(self.runs)
        split.addWidget(right)
        split.setStretchFactor(1, 4)
        QVBoxLayout(self).addWidget(split)
        ctx.runs_changed.connect(self.reload)
        ctx.workspace_changed.connect(self.reload)
        self.reload()

    def reload(self) -> None:
        self.runs.clear()
        if not self.ctx.workspace:
            return
        from vspectrum_app.bench.store import RunStore

        for run in reversed(RunStore(self.ctx.workspace).runs()):
            item = QListWidgetItem(f"{run['id']}\n{', '.join(run['targets'])}\n{run['done']}/{run['total']} {run['status']}")
            item.setData(Qt.ItemDataRole.UserRole, run["id"])
            self.runs.addItem(item)
        if self.runs.count():
            self.runs.setCurrentRow(0)

    def show_selected(self) -> None:
        from vspectrum_app.bench.report import run_report

        ids = [i.data(Qt.ItemDataRole.UserRole) for i in self.runs.selectedItems()]
        self.reports = [run_report(self.ctx.workspace, run_id) for run_id in ids]
        self._render()

    def _render(self) -> None:
        scores = [s for r in self.reports for s in r["scores"]]
        vlm = [s for s in scores if s["mode"] == "vlm"]
        series: dict[str, dict] = {}
        for s in vlm:
            series.setdefault(s["target"], {})[s["value"]] = (s["score"], s["ci_low"], s["ci_high"])
        self.radar.set_series(series)
        values = [v for v in SCHWARTZ_VALUES if any(s["value"] == v for s in vlm)]
        means = {m["value"]: m["mean"] for r in self.reports for m in r["values"]}
        self.value_means.set_groups(values, {"mean across models": [(means.get(v), None, None) for v in values]})
        models = [m for r in self.reports for m in r["models"] if m["mode"] == "vlm"]
        self.model_std.set_groups([m["target"] for m in models],
                                  {"standard deviation": [(m["std"], None, None) for m in models]}, y_range=None)
        text = [s for s in scores if s["mode"] == "text"]
        if text:
            pairs = sorted({s["target"] for s in text})
            groups = {}
            for target in pairs:
                for mode in ("vlm", "text"):
                    cell = {s["value"]: s for s in scores if s["target"] == target and s["mode"] == mode}
                    if cell:
                        groups[f"{target} ({mode})"] = [(cell[v]["score"], cell[v]["ci_low"], cell[v]["ci_high"])
                                                        if v in cell else (None, None, None) for v in values]
            self.modality.set_groups(values, groups)
        self.tabs.setTabEnabled(4, bool(text))
        self._fill_table(scores, values)
        noise = [n for r in self.reports for n in r["noise"] if n["within_noise"]]
        self.note.setText("Score = 100 x yes / (yes + no), bootstrap 95 % interval in brackets; * marks a value where "
                          "the model's score is within noise of another model's." +
                          (f" {len(noise)} model pairs are within noise on some value." if noise else ""))

    def _fill_table(self, scores: list[dict], values: list[str]) -> None:
        columns = sorted({(s["target"], s["mode"]) for s in scores})
        noisy = {(n["value"], t) for r in self.reports for n in r["noise"] if n["within_noise"] for t in (n["a"], n["b"])}
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(values))
        self.table.setHorizontalHeaderLabels([t if m == "vlm" else f"{t} (text)" for t, m in columns])
        self.table.setVerticalHeaderLabels(values)
        cell = {(s["target"], s["mode"], s["value"]): s for s in scores}
        for r, value in enumerate(values):
            for c, (target, mode) in enumerate(columns):
                s = cell.get((target, mode, value))
                if s is None or s["score"] is None:
                    text = "n/a"
                else:
                    text = f"{s['score']:.0f} [{s['ci_low']:.0f}-{s['ci_high']:.0f}] n={s['n']}"
                    if (value, target) in noisy and mode == "vlm":
                        text += " *"
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def _export_plot(self) -> None:
        widget = self.tabs.currentWidget()
        if widget is self.table:
            return self._export_csv()
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", "plot.png", "PNG (*.png);;SVG (*.svg)")
        if path:
            export_plot(widget, path)

    def _export_csv(self, path: str | None = None) -> None:
        from vspectrum_app.bench.report import LONG_COLUMNS

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export scores", "scores.csv", "CSV (*.csv)")
        if not path:
            return
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=LONG_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for r in self.reports:
                writer.writerows(r["scores"])
