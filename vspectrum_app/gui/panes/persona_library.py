"""The persona library as a widget: the workspace's personas (shipped ones first), each one's
statements, values, topics and tags; add, edit, delete and import from a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.workers import Worker

if TYPE_CHECKING:
    from vspectrum_app.persona.personas import PersonaLibrary


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """A yes/no question (a module function so tests can answer it)."""
    return QMessageBox.question(parent, title, text) == QMessageBox.StandardButton.Yes


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class PersonaLibraryWidget(QWidget):
    changed = Signal()  # a persona was added, edited, deleted or imported

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.editing: str | None = None  # the name of the persona in the editor; None: a new one
        self._source = ""  # where the persona in the editor came from (kept on save)
        self._worker = Worker(self)  # imports of large Persona-Chat files take a while
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._selected)
        self.name = QLineEdit()
        self.statements = QPlainTextEdit()
        self.statements.setPlaceholderText(
            "one first-person statement per line, e.g.\nI love hiking\nI volunteer at the animal shelter"
        )
        self.values = QLineEdit()
        self.values.setPlaceholderText("Schwartz values it should pull towards, comma-separated (e.g. Benevolence)")
        self.topics = QLineEdit()
        self.topics.setPlaceholderText("content topics, comma-separated (e.g. dog, pet care)")
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("comma-separated")
        self.source = QLabel()
        self.source.setWordWrap(True)
        self.status = MessageLabel(lines=3)
        self.new_button, self.save_button = QPushButton("New"), QPushButton("Save")
        self.delete_button, self.import_button = QPushButton("Delete"), QPushButton("Import file...")
        self.import_button.setToolTip(
            "Persona-Chat text ('your persona: ...' lines), a JSON file, or a plain "
            "list (one statement per line, a blank line between personas)"
        )
        self.new_button.clicked.connect(self.new)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.import_button.clicked.connect(lambda: self.import_file())
        editor = QWidget()
        form = QFormLayout(editor)
        form.addRow("Name", self.name)
        form.addRow("Statements", self.statements)
        form.addRow("Values", self.values)
        form.addRow("Topics", self.topics)
        form.addRow("Tags", self.tags)
        form.addRow("Source", self.source)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.save_button, self.delete_button, self.import_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        form.addRow(self.status)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(editor)
        split.setStretchFactor(1, 2)
        QVBoxLayout(self).addWidget(split)
        ctx.workspace_changed.connect(self.reload)
        self.reload()

    def _library(self) -> PersonaLibrary:
        from vspectrum_app.persona.personas import PersonaError, PersonaLibrary

        if self.ctx.workspace is None:
            raise PersonaError("Open a workspace first: the library is kept in it.")
        return PersonaLibrary(self.ctx.workspace)

    def reload(self, select: str | None = None) -> None:
        select = select or self.editing
        self.list.clear()
        if self.ctx.workspace is None:
            self._set_status("Open a workspace first: the library is kept in it.", error=True)
            return
        for persona in self._library().all():
            item = QListWidgetItem(persona.name + ("  (shipped)" if persona.builtin else ""))
            item.setData(Qt.ItemDataRole.UserRole, persona)
            self.list.addItem(item)
            if persona.name == select:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)

    def _selected(self, item: QListWidgetItem | None) -> None:
        persona = item.data(Qt.ItemDataRole.UserRole) if item else None
        if persona is None:
            return
        self.editing = persona.name
        self.name.setText(persona.name)
        self.statements.setPlainText("\n".join(persona.statements))
        self.values.setText(", ".join(persona.values))
        self.topics.setText(", ".join(persona.topics))
        self.tags.setText(", ".join(persona.tags))
        self._source = persona.source
        self.source.setText(
            "ships with the app (saving keeps your edited copy in its place)"
            if persona.builtin
            else persona.source or "your own"
        )

    # -- actions ------------------------------------------------------------------------
    def new(self) -> None:
        self.list.setCurrentRow(-1)
        self.editing = None
        for w in (self.name, self.values, self.topics, self.tags):
            w.clear()
        self.statements.clear()
        self._source = ""
        self.source.setText("your own")
        self.name.setFocus()
        self._set_status("")

    def save(self) -> None:
        from vspectrum_app.persona.personas import Persona, PersonaError

        if self.ctx.workspace is None:
            return self._set_status("Open a workspace first.", error=True)
        name = self.name.text().strip()
        if not name:
            return self._set_status("Give the persona a name.", error=True)
        taken = {p.name for p in self._library().all()} - {self.editing}
        if name in taken:  # the core refuses clashes with stored personas; a shipped one would be hidden
            return self._set_status(f"A persona named {name!r} exists already.", error=True)
        doc = {
            "name": name,
            "statements": self.statements.toPlainText().splitlines(),
            "values": _split(self.values.text()),
            "topics": _split(self.topics.text()),
            "tags": _split(self.tags.text()),
            "source": self._source,
        }
        try:
            persona = Persona.from_json(doc)
            self._library().save(persona, replace_name=self.editing)
        except PersonaError as exc:
            return self._set_status(str(exc), error=True)
        self.editing = persona.name
        self.reload(select=persona.name)
        self._set_status(f"Saved {persona.name} ({len(persona.statements)} statements).")
        self.changed.emit()

    def delete(self) -> None:
        from vspectrum_app.persona.personas import PersonaError

        item = self.list.currentItem()
        persona = item.data(Qt.ItemDataRole.UserRole) if item else None
        if persona is None:
            return self._set_status("Choose a persona to delete.", error=True)
        # a shipped persona goes straight to the library, which refuses with the reason
        if not persona.builtin and not confirm(
            self, "Delete persona", f"Delete the persona {persona.name}? Sessions that used it keep their copy."
        ):
            return
        try:
            self._library().delete(persona.name)
        except PersonaError as exc:
            return self._set_status(str(exc), error=True)
        self.editing = None
        self.reload()
        self._set_status(f"Deleted {persona.name}.")
        self.changed.emit()

    def import_file(self, path: str | None = None) -> None:
        if self.ctx.workspace is None:
            return self._set_status("Open a workspace first.", error=True)
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import personas", "", "Personas (*.txt *.json *.md);;All files (*)"
            )
        if not path:
            return
        library = self._library()
        self.import_button.setEnabled(False)
        self._set_status(f"Importing {path}...")
        self._worker.run(lambda: library.import_file(Path(path)), self._imported, self._import_failed)

    def _imported(self, added: list[Any]) -> None:
        self.import_button.setEnabled(True)
        names = ", ".join(p.name for p in added[:5]) + (", ..." if len(added) > 5 else "")
        self._set_status(f"{len(added)} personas added" + (f": {names}" if added else " (all were in the library)"))
        self.reload(select=added[0].name if added else None)
        self.changed.emit()

    def _import_failed(self, message: str) -> None:
        self.import_button.setEnabled(True)
        self._set_status(f"Import failed: {message}", error=True)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.set_message(text, "error" if error else "info")
