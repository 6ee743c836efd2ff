"""The answers behind one score (issue 13.16): clicking a cell of the Results table lists every
answer it rests on (thumbnail, keyword, raw answer, class, the why and describe turns,
latency), filterable by class. The list comes from the core (bench.trace.answers_behind_cell),
read on a worker thread."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.workers import Worker, while_current

CLASSES = ["all answers", "yes", "no", "refusal", "unparsed", "no_image", "no_description"]
COLUMNS = ["", "Keyword", "Answer", "Class", "Why", "Describe", "Latency"]
CLASS_TIPS = {
    "yes": "a clear yes",
    "no": "a clear no",
    "refusal": "the model declined to answer",
    "unparsed": "neither a clear yes nor a clear no (left out of the score)",
    "no_image": "the model said it saw no image: a pipeline failure, left out of the score",
    "no_description": "the describing model gave no description: no question was put",
}


def trace_available() -> bool:
    try:
        from vspectrum_app.bench.trace import answers_behind_cell  # noqa: F401
    except ImportError:
        return False
    return True


class CellAnswers(QDialog):
    """A window listing the answers behind one (run, model, mode, value) cell."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.cell: tuple[str, str, str, str] | None = None
        self.answers: list[dict[str, Any]] = []
        self._generation = 0
        self._worker = Worker(self)
        self.setWindowTitle("Answers behind a score")
        self.resize(900, 520)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.filter = QComboBox()
        self.filter.addItems(CLASSES)
        self.filter.setAccessibleName("Show answers of class")
        self.filter.currentIndexChanged.connect(lambda _: self._load())
        self.status = MessageLabel(lines=1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QPixmap(40, 64).size())
        self.table.verticalHeader().setDefaultSectionSize(68)
        self.table.horizontalHeader().setStretchLastSection(False)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

    def show_cell(self, run_id: str, target: str, mode: str, value: str, run_name: str | None = None) -> None:
        self.cell = (run_id, target, mode, value)
        self.heading.setText(f"{target}{' (text only)' if mode == 'text' else ''} on {value}, run {run_name or run_id}")
        self.filter.blockSignals(True)
        self.filter.setCurrentIndex(0)
        self.filter.blockSignals(False)
        self._load()
        self.show()
        self.raise_()

    def _load(self) -> None:
        if self.cell is None or self.ctx.workspace is None:
            return
        from vspectrum_app.bench.trace import answers_behind_cell

        run_id, target, mode, value = self.cell
        chosen = self.filter.currentText()
        answer_class = None if chosen == CLASSES[0] else chosen
        self._generation += 1
        generation, ws = self._generation, self.ctx.workspace
        self.status.set_message("Reading the answers...")
        self._worker.run(
            lambda: answers_behind_cell(ws, run_id, target, value, mode=mode, answer_class=answer_class),
            while_current(lambda: generation == self._generation, self._fill),
            while_current(
                lambda: generation == self._generation,
                lambda msg: self.status.set_message(f"Cannot read the answers: {msg}", "error"),
            ),
        )

    def _fill(self, rows: list[dict[str, Any]]) -> None:
        self.answers = rows
        self.table.setRowCount(len(rows))
        for r, a in enumerate(rows):
            icon = QTableWidgetItem()
            icon.setIcon(QIcon(a["thumbnail"]))
            icon.setToolTip(a["image_path"])
            latency = "" if a.get("latency_s") is None else f"{a['latency_s']:.1f} s"
            turns = "\n\n".join(
                f"{t['name']}: {t['question']}\n-> {t['response']}"
                + (f" ({t['latency_s']:.1f} s)" if t.get("latency_s") is not None else "")
                for t in a.get("turns", [])
            )
            cells = [icon] + [
                QTableWidgetItem(str(a.get(k) or "")) for k in ("keyword", "answer", "answer_class", "why", "describe")
            ]
            cells.append(QTableWidgetItem(latency))
            cells[2].setToolTip(turns or (a.get("answer") or ""))
            cells[3].setToolTip(CLASS_TIPS.get(a.get("answer_class") or "", ""))
            cells[4].setToolTip(a.get("why") or "")
            cells[5].setToolTip(a.get("describe") or "")
            cells[6].setToolTip("Time for all the turns of this answer (from the workspace's call log)")
            for c, cell in enumerate(cells):
                self.table.setItem(r, c, cell)
        for c, width in ((0, 50), (1, 110), (2, 160), (3, 80), (4, 220), (5, 220), (6, 70)):
            self.table.setColumnWidth(c, width)
        shown = self.filter.currentText()
        self.status.set_message(
            f"{len(rows)} answer(s)"
            + ("" if shown == CLASSES[0] else f" of class {shown}")
            + ". Hover over an answer for every turn of the conversation."
        )
