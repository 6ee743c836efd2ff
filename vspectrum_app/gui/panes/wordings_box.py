"""The Benchmark pane's editor of the "like" question's wordings (``--prompt-variants``): a
list with the paper's question, the built-in set or a file's, where wordings are added and
removed. Checked by the core's one schema (``bench.variants.check_wordings``); a run gets the
list as a JSON file (``builtin`` when it is the built-in set unchanged)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.bench import variants
from vspectrum_app.gui.message_label import MessageLabel


def paper() -> variants.Wording:
    """The paper's question: the built-in set's first wording."""
    return variants.builtin()[0]


class WordingsBox(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setAccessibleName("Question wordings")
        self.list.setToolTip(
            'Each wording of "Do you like the content of this image?" that every image is asked under '
            "(the why and describe questions stay the paper's). One wording: the paper's benchmark; "
            "several: Results > Robustness compares them. Each multiplies the calls."
        )
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)  # remove several at once
        self.list.setMinimumHeight(60)
        # a narrow form column: each line elided, the whole wording in its tooltip
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setMaximumHeight(120)
        self.paper_button = QPushButton("Paper's")
        self.paper_button.setToolTip("Only the paper's question")
        self.builtin_button = QPushButton("Built-in")
        self.builtin_button.setToolTip("The paper's question, four English paraphrases and four translations")
        self.file_button = QPushButton("File...")
        self.file_button.setToolTip('A JSON list of {"name": ..., "like": ...}')
        self.remove_button = QPushButton("Remove")
        self.name = QLineEdit()
        self.name.setPlaceholderText("name")
        self.name.setAccessibleName("New wording's name")
        self.text = QLineEdit()
        self.text.setPlaceholderText("Do you ... ? Answer yes or no.")
        self.text.setAccessibleName("New wording's text")
        self.add_button = QPushButton("Add")
        self.message = MessageLabel(lines=2)
        presets = QGridLayout()  # two by two: the form column is about 300 px wide
        for n, b in enumerate((self.paper_button, self.builtin_button, self.file_button, self.remove_button)):
            presets.addWidget(b, n // 2, n % 2)
        add = QGridLayout()
        add.addWidget(self.name, 0, 0)
        add.addWidget(self.add_button, 0, 1)
        add.addWidget(self.text, 1, 0, 1, 2)
        add.setColumnStretch(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(presets)
        layout.addLayout(add)
        layout.addWidget(self.message)
        self.paper_button.clicked.connect(lambda: self.set_wordings([paper()]))
        self.builtin_button.clicked.connect(lambda: self.set_wordings(variants.builtin()))
        self.file_button.clicked.connect(lambda: self.load_file())
        self.remove_button.clicked.connect(lambda: self.remove_selected())
        self.add_button.clicked.connect(lambda: self.add())
        self.text.returnPressed.connect(lambda: self.add())
        self._wordings: list[variants.Wording] = []
        self.set_wordings([paper()])

    # -- the list -------------------------------------------------------------------------
    def wordings(self) -> list[variants.Wording]:
        return list(self._wordings)

    def set_wordings(self, wordings: list[variants.Wording], note: str = "") -> None:
        self._wordings = list(wordings)
        self.list.clear()
        for w in self._wordings:
            item = QListWidgetItem(f"{w.name}: {w.like}")
            item.setToolTip(w.like + (f"\n{w.source}" if w.source else ""))
            self.list.addItem(item)
        self.remove_button.setEnabled(len(self._wordings) > 1)
        self.message.set_message(note)
        self.changed.emit()

    def add(self) -> None:
        """Add the typed wording; a bad one (a duplicate, a name with spaces) is one sentence."""
        candidate = self._wordings + [variants.Wording(self.name.text().strip(), self.text.text().strip())]
        try:
            variants.check_wordings([{"name": w.name, "like": w.like} for w in candidate], "the new wording")
        except variants.VariantError as exc:
            self.message.set_message(str(exc), "error")
            return
        self.name.clear()
        self.text.clear()
        self.set_wordings(candidate)

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.list.selectedIndexes()}, reverse=True)
        if not rows or len(rows) >= len(self._wordings):
            self.message.set_message("Select the wordings to remove; one must stay.")
            return
        self.set_wordings([w for n, w in enumerate(self._wordings) if n not in rows])

    def load_file(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Wordings of the question", "", "JSON (*.json)")
        if not path:
            return
        try:
            loaded = variants.load_wordings(Path(path))
        except variants.VariantError as exc:
            self.message.set_message(f"{exc}; the list is unchanged.", "error")
            return
        self.set_wordings(loaded, f"{len(loaded)} wordings from {Path(path).name}.")

    # -- what a run gets ------------------------------------------------------------------
    def option(self) -> str | None:
        """``--prompt-variants``: None for the paper's question alone, ``builtin`` for the
        built-in set unchanged, else a JSON file holding the list (named by its content)."""
        pairs = [(w.name, w.like) for w in self._wordings]
        if pairs == [(paper().name, paper().like)]:
            return None
        if pairs == [(w.name, w.like) for w in variants.builtin()]:
            return variants.BUILTIN
        data = json.dumps([{"name": n, "like": t} for n, t in pairs], ensure_ascii=False, indent=1)
        path = Path(tempfile.gettempdir()) / f"vspectrum-wordings-{hashlib.sha256(data.encode()).hexdigest()[:12]}.json"
        if not path.exists():
            from vspectrum_app.core.atomic import atomic_write_text

            atomic_write_text(path, data)
        return str(path)
