"""The Results pane's Robustness view: one run's prompt-wording report (``bench.robustness``,
what ``vspectrum bench report RUN --variants`` prints), presented: per value the score under
each wording with its interval (bars and a table), the range, the share answered alike,
Fleiss' kappa, the Holm-adjusted p and the verdict; per model the agreement and the rank
correlations. Computed on the worker pool; nothing is computed here."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core.workspace import Workspace
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.plots import BarPlot
from vspectrum_app.gui.workers import Worker, while_current

VERDICT_TIP = (
    "wording-sensitive: the yes-shares differ across wordings beyond chance on the images answered yes or no "
    "under every wording (Cochran's Q; exact McNemar for two wordings; Holm over the values, p < 0.05). "
    "stable: no such difference. Run with several wordings (Benchmark pane, Question wordings) to compare."
)


FIXED = 6  # columns before the wordings' scores


def _num(v: float | None, fmt: str = "{:.0f}") -> str:
    return "n/a" if v is None else fmt.format(v)


class RobustnessView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.report: dict[str, Any] | None = None
        self._generation = 0
        self._worker = Worker(self)
        self.model = QComboBox()
        self.model.setAccessibleName("Model")
        self.model.currentIndexChanged.connect(lambda _: self._render())
        self.bars = BarPlot("Score per value under each wording, 95 % intervals")
        self.bars.setMinimumHeight(150)  # the table below matters more on a small screen
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName("Scores per wording")
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.summary = MessageLabel("Select a run.", lines=3)
        top = QHBoxLayout()
        top.addWidget(QLabel("Model"))
        top.addWidget(self.model, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.bars)
        split.addWidget(self.table)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)

    def show_run(self, ws: Workspace, run_id: str, paper_style: bool = False) -> None:
        """Compute the run's report on the worker; a newer request drops an older one."""
        from vspectrum_app.bench.robustness import variant_report

        self._generation += 1
        generation = self._generation
        self.summary.set_message("Computing the wording report...")
        self._worker.run(
            lambda: variant_report(ws, run_id, paper_style=paper_style),
            while_current(lambda: generation == self._generation, self.set_report),
            while_current(
                lambda: generation == self._generation,
                lambda message: self.summary.set_message(f"Cannot compute the wording report: {message}", "error"),
            ),
        )

    def set_report(self, report: dict[str, Any]) -> None:
        self.report = report
        current = self.model.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        for m in report["models"]:
            self.model.addItem(m["target"] + (" (from text)" if m["mode"] == "text" else ""), (m["target"], m["mode"]))
        index = self.model.findData(current)
        self.model.setCurrentIndex(max(index, 0))
        self.model.blockSignals(False)
        self._render()

    def _render(self) -> None:
        report = self.report
        if report is None:
            return
        key = self.model.currentData()
        names = [w["name"] for w in report["wordings"]]
        texts = {w["name"]: w["like"] for w in report["wordings"]}
        rows = [v for v in report["values"] if (v["target"], v["mode"]) == key]
        scores = {(s["value"], s["variant"]): s for s in report["scores"] if key and (s["target"], s["mode"]) == key}
        values = [r["value"] for r in rows]
        self.bars.set_groups(
            values,
            {
                n: [
                    (s["score"], s["ci_low"], s["ci_high"]) if (s := scores.get((v, n))) else (None, None, None)
                    for v in values
                ]
                for n in names
            },
        )
        # the verdict and what it rests on first, in view without scrolling; then each wording's score
        headers = ["Value", "Verdict", "Range", "Alike", "Kappa", "Holm p"] + names
        self.table.clear()
        self.table.setColumnCount(len(headers))
        tips = {1: VERDICT_TIP} | {n: f"Wording {name!r}: {texts[name]}" for n, name in enumerate(names, start=FIXED)}
        for n, header in enumerate(headers):
            item = QTableWidgetItem(header)
            item.setToolTip(tips.get(n, ""))
            self.table.setHorizontalHeaderItem(n, item)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = [
                row["value"],
                row["verdict"],
                _num(row["range"]),
                f"{row['alike']}/{row['units']}",
                _num(row["kappa"], "{:.2f}"),
                _num(row.get("p_holm"), "{:.3g}"),
            ]
            for name in names:
                s = scores.get((row["value"], name))
                ci = f" [{s['ci_low']:.0f}-{s['ci_high']:.0f}]" if s and s["ci_low"] is not None else ""
                cells.append(_num(s["score"] if s else None) + ci)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 1:
                    from vspectrum_app.bench.robustness import value_line

                    item.setToolTip(value_line(row))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        model = next((m for m in report["models"] if (m["target"], m["mode"]) == key), None)
        if len(names) < 2:
            self.summary.set_message(
                "This run asked one wording of the question. Start a run with several wordings (Benchmark pane, "
                "Question wordings) to see whether the profile depends on the wording."
            )
        elif model is not None:
            rhos = [c["rho"] for c in model["correlations"] if c["rho"] is not None]
            sensitive = [r["value"] for r in rows if r["verdict"] == "wording-sensitive"]
            self.summary.set_message(
                f"{len(names)} wordings. Answered alike under every wording: {model['alike']}/{model['units']} "
                f"({_num(model['alike_share'])} %); Fleiss' kappa {_num(model['kappa'], '{:.2f}')}. "
                + (
                    f"Rank correlation of the profiles between wordings: {min(rhos):+.2f} to {max(rhos):+.2f}. "
                    if rhos
                    else "Rank correlation of the profiles: n/a (too few values, or a flat profile). "
                )
                + (f"Wording-sensitive: {', '.join(sensitive)}." if sensitive else "No value is wording-sensitive.")
                + " Hover a column for its wording, a verdict for its test."
            )
        else:
            self.summary.set_message("No answers yet.")
