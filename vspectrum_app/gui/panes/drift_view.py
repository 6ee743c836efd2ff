"""The Results pane's "Drift" tab: two selected runs compared image by image (the same model at
two dates), as ``vspectrum bench compare`` prints it: ``bench.drift.compare_runs`` computes
it on the pane's worker; this only presents."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core.workspace import Workspace
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.workers import Worker, while_current

COLUMNS = ["Older run", "Newer run", "Shared images", "Liked only before / after", "Change", "p", "Holm p", ""]


def _score(row: dict[str, Any], side: str) -> str:
    s, lo, hi = row[f"score_{side}"], row[f"ci_low_{side}"], row[f"ci_high_{side}"]
    if s is None:
        return "not measured"
    return f"{s:.0f}" + ("" if lo is None else f" [{lo:.0f}-{hi:.0f}]")


class DriftView(QWidget):
    def __init__(self, worker: Worker, parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = worker
        self.ws: Workspace | None = None
        self.runs: list[str] = []
        self.paper_style = False
        self.result: dict[str, Any] | None = None
        self._generation = 0
        self._key: tuple[Any, ...] | None = None  # what the result shown was computed from
        self.target = QComboBox()
        self.target.setAccessibleName("Model in both runs")
        self.target.currentIndexChanged.connect(lambda _: self.compute())
        top = QHBoxLayout()
        top.addWidget(QLabel("Model in both runs"))
        top.addWidget(self.target, 1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName("Drift between two runs")
        self.note = MessageLabel("Select two runs of the same model to see what changed between them.", lines=3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)

    def set_reports(self, ws: Workspace | None, reports: list[dict[str, Any]], paper_style: bool) -> None:
        """Two reports: their runs (put in the order they were made on the worker)."""
        runs = [r["run_id"] for r in reports]
        key = (ws, paper_style, [(r["run_id"], r["progress"]["done"]) for r in reports])
        if self.result is not None and key == self._key:
            return  # a view switch (centred, fitted) redraws the pane: the answers are the same
        self._key = key
        self.ws, self.paper_style, self.runs = ws, paper_style, runs
        targets = [{s["target"] for s in r["scores"] if s["mode"] == "vlm"} for r in reports]
        shared = sorted(set.intersection(*targets)) if len(reports) == 2 else []
        current = self.target.currentText()
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItems(shared)
        if current in shared:
            self.target.setCurrentText(current)
        self.target.blockSignals(False)
        self.compute()

    def compute(self) -> None:
        from vspectrum_app.bench.drift import compare_runs
        from vspectrum_app.bench.store import RunStore

        self._generation += 1
        generation = self._generation
        self.result = None
        self.table.setRowCount(0)
        if len(self.runs) != 2 or self.ws is None:
            self.note.set_message("Select two runs of the same model to see what changed between them.")
            return
        if not self.target.currentText():
            self.note.set_message("The two runs share no model: drift compares one model's answers at two dates.")
            return
        runs, ws, target, paper = list(self.runs), self.ws, self.target.currentText(), self.paper_style

        def pair() -> dict[str, Any]:
            made = [r["id"] for r in RunStore(ws).runs()]  # oldest first
            a, b = sorted(runs, key=made.index)
            return compare_runs(ws, a, b, target, target, paper_style=paper)

        self.note.set_message("Pairing the two runs' answers by image...")
        self.worker.run(
            pair,
            while_current(lambda: generation == self._generation, self._show),
            while_current(
                lambda: generation == self._generation,
                lambda message: self.note.set_message(f"Cannot compare the runs: {message}", "error"),
            ),
        )

    def _show(self, d: dict[str, Any]) -> None:
        self.result = d
        rows = d["values"]
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([r["value"] for r in rows])
        for i, r in enumerate(rows):
            tested = r["p"] is not None
            cells = [
                _score(r, "a"),
                _score(r, "b"),
                str(r["pairs"]),
                f"{r['only_a_yes']} / {r['only_b_yes']}",
                f"{r['difference']:+.0f}" if r["difference"] is not None else "",
                f"{r['p']:.3g}" if tested else "",
                f"{r['p_holm']:.3g}" if tested else "",
                "changed" if r["drifted"] else "",
            ]
            for c, text in enumerate(cells):
                self.table.setItem(i, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        drifted = d["drifted"]
        self.note.set_message(
            f"{d['a']['run_id']} ({(d['a']['created_at'] or '?')[:10]}) then {d['b']['run_id']} "
            f"({(d['b']['created_at'] or '?')[:10]}): {len(drifted)} of {d['tested']} values changed at Holm "
            f"p < 0.05" + (f" ({', '.join(drifted)})" if drifted else "") + f". Test: {d['method']}. Change: "
            "the newer run's yes-share minus the older's on the shared images, in points."
            + "".join(f" Note: {n}." for n in d["notes"])
        )
