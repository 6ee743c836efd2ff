"""The Results pane's "Paper" tab: a run's profile with a published one (the paper's Table 1 or
10) drawn over it, radar and bars, and the comparison table. Every number is
``bench.paper.compare``'s, as ``bench report --against-paper`` prints it; this only presents."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.bench import paper
from vspectrum_app.bench.circumplex import ORDER
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.plots import BarPlot, RadarPlot

COLUMNS = ["Paper", "Run", "Difference", "p", "Holm p", ""]
PAPER_TIP = (
    "A published profile from the paper (arXiv 2411.11479): Table 1, or Table 10's direct answers and "
    "description + LLM settings. Its scores are shares of 50 images per value, so they carry an interval too."
)


def _ci(lo: float | None, hi: float | None) -> str:
    return "" if lo is None or hi is None else f" [{lo:.0f}-{hi:.0f}]"


class PaperView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.reports: list[dict[str, Any]] = []
        self.comparison: dict[str, Any] | None = None  # the last one shown (exports write it)
        self.model = QComboBox()
        self.model.setAccessibleName("Published model")
        self.model.setToolTip(PAPER_TIP)
        for table in paper.SCORE_TABLES:
            for key in paper.models(table):
                self.model.addItem(f"Table {table}: {key}", (table, key))
        self.model.setMinimumContentsLength(18)
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.target = QComboBox()
        self.target.setAccessibleName("Run's model")
        self.target.setMinimumContentsLength(14)
        self.target.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._picked = False  # the user chose a published model: keep it across runs
        self.model.activated.connect(lambda _: setattr(self, "_picked", True))
        self.model.currentIndexChanged.connect(lambda _: self.refresh())
        self.target.currentIndexChanged.connect(lambda _: self.refresh())
        top = QHBoxLayout()
        top.addWidget(QLabel("Run's model"))
        top.addWidget(self.target, 1)
        top.addWidget(QLabel("against"))
        top.addWidget(self.model, 1)
        self.radar = RadarPlot("Run and paper, 95 % bands")
        self.bars = BarPlot("Run and paper per value, 95 % intervals")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName("Run against the paper")
        self.views = QTabWidget()
        self.views.addTab(self.radar, "Radar")
        self.views.addTab(self.bars, "Bars")
        self.views.addTab(self.table, "Table")
        self.note = MessageLabel(lines=3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.note)

    def set_reports(self, reports: list[dict[str, Any]], label: Callable[[str, str], str]) -> None:
        """``label(run_id, target)``: the name the pane gives a run's model."""
        self.reports = reports
        current = self.target.currentData()
        self.target.blockSignals(True)
        self.target.clear()
        for r in reports:
            for t in sorted({s["target"] for s in r["scores"] if s["mode"] == "vlm"}):
                self.target.addItem(label(r["run_id"], t), (r["run_id"], t))
        index = max(0, self.target.findData(current)) if current else 0
        self.target.setCurrentIndex(index)
        self.target.blockSignals(False)
        if not self._picked and self.target.currentData():
            self._guess_model(self.target.currentData()[1])
        self.refresh()

    def _guess_model(self, target: str) -> None:
        """Preselect Table 1's row whose name the run's model names (openai:gpt-4o -> GPT-4o)."""
        wanted = "".join(ch for ch in target.lower() if ch.isalnum())
        for i in range(self.model.count()):
            table, key = self.model.itemData(i)
            name = "".join(ch for ch in key.lower() if ch.isalnum())
            if table == 1 and name and wanted.endswith(name):
                self.model.blockSignals(True)
                self.model.setCurrentIndex(i)
                self.model.blockSignals(False)
                return

    def refresh(self) -> None:
        picked, model = self.target.currentData(), self.model.currentData()
        if not picked or not model:
            self.comparison = None
            self.radar.set_series({})
            self.bars.set_groups([], {})
            self.table.setRowCount(0)
            self.note.set_message("Select a run with scores to compare it with the paper.")
            return
        run_id, target = picked
        report = next(r for r in self.reports if r["run_id"] == run_id)
        table, key = model
        cmp = paper.compare(report, key, table, target)
        self.comparison = cmp
        run_cells = {r["value"]: (r["run"], r["run_ci_low"], r["run_ci_high"]) for r in cmp["values"]}
        pub_cells = {r["value"]: (r["paper"], r["paper_ci_low"], r["paper_ci_high"]) for r in cmp["values"]}
        run_name, pub_name = self.target.currentText(), f"{key} (paper, Table {table})"
        self.radar.set_series({run_name: run_cells, pub_name: pub_cells})
        self.bars.set_groups(
            list(ORDER),
            {run_name: [run_cells[v] for v in ORDER], pub_name: [pub_cells[v] for v in ORDER]},
        )
        self._fill_table(cmp)
        rho, mad = cmp["spearman"], cmp["mean_abs_difference"]
        self.note.set_message(
            f"{len(cmp['differ'])} of {cmp['measured']} values differ at Holm p < 0.05"
            + (f" ({', '.join(cmp['differ'])})" if cmp["differ"] else "")
            + f"; Spearman rho {'n/a' if rho is None else f'{rho:.2f}'}, mean absolute difference "
            + ("n/a" if mad is None else f"{mad:.1f}")
            + f" points. {cmp['rule_text'][:1].upper()}{cmp['rule_text'][1:]}. Test: {cmp['method']}."
            + "".join(f" Note: {n}." for n in cmp["notes"])
        )

    def _fill_table(self, cmp: dict[str, Any]) -> None:
        rows = cmp["values"]
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([r["value"] for r in rows])
        for i, r in enumerate(rows):
            measured = r["run"] is not None
            cells = [
                f"{r['paper']:.0f}" + _ci(r["paper_ci_low"], r["paper_ci_high"]),
                f"{r['run']:.0f}" + _ci(r["run_ci_low"], r["run_ci_high"]) if measured else "not measured",
                f"{r['difference']:+.0f} [{r['diff_low']:+.0f}, {r['diff_high']:+.0f}]" if measured else "",
                f"{r['p']:.3g}" if measured else "",
                f"{r['p_holm']:.3g}" if measured else "",
                "differs" if r["differs"] else "",
            ]
            for c, text in enumerate(cells):
                self.table.setItem(i, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
