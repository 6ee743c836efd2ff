"""The Persona pane's plots and its results area: the running yes-rate per trial and the served
topic mix (live and for finished sessions), the session reports and the paper's Tables 3-8
for the sessions selected, with export of tables to CSV and plots to PNG/SVG."""

from __future__ import annotations

from typing import Any


import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core.workspace import Workspace
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.plots import COLORS, BarPlot, export_plot, themed
from vspectrum_app.gui.workers import Worker

REPORT_HEADERS = [
    "Session",
    "Persona",
    "Model",
    "Strategy",
    "Platform",
    "Trials",
    "Videos",
    "Watched %",
    "First n %",
    "Last n %",
    "Change %",
    "p",
    "I_avg %",
    "I_avg 95% CI",
    "Undefined trials",
    "Served related % (first → last)",
]
TABLE_HEADERS = [
    "Table",
    "Model",
    "Persona",
    "Trials",
    "First n %",
    "Last n %",
    "Change %",
    "p",
    "I_avg %",
    "I_avg 95% CI",
    "Undefined trials",
]


class SeriesPlot(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped: its classes are Any
    """Named lines over x; ``set_series`` updates lines in place (cheap enough for live redraws)."""

    def __init__(self, title: str, x_label: str, y_label: str, symbols: bool = False, parent: QWidget | None = None):
        super().__init__(parent=parent, title=title)
        self.symbols = symbols  # dots on the points: a bucketed series may have a single point
        self.setLabel("bottom", x_label)
        self.setLabel("left", y_label)
        self.setYRange(0, 100)
        # inside the plot to leave the small plot its height, on a near-opaque backdrop of the
        # plot's own background so the lines behind do not run through the names
        backdrop = self.backgroundBrush().color()
        backdrop.setAlpha(215)
        self.addLegend(offset=(10, 10), brush=backdrop)
        self.curves: dict[str, pg.PlotDataItem] = {}
        themed(self)

    def set_series(self, series: dict[str, tuple[list[float], list[float]]]) -> None:
        for name in [n for n in self.curves if n not in series]:
            self.removeItem(self.curves.pop(name))
        for n, (name, (xs, ys)) in enumerate(series.items()):
            if name in self.curves:
                self.curves[name].setData(np.asarray(xs, float), np.asarray(ys, float))
            else:
                color = COLORS[n % len(COLORS)]
                dots = dict(symbol="o", symbolSize=6, symbolBrush=color, symbolPen=color) if self.symbols else {}
                self.curves[name] = self.plot(
                    np.asarray(xs, float), np.asarray(ys, float), name=name, pen=pg.mkPen(color, width=2), **dots
                )


def yes_rate_series(curves: dict[int, list[float]], prefix: str = "") -> dict[str, tuple[list[Any], list[Any]]]:
    """``report.cumulative_yes_rate``'s curves as plot lines, one per trial (x: video 1, 2, ...)."""
    return {f"{prefix}trial {t + 1}": (list(range(1, len(ys) + 1)), ys) for t, ys in sorted(curves.items())}


def mix_series(buckets: list[dict[str, Any]]) -> dict[str, tuple[list[Any], list[Any]]]:
    """Served-mix buckets as plot lines, one per topic (x: the bucket's first video, y: share %)."""
    topics = sorted({t for b in buckets for t in b["mix"]})
    xs = [b["from"] + 1 for b in buckets]
    return {t: (xs, [100 * b["mix"].get(t, 0.0) for b in buckets]) for t in topics}


def mix_bucket(scrolls: int) -> int:
    """Ten points per trial for the topic mix (each point one bucket of videos)."""
    return max(1, scrolls // 10)


def _num(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def _ci(ci: list[float] | tuple[float, float] | None) -> str:
    return "n/a" if not ci else f"{ci[0]:.1f} to {ci[1]:.1f}"


def _report_cells(r: dict[str, Any]) -> list[str]:
    who = f"{r['provider']}:{r['model']}" if r["model"] else "control"
    served = r.get("served_related")
    return [
        r["session_id"] + (f" (replay of {r['replay_of']})" if r.get("replay_of") else ""),
        r["persona"],
        who,
        r["strategy"],
        r["platform"],
        f"{r['trials_done']}/{r['trials']}",
        str(r["steps"]),
        _num(r["watch_rate"]),
        _num(r["first_rate"]),
        _num(r["last_rate"]),
        _num(r["change"]),
        r.get("change_p_text") or _num(r["change_p"], 3),  # "< 0.0005" at the floor
        _num(r["i_avg"]),
        _ci(r["i_avg_ci95"]),
        str(len(r["undefined_trials"])),
        f"{_num(served['first_rate'])} → {_num(served['last_rate'])}" if served else "n/a",
    ]


def _table_cells(title: str, row: dict[str, Any]) -> list[str]:
    return [
        title,
        row["model"],
        row["persona"],
        str(row["trials"]),
        _num(row["first_rate"]),
        _num(row["last_rate"]),
        _num(row["change"]),
        row.get("change_p_text") or _num(row["change_p"], 3),
        _num(row["i_avg"]),
        _ci(row["i_avg_ci95"]),
        str(row["undefined_trials"]),
    ]


def figure8_groups(tables: list[dict[str, Any]]) -> tuple[list[str], dict[str, list[tuple[Any, ...]]]]:
    """The paper's Figure 8 as grouped bars: a category per table (platform x strategy), a
    series per model (and persona, when several), I_avg with its bootstrap interval."""
    categories = [t["title"] for t in tables]
    groups: dict[str, list[tuple[Any, ...]]] = {}
    personas = {row["persona"] for t in tables for row in t["rows"]}
    for i, table in enumerate(tables):
        for row in table["rows"]:
            name = row["model"] + (f" / {row['persona']}" if len(personas) > 1 else "")
            lo, hi = row["i_avg_ci95"] or (None, None)
            groups.setdefault(name, [(None, None, None)] * len(categories))[i] = (row["i_avg"], lo, hi)
    return categories, groups


def _text(item: QTableWidgetItem | None) -> str:
    return item.text() if item is not None else ""


def compute_results(ws: Workspace, session_ids: list[str]) -> dict[str, Any]:
    """Everything the results area shows (run in a worker thread: the permutation test and the
    bootstrap take a second or two per session)."""
    from vspectrum_app.persona.report import alignment_tables, cumulative_yes_rate, served_mix, session_report
    from vspectrum_app.persona.store import SessionStore

    store = SessionStore(ws)
    reports = [session_report(ws, s) for s in session_ids]
    curves = {}
    for s in session_ids:
        prefix = f"{s[-6:]} " if len(session_ids) > 1 else ""
        curves.update(yes_rate_series(cumulative_yes_rate(store.steps(s)), prefix))
    first = session_ids[0]
    mix = served_mix(ws, first, mix_bucket(store.config(first).scrolls))
    return {
        "ids": session_ids,
        "reports": reports,
        "tables": alignment_tables(reports),
        "curves": curves,
        "mix": mix_series(mix) if any(t != "(unknown)" for b in mix for t in b["mix"]) else {},
    }


class SessionResults(QWidget):
    """Reports, Tables 3-8 and plots for the sessions chosen with ``show_sessions``."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.data: dict[str, Any] | None = None
        self._wanted: list[str] = []
        self._worker = Worker(self)
        self.report_table = self._table(REPORT_HEADERS)
        self.alignment_table = self._table(TABLE_HEADERS)
        self.yes_plot = SeriesPlot("Running yes-rate per trial", "video in the trial", "yes so far (%)")
        self.mix_plot = SeriesPlot(
            "Served topic mix (simulator ground truth)", "video in the trial", "share of videos (%)", symbols=True
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.report_table, "Report")
        self.tabs.addTab(self.alignment_table, "Tables 3-8")
        self.tabs.addTab(self.yes_plot, "Yes-rate")
        self.tabs.addTab(self.mix_plot, "Topic mix")
        self.i_avg_plot = BarPlot("I_avg per model (Figure 8), with 95% intervals over trials")
        self.i_avg_plot.setLabel("left", "I_avg (%)")
        self.tabs.addTab(self.i_avg_plot, "I_avg (Fig. 8)")
        self.note = QLabel("Select sessions in the Sessions tab.")
        self.note.setWordWrap(True)
        self.export_table_button = QPushButton("Export table (CSV)...")
        self.export_plot_button = QPushButton("Export plot...")
        self.export_table_button.clicked.connect(lambda: self.export_table())
        self.export_plot_button.clicked.connect(lambda: self.export_plot())
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_table_button)
        buttons.addWidget(self.export_plot_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._tab_changed()

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        return table

    def _tab_changed(self) -> None:
        on_table = isinstance(self.tabs.currentWidget(), QTableWidget)
        self.export_table_button.setEnabled(on_table)
        self.export_plot_button.setEnabled(not on_table)

    # -- computing ----------------------------------------------------------------------
    def show_sessions(self, session_ids: list[str]) -> None:
        self._wanted = list(session_ids)
        if not session_ids or self.ctx.workspace is None:
            self._fill({"ids": [], "reports": [], "tables": [], "curves": {}, "mix": {}})
            return
        self.note.setText(f"Computing the report for {len(session_ids)} session(s)...")
        ws, ids = self.ctx.workspace, list(session_ids)
        self._worker.run(lambda: compute_results(ws, ids), self._computed, self._failed)

    def _computed(self, data: dict[str, Any]) -> None:
        if data["ids"] == self._wanted:  # a newer selection supersedes this one
            self._fill(data)

    def _failed(self, message: str) -> None:
        self.note.setText(f"Cannot compute the report: {message}")

    def _fill(self, data: dict[str, Any]) -> None:
        self.data = data
        self._set_rows(self.report_table, [_report_cells(r) for r in data["reports"]])
        self._set_rows(
            self.alignment_table, [_table_cells(t["title"], row) for t in data["tables"] for row in t["rows"]]
        )
        self.yes_plot.set_series(data["curves"])
        self.mix_plot.set_series(data["mix"])
        self.i_avg_plot.set_groups(*figure8_groups(data["tables"]), y_range=None)
        if data["reports"]:
            n = data["reports"][0]["window"]
            self.note.setText(
                f"First/last n: the yes-rate in each trial's first and last {n} videos; change "
                f"relative to the first; p: permutation test of the change; I_avg: the mean "
                f"per-trial change (trials with no yes in the first n are left out)."
            )
        elif not self._wanted:
            self.note.setText("Select sessions in the Sessions tab.")

    @staticmethod
    def _set_rows(table: QTableWidget, rows: list[list[str]]) -> None:
        table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                table.setItem(r, c, QTableWidgetItem(text))
        table.resizeColumnsToContents()

    # -- exports ------------------------------------------------------------------------
    def export_table(self, path: str | None = None) -> None:
        """The table shown (Report or Tables 3-8) as CSV, the cells as displayed."""
        table = self.tabs.currentWidget()
        if not isinstance(table, QTableWidget):
            table = self.report_table
        if path is None:
            name = "persona-tables.csv" if table is self.alignment_table else "persona-report.csv"
            path, _ = QFileDialog.getSaveFileName(self, "Export table", name, "CSV (*.csv)")
        if not path:
            return
        from vspectrum_app.core import csvfile

        headers = [_text(table.horizontalHeaderItem(c)) for c in range(table.columnCount())]
        rows = [[_text(table.item(r, c)) for c in range(table.columnCount())] for r in range(table.rowCount())]
        csvfile.write_file(path, headers, rows)

    def export_plot(self, path: str | None = None) -> None:
        plot = self.tabs.currentWidget()
        if not isinstance(plot, pg.PlotWidget):
            plot = self.yes_plot
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export plot", "persona-plot.png", "PNG (*.png);;SVG (*.svg)")
        if path:
            export_plot(plot, path)
