"""Annotation pane.

*Annotate*: one screenshot at a time, the question, and the keyboard for everything (Y / N / S
choose yes / no / not sure, Enter confirms, arrows move, U undoes), with the next images decoded
ahead so that an hour of work has no waits.

*Sets and results*: create a task set, export one's answers and import other annotators', and
the results (Table 9 percentages, agreement, disagreements, human-filtered scores). It calls the
same core functions as ``vspectrum annotate create|export|import|report`` and adds nothing to them.
"""

from __future__ import annotations

from typing import Any

import html
import time
from functools import partial
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.annotate import ops as annotate_ops
from vspectrum_app.annotate.session import QUESTION_TEXT, AnnotationSession, answered
from vspectrum_app.annotate.store import AnnotationError, AnnotationStore
from vspectrum_app.core.values import DEFINITIONS
from vspectrum_app.core.workspace import Workspace
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui import links, style
from vspectrum_app.gui.jobs import Job, result_of
from vspectrum_app.gui.links import openable, shown_address
from vspectrum_app.gui.message_label import MessageLabel, plain_tooltip
from vspectrum_app.gui.pictures import read_upright
from vspectrum_app.gui.workers import Worker, while_current

PREFETCH = 3
KEYS = {Qt.Key.Key_Y: "yes", Qt.Key.Key_N: "no", Qt.Key.Key_S: "not_sure"}
ANSWER_TEXT = {"yes": "yes", "no": "no", "not_sure": "not sure"}
BUTTON_TEXT = {"yes": "Yes (Y)", "no": "No (N)", "not_sure": "Not sure (S)"}
REPRESENTATIVE_GUIDE = (
    "<p>Answer <b>yes</b> when the screenshot shows what the video is mainly about (its "
    "subject, scene or message), <b>no</b> when it shows something incidental (a transition, "
    "a title card, an advert), <b>not sure</b> when you cannot tell.</p>"
)


def guideline_html(question: str, value: str | None) -> str:
    """What the annotator needs beside the image: the question, the value's definition
    (Schwartz, as in the paper) and example keywords that retrieve it."""
    if question == "representative" or not value:
        return f"<h3>{QUESTION_TEXT['representative']}</h3>{REPRESENTATIVE_GUIDE}"
    from vspectrum_app.library import keywords

    try:
        examples = ", ".join(keywords.default_set().keywords(value)[:10])
    except (KeyError, ValueError):
        examples = ""
    return (  # the value's name may come from an imported file: escaped, never markup
        f"<h3>{html.escape(value)}</h3><p><b>Definition:</b> {DEFINITIONS.get(value, '')}.</p>"
        + (f"<p><b>Examples</b> (keywords that find it): {html.escape(examples)}.</p>" if examples else "")
        + "<p><b>Yes</b>: the content shows or promotes this value. <b>No</b>: it does not. "
        "<b>Not sure</b>: you cannot tell from what you see.</p>"
    )


def plain(label: QLabel) -> QLabel:
    """A label for text from outside (a set's or annotator's name, a video address): shown as
    the text it is, never as rich text, so ``<b>`` or ``<a href=...>`` in it stays visible."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class AnnotationPane(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.session: AnnotationSession | None = None  # the walk-through: order, resume, answers, undo
        self.question: str | None = None  # the question shown
        self.choice: str | None = None
        self._note: tuple[int, str] | None = None  # (item id, others' answers) for a disagreement under review
        self._video_url = ""  # the address shown (any text: it came with the set)
        self._shown_at = time.monotonic()
        self._images: dict[str, QImage] = {}
        self._decoding: set[str] = set()  # prefetches requested, not yet decoded
        self._store: AnnotationStore | None = None
        self._worker = Worker(self)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.sets = QComboBox()
        self.sets.setAccessibleName("Task set")
        self.sets.setPlaceholderText("no task set yet: create one under Sets and results")
        # long set names: a wide field, elided in the middle in the list, full name in the tooltip
        self.sets.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sets.setMinimumContentsLength(28)
        self.sets.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.sets.view().setMinimumWidth(420)
        self.sets.currentIndexChanged.connect(lambda _: self.sets.setToolTip(plain_tooltip(self.sets.currentText())))
        self.annotator = QLineEdit(ctx.settings.get("annotator_name") or "")
        self.annotator.setPlaceholderText("your name (Enter starts)")
        self.annotator.setAccessibleName("Annotator name")
        self.annotator.returnPressed.connect(lambda: self.start())
        self.review = QCheckBox("Review my answers")
        self.start_button = QPushButton("Start")
        self.start_button.setShortcut("Ctrl+Return")
        self.start_button.setToolTip("Start or resume annotating this set (Enter in the name field, Ctrl+Return)")
        top = QHBoxLayout()
        for w in (QLabel("Task set"), self.sets, QLabel("Annotator"), self.annotator, self.review, self.start_button):
            top.addWidget(w)
        top.addStretch()
        self.annotate_page = self._build_annotate_page()
        self.results = SetsPanel(ctx, self)
        self.tabs = QTabWidget()
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.addTab(self.annotate_page, "Annotate")
        self.tabs.addTab(self.results, "Sets and results")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

        self.start_button.clicked.connect(lambda: self.start())
        self.review.toggled.connect(lambda _: self.start())
        self.tabs.currentChanged.connect(
            lambda _: self.results.refresh() if self.tabs.currentWidget() is self.results else None
        )
        self.sets.currentIndexChanged.connect(lambda _: self.results.refresh() if self.results.isVisible() else None)
        ctx.workspace_changed.connect(self.reload_sets)
        self.reload_sets()

    def _build_annotate_page(self) -> QWidget:
        page = QWidget()
        self.image = plain(QLabel("Choose a task set and enter your name, then Start."))
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(160, 200)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.question_label = plain(QLabel())
        self.question_label.setWordWrap(True)
        self.question_label.setStyleSheet(f"font-size: {style.TITLE_PT}pt")
        self.question_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.guide = QTextBrowser()
        self.guide.setAccessibleName("Guidelines")
        self.guide.setMinimumWidth(200)
        self.guide.setOpenLinks(False)  # nothing in the guidelines navigates anywhere
        self.guide.setHtml("<p>The question, the value's definition and examples appear here.</p>")
        # The video's address as plain text (its real address, selectable), and a button that
        # opens it only when it is http(s): an imported set may hold any text there.
        self.link = plain(QLabel())
        self.link.setAccessibleName("Video address")
        self.link.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.link.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.open_video = QPushButton("Open video")
        self.open_video.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.open_video.clicked.connect(self.open_video_link)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link, 1)
        link_row.addWidget(self.open_video)
        self.note = plain(QLabel())
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.buttons = {a: QPushButton(t) for a, t in BUTTON_TEXT.items()}
        row = QHBoxLayout()
        for answer, button in self.buttons.items():
            button.setCheckable(True)
            button.setAccessibleName(ANSWER_TEXT[answer])
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, a=answer: self.choose(a))
            row.addWidget(button)
        # Enter in the comment reaches keyPressEvent below (QLineEdit passes it on), which
        # confirms; connecting returnPressed as well would confirm twice.
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("optional comment (Enter confirms)")
        self.progress = MessageLabel(lines=2)
        help_label = QLabel("Y / N / S choose, Enter confirms, Left / Right move, U undoes the last answer")
        help_label.setWordWrap(True)
        help_label.setStyleSheet(f"color: {style.hint_color()}")
        left = QWidget()
        layout = QVBoxLayout(left)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.question_label)
        layout.addLayout(link_row)
        layout.addWidget(self.note)
        layout.addLayout(row)
        for w in (self.comment, self.progress, help_label):
            layout.addWidget(w)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.guide)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        QVBoxLayout(page).addWidget(split)
        return page

    # -- sets and order -----------------------------------------------------------------
    @property
    def store(self) -> AnnotationStore:
        # one per workspace: creating it checks the schema, too slow to repeat per keypress
        ws = self.ctx.workspace
        if ws is None:
            raise AnnotationError("no workspace is open")
        if self._store is None or self._store.ws is not ws:
            self._store = AnnotationStore(ws)
        return self._store

    def reload_sets(self, select: str | None = None) -> None:
        select = select or self.sets.currentData()
        with QSignalBlocker(self.sets):
            self.sets.clear()
            if self.ctx.workspace:
                for s in self.store.sets():
                    self.sets.addItem(f"{s['name']} ({s['kind']}, {s['items']} items)", s["id"])
                    self.sets.setItemData(
                        self.sets.count() - 1,
                        plain_tooltip(self.sets.itemText(self.sets.count() - 1)),
                        Qt.ItemDataRole.ToolTipRole,
                    )
            if select and self.sets.findData(select) >= 0:
                self.sets.setCurrentIndex(self.sets.findData(select))
            elif self.sets.count():  # a placeholder text leaves the combo unselected otherwise
                self.sets.setCurrentIndex(0)
        self.results.reload()

    def start(self) -> None:
        name = self.annotator.text().strip()
        set_id = self.sets.currentData()
        if not name or not set_id:
            self.progress.set_message("Enter your name and choose a task set.", "error")
            return
        self.ctx.settings.set("annotator_name", name)
        self.ctx.settings.save()
        self.session = AnnotationSession(self.store, set_id, name, review=self.review.isChecked())
        self._note = None
        self.tabs.setCurrentWidget(self.annotate_page)
        self.setFocus()
        self._show()

    def open_item(self, set_id: str, disagreement: dict[str, Any]) -> None:
        """Open an item with disagreement from the results: in review mode at that answer when
        this annotator gave one, otherwise where they can answer it."""
        if self.sets.currentData() != set_id:
            self.sets.setCurrentIndex(self.sets.findData(set_id))
        name = self.annotator.text().strip()
        if not name:
            self.results.status.set_message("Enter your name (top) to review an item.", "error")
            return
        mine = disagreement["question"] in answered(self.store, set_id, name, disagreement["item_id"])
        with QSignalBlocker(self.review):
            self.review.setChecked(mine)
        self.start()
        if self.session and self.session.goto(disagreement["item_id"], disagreement["question"]):
            others = ", ".join(f"{a}: {ANSWER_TEXT[v]}" for a, v in sorted(disagreement["answers"].items()))
            self._note = (disagreement["item_id"], f"Under review ({disagreement['question']}): {others}")
            self._show()

    @property
    def set_id(self) -> str | None:
        return self.session.set_id if self.session else None

    # -- showing ------------------------------------------------------------------------
    def _show(self) -> None:
        session = self.session
        step = session.current() if session else None
        if session is None or step is None:
            self.image.setText("Nothing to review yet." if self.review.isChecked() else "This set has no items.")
            return
        item, self.question = step.item, step.question
        self.choose(step.answer)
        self.question_label.setText(step.text)
        self.guide.setHtml(guideline_html(self.question, item.get("value")))
        self._video_url = (item.get("video_url") or "") if self.question != "screenshot" else ""
        self.link.setText(shown_address(self._video_url))
        self.link.setToolTip(plain_tooltip(shown_address(self._video_url)))
        self.open_video.setVisible(bool(self._video_url))
        self.open_video.setEnabled(openable(self._video_url))
        self.open_video.setToolTip(
            "" if openable(self._video_url) else "Only http(s) addresses are opened; copy this one if you trust it."
        )
        self.note.setText(self._note[1] if self._note and self._note[0] == item["id"] else "")
        self.comment.clear()
        self._display_image(item)
        self.progress.set_message(session.progress_text())
        self._shown_at = time.monotonic()
        self._prefetch()

    def open_video_link(self) -> bool:
        """Open the shown video in the browser, only if it is an http(s) address."""
        return links.open_address(self._video_url)

    def _path(self, item: dict[str, Any]) -> str:
        from vspectrum_app.library import catalog

        ws = self.ctx.workspace
        found = catalog.image_by_sha(ws, item["image_sha256"]) if ws is not None else None
        return str(found.path(ws)) if found and ws is not None else ""

    def _display_image(self, item: dict[str, Any]) -> None:
        sha = item["image_sha256"]
        if sha in self._decoding:  # _image_loaded draws it when the worker is done
            self.image.setText("Loading...")
            return
        image = self._images.get(sha)
        if image is None:
            image = self._images[sha] = read_upright(self._path(item))
        if image.isNull():
            self.image.setText("This screenshot's file cannot be read.")
            return
        self.image.setPixmap(
            QPixmap.fromImage(image).scaled(
                self.image.width(),
                self.image.height(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def _prefetch(self) -> None:
        if self.session is None:
            return
        order, position = self.session.order, self.session.position
        for item in order[position + 1 : position + 1 + PREFETCH]:
            sha = item["image_sha256"]
            if sha not in self._images and sha not in self._decoding:
                self._decoding.add(sha)
                path = self._path(item)
                self._worker.run(
                    partial(read_upright, path),
                    partial(self._image_loaded, sha),
                    partial(self._image_unreadable, sha),
                )
        keep = {i["image_sha256"] for i in order[max(0, position - 2) : position + 1 + PREFETCH]}
        for sha in [s for s in self._images if s not in keep]:
            del self._images[sha]

    def _image_unreadable(self, sha: str, _message: str) -> None:
        self._image_loaded(sha, QImage())

    def _image_loaded(self, sha: str, image: QImage) -> None:
        self._decoding.discard(sha)
        self._images[sha] = image
        step = self.session.current() if self.session else None
        if step and step.item["image_sha256"] == sha:
            self._display_image(step.item)  # it was shown as "Loading..."

    # -- acting -------------------------------------------------------------------------
    def choose(self, answer: str | None) -> None:
        self.choice = answer
        for a, button in self.buttons.items():  # the chosen one: ticked, bold, coloured
            chosen = a == answer
            button.setChecked(chosen)
            button.setText(("\u2714 " if chosen else "") + BUTTON_TEXT[a])
            button.setStyleSheet(
                f"font-weight: bold; color: {style.text_color()}; "
                f"background: {style.chosen_background()}; border: 2px solid {style.OK}"
                if chosen
                else ""
            )

    def confirm(self) -> None:
        if self.session is None or self.session.current() is None or self.choice is None:
            return
        self.session.answer(
            self.choice, comment=self.comment.text().strip(), seconds=round(time.monotonic() - self._shown_at, 2)
        )
        self.setFocus()
        self._show()

    def step(self, step: int) -> None:
        if self.session:
            self.session.move(step)
            self._show()

    def undo(self) -> None:
        if self.session and self.session.order and self.session.undo():
            self._show()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if self.tabs.currentWidget() is not self.annotate_page or (
            self.comment.hasFocus() and key not in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            return super().keyPressEvent(event)
        if key in KEYS:
            self.choose(KEYS[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm()
        elif key == Qt.Key.Key_Right:
            self.step(1)
        elif key == Qt.Key.Key_Left:
            self.step(-1)
        elif key == Qt.Key.Key_U:
            self.undo()
        else:
            super().keyPressEvent(event)


def _wrapped(label: QLabel) -> QLabel:
    """A label that wraps instead of asking for its text's width (the pane must fit 1024 px)."""
    label.setWordWrap(True)
    return label


def _import_all(ws: Workspace, paths: list[str]) -> tuple[list[str], str | None]:
    """Each file merged on its own (a bad one is reported and skipped): one line per file, and the last set."""
    from vspectrum_app.annotate.exchange import import_answers

    lines, last_set = [], None
    for path in paths:
        try:
            report = import_answers(ws, Path(path))
        except AnnotationError as exc:
            lines.append(str(exc))
            continue
        lines.append(f"{Path(path).name}: {report.describe()}")
        last_set = report.set_id
    return lines, last_set


def _num(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


class SetsPanel(QWidget):
    """The pane's second tab: a new task set, answers to and from other machines, the results.
    The task set and annotator are the pane's (its top row)."""

    lists_loaded = Signal()  # the keyword set and run lists are filled (read on the worker pool)

    STAT_COLUMNS = (
        ("pct_yes", "% yes"),
        ("pct_no", "% no"),
        ("pct_not_sure", "% not sure"),
        ("fleiss_kappa", "Fleiss' kappa"),
        ("krippendorff_alpha", "Krippendorff's alpha"),
        ("items", "items"),
        ("raters", "raters"),
    )

    def __init__(self, ctx: AppContext, pane: AnnotationPane):
        super().__init__(pane)
        self.ctx, self.pane = ctx, pane
        self._worker = Worker(self)  # the report, export and import: off the GUI thread
        self._generation = 0  # a report for an older choice of set or run is dropped
        self._listing = 0  # and lists from an older reload
        self.create_job: Job | None = None  # sampling a set loads CLIP: a child-process job
        self.disagreement_rows: list[dict[str, Any]] = []
        self.status = MessageLabel(lines=4)
        left = QVBoxLayout()
        left.addWidget(self._build_create_box())
        left.addWidget(self._build_exchange_box())
        left.addWidget(self.status)
        left.addStretch()
        left_widget = QWidget()
        left_widget.setLayout(left)
        splitter = QSplitter()
        splitter.addWidget(left_widget)
        splitter.addWidget(self._build_results())
        splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(splitter)
        ctx.runs_changed.connect(self.reload)

    def _build_create_box(self) -> QGroupBox:
        box = QGroupBox("New task set")
        self.new_name = QLineEdit()
        self.new_kind = QComboBox()
        self.new_kind.addItem("value alignment", "value")
        self.new_kind.addItem("representativeness", "representativeness")
        self.new_values = QLineEdit()
        self.new_values.setPlaceholderText("all ten (or e.g. Power, Hedonism)")
        self.per_value, self.k, self.raters, self.seed = (QSpinBox() for _ in range(4))
        for spin, (low, high, value) in zip(
            (self.per_value, self.k, self.raters, self.seed),
            ((1, 10_000, 50), (1, 100, 5), (1, 50, 3), (0, 2**31 - 1, 0)),
        ):
            spin.setRange(low, high)
            spin.setValue(value)
        self.keyword_set = QComboBox()
        self.keyword_set.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.keyword_set.setMinimumContentsLength(14)
        self.create_button = QPushButton("Create")
        self.create_button.clicked.connect(self.create_set)
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for label, w in (
            ("Name", self.new_name),
            ("Kind", self.new_kind),
            ("Values", self.new_values),
            ("Items per value", self.per_value),
            ("Images per keyword", self.k),
            ("Keyword set", self.keyword_set),
            ("Annotators per item", self.raters),
            ("Seed", self.seed),
        ):
            form.addRow(label, w)
        form.addRow(self.create_button)
        return box

    def _build_exchange_box(self) -> QGroupBox:
        box = QGroupBox("Other machines")
        self.export_button = QPushButton("Export answers...")
        self.export_button.setToolTip("The annotator's answers in the chosen set, with history (no name: everyone's)")
        self.import_button = QPushButton("Import answers...")
        self.export_button.clicked.connect(self.export)
        self.import_button.clicked.connect(self.import_files)
        row = QHBoxLayout(box)
        row.addWidget(self.export_button)
        row.addWidget(self.import_button)
        return box

    def _build_results(self) -> QWidget:
        self.summary = _wrapped(plain(QLabel()))
        self.run = QComboBox()  # "run id (models)": long, so bounded and elided
        self.run.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run.setMinimumContentsLength(14)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        self.run.currentIndexChanged.connect(lambda _: self.refresh())
        self.table9 = QTableWidget()
        self.disagreements = QListWidget()
        self.disagreements.itemActivated.connect(self._open_disagreement)
        self.filtered = QTableWidget(0, 5)
        self.filtered.setHorizontalHeaderLabels(["Target", "Mode", "Value", "Score (n)", "Human-filtered score (n)"])
        for table in (self.table9, self.filtered):
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        top = QHBoxLayout()
        for w in (self.summary, QLabel("Benchmark run"), self.run, refresh):
            top.addWidget(w)
        widget = QWidget()
        layout = QVBoxLayout(widget)
        layout.addLayout(top)
        layout.addWidget(self.table9, 2)
        layout.addWidget(_wrapped(QLabel("Items with disagreement (Enter or double-click opens one for review)")))
        layout.addWidget(self.disagreements, 1)
        layout.addWidget(
            _wrapped(QLabel("Scores on all retrieved screenshots, and on those annotators agreed reflect the value"))
        )
        layout.addWidget(self.filtered, 1)
        return widget

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # stop here: Enter on a disagreement opens it in the Annotate tab, and must not then
        # reach the pane's shortcuts and confirm an answer there
        event.accept()

    # -- lists --------------------------------------------------------------------------
    def reload(self) -> None:
        """Keyword sets and benchmark runs of the workspace, read on the worker (counting every
        run's items takes a while)."""
        self._listing += 1
        listing, ws = self._listing, self.ctx.workspace
        if ws is None:
            self._fill_lists([], [])
            return

        def read() -> tuple[list[Any], list[dict[str, Any]]]:
            from vspectrum_app.bench.store import RunStore
            from vspectrum_app.library.keywords import list_sets

            return list_sets(ws), list(reversed(RunStore(ws).runs()))

        self._worker.run(
            read,
            while_current(lambda: listing == self._listing, lambda found: self._fill_lists(*found)),
            lambda message: self.status.set_message(f"Cannot read the workspace: {message}", "error"),
        )

    def _fill_lists(self, keyword_sets: list[Any], runs: list[dict[str, Any]]) -> None:
        with QSignalBlocker(self.keyword_set), QSignalBlocker(self.run):
            self.keyword_set.clear()
            self.run.clear()
            self.run.addItem("(none)", None)
            for ks in keyword_sets:
                count = sum(len(k) for k in ks.values.values())
                self.keyword_set.addItem(f"{ks.name} ({len(ks.values)} values, {count} keywords)", ks.hash)
                self.keyword_set.setItemData(
                    self.keyword_set.count() - 1,
                    f"{ks.id}: the set's name and a fingerprint of its keywords, recorded with every set made from it",
                    Qt.ItemDataRole.ToolTipRole,
                )
            for run in runs:
                self.run.addItem(f"{run['id']} ({', '.join(run['targets'])})", run["id"])
        self.lists_loaded.emit()
        if self.isVisible():
            self.refresh()

    # -- create -------------------------------------------------------------------------
    def create_set(self) -> None:
        """Sample the set in a ``vspectrum annotate create`` job: retrieval loads CLIP (torch),
        which must neither freeze nor be able to crash the window."""
        ws, name = self.ctx.workspace, self.new_name.text().strip()
        if ws is None or not name:
            self.status.set_message("Open a workspace and name the new task set.", "error")
            return
        kind = self.new_kind.currentData()
        params = annotate_ops.Create(
            name=name,
            kind=kind,
            per_value=self.per_value.value(),
            raters=self.raters.value(),
            seed=self.seed.value(),
            json=True,
        )
        if kind != "representativeness":
            values = tuple(v.strip() for v in self.new_values.text().split(",") if v.strip())
            params = replace(
                params,
                k=self.k.value(),
                values=values or None,
                keyword_set=self.keyword_set.currentData() or None,
                clip=self.ctx.clip_options(),
            )
        self.create_button.setEnabled(False)
        self.status.set_message(
            f"Creating {name}" + ("..." if kind == "representativeness" else " (the retrieval loads the CLIP model)...")
        )
        self.create_job = job = self.ctx.run_job(f"Create task set {name}", params)
        job.failed.connect(
            lambda message: self.status.set_message(f"Could not create the task set: {message}", "error")
        )
        job.finished.connect(lambda code, j=job: self._created(j, code))

    def _created(self, job: Job, code: int) -> None:
        self.create_job = None
        self.create_button.setEnabled(True)
        made = result_of(job, annotate_ops.Created) if code == 0 else None
        if made is not None:
            self.status.set_message(f"Task set {made.name}: {made.items} items", "success")
            self.pane.reload_sets(select=made.set_id)
        elif code == 130:
            self.status.set_message("Creating the task set was stopped; nothing was added.")

    # -- exchange -----------------------------------------------------------------------
    def export(self) -> None:
        from vspectrum_app.annotate.exchange import export_answers

        set_id, annotator = self.pane.sets.currentData(), self.pane.annotator.text().strip() or None
        ws = self.ctx.workspace
        if ws is None or not set_id:
            self.status.set_message("Choose a task set to export.", "error")
            return
        default = f"{self.pane.store.get_set(set_id)['name']}-{annotator or 'everyone'}.json"
        path, _ = QFileDialog.getSaveFileName(self, "Export answers", default, "Annotation exports (*.json)")
        if path:
            self.status.set_message(f"Writing {path}...")
            self._worker.run(
                lambda: export_answers(ws, set_id, annotator, Path(path)),
                lambda n: self.status.set_message(f"{n} answers written to {path}", "success"),
                lambda message: self.status.set_message(f"Could not export: {message}", "error"),
            )

    def import_files(self) -> None:
        if self.ctx.workspace is None:
            return
        paths, _ = QFileDialog.getOpenFileNames(self, "Import answers", "", "Annotation exports (*.json)")
        if paths:
            ws = self.ctx.workspace
            self.status.set_message(f"Importing {len(paths)} file(s)...")
            self._worker.run(
                lambda: _import_all(ws, paths),
                self._imported,
                lambda message: self.status.set_message(f"Could not import: {message}", "error"),
            )

    def _imported(self, outcome: tuple[list[str], str | None]) -> None:
        lines, last_set = outcome
        self.status.set_message("; ".join(lines))
        if last_set:
            self.pane.reload_sets(select=last_set)
            self.refresh()

    # -- results ------------------------------------------------------------------------
    def refresh(self) -> None:
        """The chosen set's report (agreement, and the run's filtered scores), computed on the worker."""
        from vspectrum_app.annotate.report import set_report

        self._generation += 1
        generation, ws = self._generation, self.ctx.workspace
        set_id, run_id = self.pane.sets.currentData(), self.run.currentData()
        if ws is None or not set_id:
            self._show_report(None)
            return
        self._worker.run(
            lambda: set_report(ws, set_id, run_id=run_id),
            while_current(lambda: generation == self._generation, self._show_report),
            while_current(
                lambda: generation == self._generation,
                lambda message: self.status.set_message(f"Cannot compute the report: {message}", "error"),
            ),
        )

    def _show_report(self, report: dict[str, Any] | None) -> None:
        self.summary.setText(
            ""
            if report is None
            else f"{report['set']['name']}: {report['set']['raters']} annotators per item; "
            f"answers from {', '.join(report['annotators']) or 'nobody yet'}"
        )
        self._show_table9(report)
        self._show_disagreements(report)
        self._show_filtered(report.get("filtered_scores", []) if report else [])

    def _show_table9(self, report: dict[str, Any] | None) -> None:
        """The paper's Table 9: a row per value and overall, per question % yes / no / not sure, and agreement."""
        rows = report["groups"] + [report["overall"]] if report else []
        questions = [q for q in ("screenshot", "video", "representative") if report and q in report["overall"]]
        columns = [(q, key) for q in questions for key, _ in self.STAT_COLUMNS]
        self.table9.clear()
        self.table9.setRowCount(len(rows))
        self.table9.setColumnCount(1 + len(columns))
        self.table9.setHorizontalHeaderLabels(
            ["Value"] + [f"{q}\n{dict(self.STAT_COLUMNS)[key]}" for q, key in columns]
        )
        for r, row in enumerate(rows):
            self.table9.setItem(r, 0, QTableWidgetItem(row["group"]))
            for c, (q, key) in enumerate(columns, start=1):
                self.table9.setItem(r, c, QTableWidgetItem(self._cell(row.get(q), key)))
        self.table9.resizeColumnsToContents()

    @staticmethod
    def _cell(stats: dict[str, Any] | None, key: str) -> str:
        if stats is None:
            return ""
        return str(stats[key]) if key in ("items", "raters") else _num(stats[key], 1 if key.startswith("pct") else 3)

    def _show_disagreements(self, report: dict[str, Any] | None) -> None:
        self.disagreement_rows = report["disagreements"] if report else []
        self.disagreements.clear()
        for d in self.disagreement_rows:
            answers = ", ".join(f"{a}: {ANSWER_TEXT[v]}" for a, v in sorted(d["answers"].items()))
            self.disagreements.addItem(
                QListWidgetItem(f"{d['value'] or 'item'} #{d['item_id']}, {d['question']}: {answers}")
            )

    def _open_disagreement(self, list_item: QListWidgetItem) -> None:
        self.pane.open_item(self.pane.sets.currentData(), self.disagreement_rows[self.disagreements.row(list_item)])

    def _show_filtered(self, rows: list[dict[str, Any]]) -> None:
        self.filtered.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (
                row["target"],
                row["mode"],
                row["value"],
                f"{_num(row['score'], 1)} ({row['n']})",
                f"{_num(row['score_filtered'], 1)} ({row['n_filtered']})",
            )
            for c, text in enumerate(cells):
                self.filtered.setItem(r, c, QTableWidgetItem(text))
        self.filtered.resizeColumnsToContents()
