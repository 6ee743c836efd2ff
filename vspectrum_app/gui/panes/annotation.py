"""Annotation pane: one screenshot at a time, the question, and the keyboard for everything
(Y / N / S choose yes / no / not sure, Enter confirms, arrows move, U undoes), with the
next images decoded ahead so that an hour of work has no waits."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from vspectrum_app.annotate.sampling import annotator_order, questions_for
from vspectrum_app.annotate.store import AnnotationStore

PREFETCH = 3
QUESTION_TEXT = {
    "screenshot": "Does this screenshot reflect the value of {value}?",
    "video": "Does the video reflect the value of {value}? (open the link, then answer)",
    "representative": "Does the image represent the main content of the video?",
}
KEYS = {Qt.Key.Key_Y: "yes", Qt.Key.Key_N: "no", Qt.Key.Key_S: "not_sure"}


class AnnotationPane(QWidget):
    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.order: list[dict] = []
        self.position = 0
        self.question: str | None = None
        self.choice: str | None = None
        self._shown_at = time.monotonic()
        self._images: dict[str, QImage] = {}
        from vspectrum_app.gui.workers import Worker

        self._worker = Worker(self)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.sets = QComboBox()
        self.annotator = QLineEdit(ctx.settings.get("annotator_name") or "")
        self.annotator.setPlaceholderText("your name")
        self.review = QCheckBox("Review my answers")
        self.start_button = QPushButton("Start")
        top = QHBoxLayout()
        for w in (QLabel("Task set"), self.sets, QLabel("Annotator"), self.annotator, self.review, self.start_button):
            top.addWidget(w)
        top.addStretch()
        self.image = QLabel("Choose a task set and enter your name, then Start.")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumHeight(420)
        self.question_label = QLabel()
        self.question_label.setStyleSheet("font-size: 16pt")
        self.question_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.link = QLabel()
        self.link.setOpenExternalLinks(True)
        self.link.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.buttons = {a: QPushButton(t) for a, t in (("yes", "Yes (Y)"), ("no", "No (N)"), ("not_sure", "Not sure (S)"))}
        row = QHBoxLayout()
        for answer, button in self.buttons.items():
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, a=answer: self.choose(a))
            row.addWidget(button)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("optional comment (Enter confirms)")
        self.comment.returnPressed.connect(self.confirm)
        self.progress = QLabel()
        help_label = QLabel("Y / N / S choose, Enter confirms, Left / Right move, U undoes the last answer")
        help_label.setStyleSheet("color: #666")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.question_label)
        layout.addWidget(self.link)
        layout.addLayout(row)
        layout.addWidget(self.comment)
        layout.addWidget(self.progress)
        layout.addWidget(help_label)
        self.start_button.clicked.connect(self.start)
        self.review.toggled.connect(lambda _: self.start())
        ctx.workspace_changed.connect(self.reload_sets)
        self.reload_sets()

    # -- sets and order -----------------------------------------------------------------
    @property
    def store(self) -> AnnotationStore:
        return AnnotationStore(self.ctx.workspace)

    def reload_sets(self) -> None:
        self.sets.clear()
        if self.ctx.workspace:
            for s in self.store.sets():
                self.sets.addItem(f"{s['name']} ({s['kind']}, {s['items']} items)", s["id"])

    def start(self) -> None:
        name = self.annotator.text().strip()
        set_id = self.sets.currentData()
        if not name or not set_id:
            self.progress.setText("Enter your name and choose a task set.")
            return
        self.ctx.settings.set("annotator_name", name)
        self.ctx.settings.save()
        self.set_id, self.name = set_id, name
        self.kind = self.store.get_set(set_id)["kind"]
        order = annotator_order(self.store.items(set_id), set_id, name)
        if self.review.isChecked():
            answered = {a["item_id"] for a in self.store.current(set_id, name)}
            order = [i for i in order if i["id"] in answered]
        self.order = order
        # resume: the first item with a question this annotator has not answered
        self.position = next((n for n, item in enumerate(order) if self._next_question(item)), 0)
        self.setFocus()
        self._show()

    def _answers(self, item: dict) -> dict[str, str]:
        return {a["question"]: a["answer"] for a in self.store.current(self.set_id, self.name) if a["item_id"] == item["id"]}

    def _next_question(self, item: dict) -> str | None:
        answered = self._answers(item)
        return next((q for q in questions_for(self.kind, item) if q not in answered), None)

    # -- showing ------------------------------------------------------------------------
    def _show(self) -> None:
        if not self.order:
            self.image.setText("Nothing to review yet." if self.review.isChecked() else "This set has no items.")
            return
        self.position = max(0, min(self.position, len(self.order) - 1))
        item = self.order[self.position]
        answered = self._answers(item)
        self.question = self._next_question(item) or questions_for(self.kind, item)[-1]
        self.choice = answered.get(self.question)
        for answer, button in self.buttons.items():
            button.setChecked(answer == self.choice)
        self.question_label.setText(QUESTION_TEXT[self.question].format(value=item["value"]))
        self.link.setText(f'<a href="{item["video_url"]}">{item["video_url"]}</a>'
                          if item.get("video_url") and self.question != "screenshot" else "")
        self.comment.clear()
        self._display_image(item)
        done = sum(1 for i in self.order if not self._next_question(i))
        self.progress.setText(f"Item {self.position + 1} of {len(self.order)}; {done} fully answered"
                              + (" - all done, thank you!" if done == len(self.order) else ""))
        self._shown_at = time.monotonic()
        self._prefetch()

    def _path(self, item: dict) -> str:
        row = self.ctx.workspace.db.execute("SELECT sha256, ext FROM images WHERE sha256 = ?",
                                            (item["image_sha256"],)).fetchone()
        return str(self.ctx.workspace.image_path(row["sha256"], row["ext"])) if row else ""

    def _display_image(self, item: dict) -> None:
        image = self._images.get(item["image_sha256"])
        if image is None:
            image = QImage(self._path(item))
            self._images[item["image_sha256"]] = image
        self.image.setPixmap(QPixmap.fromImage(image).scaled(self.image.width(), self.image.height(),
                                                             Qt.AspectRatioMode.KeepAspectRatio,
                                                             Qt.TransformationMode.SmoothTransformation))

    def _prefetch(self) -> None:
        for item in self.order[self.position + 1:self.position + 1 + PREFETCH]:
            sha = item["image_sha256"]
            if sha not in self._images:
                self._images[sha] = QImage()  # placeholder: requested
                path = self._path(item)
                self._worker.run(lambda p=path: QImage(p), lambda img, s=sha: self._image_loaded(s, img), lambda _: None)
        keep = {i["image_sha256"] for i in self.order[max(0, self.position - 2):self.position + 1 + PREFETCH]}
        for sha in [s for s in self._images if s not in keep]:
            del self._images[sha]

    def _image_loaded(self, sha: str, image: QImage) -> None:
        if sha in self._images:
            self._images[sha] = image

    # -- acting -------------------------------------------------------------------------
    def choose(self, answer: str) -> None:
        self.choice = answer
        for a, button in self.buttons.items():
            button.setChecked(a == answer)

    def confirm(self) -> None:
        if not self.order or self.choice is None:
            return
        item = self.order[self.position]
        self.store.answer(item["id"], self.name, self.question, self.choice, comment=self.comment.text().strip(),
                          seconds=round(time.monotonic() - self._shown_at, 2))
        self.setFocus()
        if self._next_question(item) is None and not self.review.isChecked():
            self.position = next((n for n in range(self.position + 1, len(self.order))
                                  if self._next_question(self.order[n])), self.position)
        elif self.review.isChecked():
            self.position += 1
        self._show()

    def move(self, step: int) -> None:
        self.position += step
        self._show()

    def undo(self) -> None:
        if not self.order:
            return
        undone = self.store.undo(self.set_id, self.name)
        if undone:
            self.position = next((n for n, i in enumerate(self.order) if i["id"] == undone["item_id"]), self.position)
            self._show()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if self.comment.hasFocus() and key not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return super().keyPressEvent(event)
        if key in KEYS:
            self.choose(KEYS[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm()
        elif key == Qt.Key.Key_Right:
            self.move(1)
        elif key == Qt.Key.Key_Left:
            self.move(-1)
        elif key == Qt.Key.Key_U:
            self.undo()
        else:
            super().keyPressEvent(event)
