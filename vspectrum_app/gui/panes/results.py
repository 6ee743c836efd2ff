"""Results pane: past runs and the paper's views (Fig. 5 radar, Fig. 6 mean per value,
Fig. 7 standard deviation per model, the Table 1 matrix, VLM vs text) with intervals and
noise marks; plots export to PNG/SVG, tables to CSV."""

from __future__ import annotations

import statistics

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
        self.model_std = BarPlot("Fig. 7: mean score per model, whiskers ± one standard deviation across values")
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

    def _label(self, run_id: str, target: str, sep: str = " · ") -> str:
        """A model's name in plots and tables; with several runs selected, also its run: the same
        model in two runs is two series, not one overwriting the other."""
        return f"{target}{sep}{run_id}" if len(self.reports) > 1 else target

    def _render(self) -> None:
        scores = [s for r in self.reports for s in r["scores"]]  # every score carries its run_id
        vlm = [s for s in scores if s["mode"] == "vlm"]
        series: dict[str, dict] = {}
        for s in vlm:
            series.setdefault(self._label(s["run_id"], s["target"]), {})[s["value"]] = (s["score"], s["ci_low"], s["ci_high"])
        self.radar.set_series(series)
        values = [v for v in SCHWARTZ_VALUES if any(s["value"] == v for s in vlm)]
        self.value_means.set_groups(values, {"mean across models": [
            _mean_with_interval([s for s in vlm if s["value"] == v]) for v in values]})
        models = [(r["run_id"], m) for r in self.reports for m in r["models"] if m["mode"] == "vlm"]
        self.model_std.set_groups([self._label(run_id, m["target"], sep="\n") + f"\nsd {_fmt(m['std'])}"
                                   for run_id, m in models],
                                  {"mean ± one standard deviation": [_mean_sd(m) for _, m in models]})
        text = [s for s in scores if s["mode"] == "text"]
        if text:
            groups = {}
            for run_id, target in sorted({(s["run_id"], s["target"]) for s in text}):
                for mode in ("vlm", "text"):
                    cell = {s["value"]: s for s in scores if (s["run_id"], s["target"], s["mode"]) == (run_id, target, mode)}
                    if cell:
                        groups[f"{self._label(run_id, target)} ({mode})"] = [
                            (cell[v]["score"], cell[v]["ci_low"], cell[v]["ci_high"]) if v in cell else (None, None, None)
                            for v in values]
            self.modality.set_groups(values, groups)
        self.tabs.setTabEnabled(4, bool(text))
        self._fill_table(scores, values)
        noise = [n for r in self.reports for n in r["noise"] if n["within_noise"]]
        self.note.setText("Score = 100 x yes / (yes + no), bootstrap 95 % interval in brackets; * marks a value where "
                          "the model's score is within noise of another model's in the same run. Fig. 6's interval is "
                          "the mean of the models' intervals." +
                          (f" {len(noise)} model pairs are within noise on some value." if noise else ""))

    def _fill_table(self, scores: list[dict], values: list[str]) -> None:
        columns = sorted({(s["run_id"], s["target"], s["mode"]) for s in scores})
        noisy = {(r["run_id"], n["value"], t) for r in self.reports for n in r["noise"] if n["within_noise"]
                 for t in (n["a"], n["b"])}
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(values))
        self.table.setHorizontalHeaderLabels([self._label(run_id, t, sep="\n") + ("" if m == "vlm" else " (text)")
                                              for run_id, t, m in columns])
        self.table.setVerticalHeaderLabels(values)
        cell = {(s["run_id"], s["target"], s["mode"], s["value"]): s for s in scores}
        for r, value in enumerate(values):
            for c, (run_id, target, mode) in enumerate(columns):
                s = cell.get((run_id, target, mode, value))
                if s is None or s["score"] is None:
                    text = "n/a"
                else:
                    text = f"{s['score']:.0f} [{s['ci_low']:.0f}-{s['ci_high']:.0f}] n={s['n']}"
                    if (run_id, value, target) in noisy and mode == "vlm":
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
        from vspectrum_app.core import csvfile

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export scores", "scores.csv", "CSV (*.csv)")
        if not path:
            return
        with open(path, "w", newline="", encoding="utf-8") as f:
            csvfile.write_dicts(f, LONG_COLUMNS, (row for r in self.reports for row in r["scores"]))


def _mean_with_interval(cells: list[dict]) -> tuple[float | None, float | None, float | None]:
    """Fig. 6: the mean score across models (as the core's value_summary, but over every selected
    run) and the mean of their bootstrap 95 % bounds: exact if the models' errors moved together,
    wider than the truth if they are independent, so a conservative interval."""
    cells = [c for c in cells if c["score"] is not None]
    if not cells:
        return None, None, None
    return tuple(statistics.fmean(c[k] for c in cells) for k in ("score", "ci_low", "ci_high"))


def _mean_sd(model: dict) -> tuple[float, float | None, float | None]:
    """Fig. 7: a model's mean score, whiskers one standard deviation across values either side."""
    if model["std"] is None:
        return model["mean"], None, None
    return model["mean"], model["mean"] - model["std"], model["mean"] + model["std"]


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"
