"""The main window: a sidebar with each part's state, one pane at a time (each in a scroll
area, so no pane can make the window larger than the screen), a status bar with the
workspace, the index state and running jobs, and the File and Help menus."""

from __future__ import annotations

import importlib
import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QMoveEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QWidget,
)

from vspectrum_app.gui import help_menu, style
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.panes import PANES

if TYPE_CHECKING:  # the panes are imported when first shown
    from vspectrum_app.gui.panes.library import LibraryPane

DEFAULT_SIZE = QSize(1280, 800)
MINIMUM_SIZE = QSize(960, 600)  # every pane stays usable down to this (tests/gui/test_window_size.py)
# which pane a background job belongs to, by the CLI command it runs
log = logging.getLogger("vspectrum.gui")
JOB_PANES = {
    "library": "Library",
    "crawl": "Crawl",
    "bench": "Benchmark",
    "persona": "Persona",
    "annotate": "Annotation",
}
# what the sidebar says under a part while one of its jobs runs, by the job's command line
BUSY = {
    ("bench", "run"): "run in progress",
    ("bench", "resume"): "run in progress",
    ("library", "model"): "checking the CLIP model",
    ("library", "index"): "building the index",
    ("library", "import"): "importing",
    ("library", "stats"): "counting for the chart",
    ("crawl",): "crawl in progress",
    ("persona", "run"): "session in progress",
    ("persona", "resume"): "session in progress",
    ("persona", "replay"): "replay in progress",
    ("annotate", "create"): "creating a task set",
}


def busy_text(args: list[str], dry_run: bool = False) -> str:
    """The sidebar's line for a job (its command words, and whether its parameters ask a dry
    run): a cost estimate is not a run, a model check not an index."""
    if dry_run:
        return "estimating the cost"
    return BUSY.get(tuple(args[:2]), BUSY.get(tuple(args[:1]), "working"))


PANE_ICONS = {
    "Library": QStyle.StandardPixmap.SP_DirIcon,
    "Crawl": QStyle.StandardPixmap.SP_BrowserReload,
    "Benchmark": QStyle.StandardPixmap.SP_MediaPlay,
    "Results": QStyle.StandardPixmap.SP_FileDialogDetailedView,
    "Persona": QStyle.StandardPixmap.SP_DialogYesButton,
    "Annotation": QStyle.StandardPixmap.SP_DialogApplyButton,
    "Settings": QStyle.StandardPixmap.SP_FileDialogContentsView,
}
TITLE_ROLE = Qt.ItemDataRole.UserRole
JOBS_WIDTH = 320  # px of the status bar for the running jobs' names (all of them in the tooltip)


FIT_TRIES = 50  # x 100 ms: how long a window manager may take to frame the window
FRAME_GUESS = QMargins(4, 32, 4, 4)  # a title bar and borders, until the window manager says its own


def initial_geometry(available: QRect, frame: QMargins = FRAME_GUESS) -> QRect:
    """The first window's content area: 1280x800, or what the screen's available area leaves
    inside the window's ``frame`` when that is smaller, the whole frame centred on the area."""
    room = QSize(available.width() - frame.left() - frame.right(), available.height() - frame.top() - frame.bottom())
    size = DEFAULT_SIZE.boundedTo(room).expandedTo(MINIMUM_SIZE)
    outer = QRect(0, 0, size.width() + frame.left() + frame.right(), size.height() + frame.top() + frame.bottom())
    outer.moveCenter(available.center())
    outer.moveTopLeft(QPoint(max(outer.left(), available.left()), max(outer.top(), available.top())))
    return QRect(outer.left() + frame.left(), outer.top() + frame.top(), size.width(), size.height())


BROWSER_MIN_WIDTH = 480  # narrower than this beside the app, the browser overlaps the app's right side


def browser_beside(available: QRect, frame: QRect) -> QRect:
    """Where a watched browser's window opens: the wider strip of the screen beside the app's
    frame; when neither is BROWSER_MIN_WIDTH wide, the right 45 % of the screen (over the app's
    right part, where the live view is, rather than over all of it)."""
    left = frame.left() - available.left()
    right = available.left() + available.width() - (frame.left() + frame.width())
    if max(left, right) >= BROWSER_MIN_WIDTH:
        x = frame.left() + frame.width() if right >= left else available.left()
        return QRect(x, available.top(), max(left, right), available.height())
    width = max(BROWSER_MIN_WIDTH, int(available.width() * 0.45))
    return QRect(available.left() + available.width() - width, available.top(), width, available.height())


def frame_inside(available: QRect, frame: QRect, margins: QMargins) -> tuple[QSize, QPoint] | None:
    """The content size and the frame's top-left that put a window whose frame is ``frame`` (with
    ``margins`` around its content) wholly on ``available``; None when it is already."""
    if available.contains(frame):
        return None
    width = min(frame.width(), available.width())
    height = min(frame.height(), available.height())
    x = min(max(frame.left(), available.left()), available.left() + available.width() - width)
    y = min(max(frame.top(), available.top()), available.top() + available.height() - height)
    content = QSize(width - margins.left() - margins.right(), height - margins.top() - margins.bottom())
    return content, QPoint(x, y)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("Value-Spectrum Studio")
        self.setWindowIcon(style.app_icon())
        self.setMinimumSize(MINIMUM_SIZE)
        self.nav = QListWidget()
        self.nav.setAccessibleName("Parts of the app")
        self.nav.setFixedWidth(190)
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setSpacing(2)
        self.nav.setWordWrap(True)
        self.stack = QStackedWidget()
        self.panes: dict[str, QWidget] = {}
        for title, _, _ in PANES:
            item = QListWidgetItem(
                self.style().standardIcon(PANE_ICONS.get(title, QStyle.StandardPixmap.SP_FileIcon)), title
            )
            item.setData(TITLE_ROLE, title)
            self.nav.addItem(item)
            self.stack.addWidget(self._scroll(QWidget()))  # placeholder until first shown
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.nav.currentRowChanged.connect(self._show_row)
        self._build_menu()
        # the workspace path and the job titles can be long: elided, never widening the window
        self.workspace_label, self.index_label, self.jobs_label = MessageLabel(lines=1), QLabel(), QLabel()
        self.statusBar().addWidget(self.workspace_label, 1)
        self.statusBar().addPermanentWidget(self.index_label)
        self.statusBar().addPermanentWidget(self.jobs_label)
        ctx.workspace_changed.connect(self._update_status)
        ctx.library_changed.connect(self._update_status)
        ctx.jobs.changed.connect(self._update_status)
        ctx.show_pane.connect(self.show_pane)
        self._update_status()
        self.nav.setCurrentRow(0)
        self._restore_geometry()

    @staticmethod
    def _scroll(widget: QWidget) -> QScrollArea:
        """A pane in a scroll area: below the pane's own minimum the pane scrolls, the window does not grow."""
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(widget)
        return area

    # -- geometry -----------------------------------------------------------------------
    def available_area(self) -> QRect:
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen else QRect(0, 0, 1280, 800)

    def _restore_geometry(self) -> None:
        """The size and place of the last session when they still fit the screen, else the default."""
        available = self.available_area()
        saved = self.ctx.settings.get("window_geometry")
        if isinstance(saved, list) and len(saved) == 4 and all(isinstance(n, int) for n in saved):
            rect = QRect(*saved)
            if (
                available.contains(rect.marginsAdded(FRAME_GUESS))
                and rect.width() >= MINIMUM_SIZE.width()
                and rect.height() >= MINIMUM_SIZE.height()
            ):
                self.setGeometry(rect)
                return
        self.setGeometry(initial_geometry(available))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not hasattr(self, "_fit_timer") and QGuiApplication.platformName() not in ("offscreen", "minimal"):
            # the frame is known once the window manager has drawn it (offscreen: no screen to fit)
            self._fit_tries = 0
            self._fit_timer = QTimer(self)
            self._fit_timer.setInterval(100)
            self._fit_timer.timeout.connect(self._try_fit)
            self._fit_timer.start()

    def _try_fit(self) -> None:
        """Once, when the window manager has framed the window (without one there is no frame
        to fit: the content area was placed on the screen already)."""
        self._fit_tries += 1
        framed = self.frame_margins() != QMargins()
        if framed or self._fit_tries >= FIT_TRIES:
            self._fit_timer.stop()
        if framed:
            self.fit_frame_on_screen()

    def moveEvent(self, event: QMoveEvent) -> None:  # noqa: N802 (Qt's name)
        super().moveEvent(event)
        self._place_browser()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._place_browser()

    def _place_browser(self) -> None:
        """Tell the jobs started from now on where a watched browser window goes (beside this one)."""
        from vspectrum_app.crawl.browser import WINDOW_ENV

        r = browser_beside(self.available_area(), self.frameGeometry())
        self.ctx.jobs.env[WINDOW_ENV] = f"{r.x()},{r.y()},{r.width()},{r.height()}"

    def frame_margins(self) -> QMargins:
        frame, inner = self.frameGeometry(), self.geometry()
        return QMargins(
            inner.left() - frame.left(),
            inner.top() - frame.top(),
            frame.right() - inner.right(),
            frame.bottom() - inner.bottom(),
        )

    def fit_frame_on_screen(self) -> None:
        """Shrink and move the window so that its whole frame, title bar included, is on the
        screen's available area (a window as tall as the area put its title bar above it, or its
        bottom edge below it)."""
        if self.isMaximized() or self.isFullScreen() or not self.isVisible():
            return
        fit = frame_inside(self.available_area(), self.frameGeometry(), self.frame_margins())
        if fit is not None:
            size, corner = fit
            self.resize(size.expandedTo(self.minimumSize()))
            self.move(corner)  # a window's move() places its frame

    def _save_geometry(self) -> None:
        g = self.geometry()  # [x, y, width, height] of the content area, as setGeometry takes it
        self.ctx.settings.set("window_geometry", [g.x(), g.y(), g.width(), g.height()])
        try:
            self.ctx.settings.save()
        except OSError:
            pass  # an unwritable config folder costs the remembered size, nothing else

    # -- panes --------------------------------------------------------------------------
    def pane(self, title: str) -> QWidget:
        if title not in self.panes:
            row = [t for t, _, _ in PANES].index(title)
            _, module, cls = PANES[row]
            widget = getattr(importlib.import_module(module), cls)(self.ctx, self)
            placeholder = self.stack.widget(row)
            self.stack.insertWidget(row, self._scroll(widget))
            if placeholder is not None:
                self.stack.removeWidget(placeholder)
                placeholder.deleteLater()
            self.panes[title] = widget
        return self.panes[title]

    def current_pane(self) -> QWidget | None:
        area = self.stack.currentWidget()
        return area.widget() if isinstance(area, QScrollArea) else area

    def show_pane(self, title: str) -> QWidget:
        row = [t for t, _, _ in PANES].index(title)
        self.nav.setCurrentRow(row)
        return self.pane(title)

    def _show_row(self, row: int) -> None:
        if row >= 0:
            self.pane(PANES[row][0])
            self.stack.setCurrentIndex(row)

    # -- menu ---------------------------------------------------------------------------
    def _action(
        self,
        menu: QMenu | None,
        text: str,
        shortcut: QKeySequence | QKeySequence.StandardKey | None,
        slot: Callable[[], object],
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action) if menu is not None else self.addAction(action)
        return action

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self._action(menu, "&Import screenshots...", QKeySequence("Ctrl+O"), self._import)
        menu.addSeparator()
        self._action(menu, "&New workspace...", QKeySequence.StandardKey.New, self._new_workspace)
        self._action(menu, "Open &workspace...", QKeySequence("Ctrl+Shift+O"), self._open_workspace)
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addSeparator()
        self._action(menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        for n, (title, _, _) in enumerate(PANES, start=1):
            self._action(None, title, QKeySequence(f"Ctrl+{n}"), partial(self.show_pane, title))
        self._action(None, "Search", QKeySequence("Ctrl+F"), self.focus_search)
        self._build_view_menu(self.menuBar().addMenu("&View"))
        self.shortcuts_action = help_menu.build(self, self.ctx, self.menuBar().addMenu("&Help"))

    def _build_view_menu(self, menu: QMenu) -> None:
        """View > Theme: light, dark or the system's; the plots follow; kept in the settings."""
        themes = menu.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for key, text in (("system", "&System"), ("light", "&Light"), ("dark", "&Dark")):
            action = themes.addAction(text)
            action.setCheckable(True)
            action.setChecked(style.scheme() == key)
            group.addAction(action)
            action.triggered.connect(lambda _=False, k=key: self.set_theme(k))
            self.theme_actions[key] = action

    def set_theme(self, key: str) -> None:
        from PySide6.QtWidgets import QApplication

        style.apply(QApplication.instance(), key)  # type: ignore[arg-type]  # a QApplication runs the window
        self.theme_actions[key].setChecked(True)
        self.ctx.settings.set("theme", key)
        try:
            self.ctx.settings.save()
        except OSError:
            self.statusBar().showMessage(
                "The theme applies now but could not be saved (the settings folder is not writable).", 10_000
            )

    def library_pane(self) -> LibraryPane:
        """The Library pane, shown."""
        from vspectrum_app.gui.panes.library import LibraryPane

        pane = self.show_pane("Library")
        assert isinstance(pane, LibraryPane)
        return pane

    def focus_search(self) -> None:
        pane = self.library_pane()
        if pane.stack.currentWidget() is pane.browser:
            pane.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
            pane.search.selectAll()

    def _import(self) -> None:
        self.library_pane().import_folder()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.ctx.settings.get("recent_workspaces", []):
            self.recent_menu.addAction(path, partial(self.open_workspace, path))

    def _new_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "New workspace: choose an empty folder")
        if folder:
            self.open_workspace(folder)

    def _open_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open workspace")
        if folder:
            if not (Path(folder) / "catalog.sqlite").exists():
                answer = QMessageBox.question(
                    self, "Open workspace", f"{folder} is not a workspace yet. Create one there?"
                )
                if answer != QMessageBox.StandardButton.Yes:
                    return
            self.open_workspace(folder)

    def open_workspace(self, path: str | Path) -> None:
        try:
            ws = self.ctx.open_workspace(path)
        except Exception as exc:  # a clear message, never a crash
            QMessageBox.critical(self, "Cannot open workspace", str(exc))
            return
        from vspectrum_app.bench.store import RunStore
        from vspectrum_app.gui.panes.library import LibraryPane

        unfinished = RunStore(ws).unfinished_runs()
        if unfinished:  # a run was interrupted: offer it where it can be resumed
            self.statusBar().showMessage(f"{len(unfinished)} benchmark run(s) can be resumed", 15_000)
            self.show_pane("Benchmark")
        # one line a support request (and the installer's smoke test) can read: what the user saw first
        library = self.pane("Library")
        assert isinstance(library, LibraryPane)
        first = "the welcome page" if library.stack.currentWidget() is library.first_run else "the library grid"
        log.info(
            "workspace %s opened (%s); %s pane shows %s",
            path,
            self.library_state(),
            PANES[max(self.nav.currentRow(), 0)][0],
            first,
        )

    # -- status -------------------------------------------------------------------------
    def _counts(self) -> tuple[int, int]:
        """(screenshots, screenshots embedded) in the open workspace."""
        from vspectrum_app.library import catalog

        ws = self.ctx.workspace
        return (catalog.image_count(ws), catalog.embedded_count(ws)) if ws is not None else (0, 0)

    def library_state(self) -> str:
        if self.ctx.workspace is None:
            return "no workspace"
        images, embedded = self._counts()
        if not images:
            return "no screenshots yet"
        index = (
            "index ready"
            if embedded >= images
            else ("no index yet" if not embedded else f"{embedded} of {images} indexed")
        )
        return f"{images} screenshot{'s' * (images != 1)}, {index}"

    def pane_state(self, title: str) -> str:
        """What the sidebar says under a part's name: its work in the open workspace."""
        ws = self.ctx.workspace
        if title == "Library":
            return self.library_state()
        if ws is None:
            return ""
        if title == "Benchmark":
            from vspectrum_app.bench.store import RunStore

            store = RunStore(ws)
            runs, unfinished = len(store.runs()), len(store.unfinished_runs())
            return (
                (f"{runs} run{'s' * (runs != 1)}" + (f", {unfinished} unfinished" if unfinished else ""))
                if runs
                else ""
            )
        if title == "Annotation":
            from vspectrum_app.annotate.store import AnnotationStore

            sets = len(AnnotationStore(ws).sets())
            return f"{sets} task set{'s' * (sets != 1)}" if sets else ""
        return ""

    def _update_status(self) -> None:
        ws = self.ctx.workspace
        self.workspace_label.set_message(f"Workspace: {ws.root}" if ws else "No workspace")
        jobs = self.ctx.jobs.describe()
        self.jobs_label.setText(self.fontMetrics().elidedText(jobs, Qt.TextElideMode.ElideRight, JOBS_WIDTH))
        self.jobs_label.setToolTip(jobs)
        if ws is None:
            self.index_label.setText("")
        else:
            self.index_label.setText("{} screenshots, {} indexed".format(*self._counts()))
        busy: dict[str | None, str] = {}
        for job in self.ctx.jobs.jobs:
            args = list(job.args or [""])
            dry_run = bool(getattr(getattr(job, "params", None), "dry_run", False))
            busy.setdefault(JOB_PANES.get(args[0]), busy_text(args, dry_run))
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            title = item.data(TITLE_ROLE)
            state = busy[title] if title in busy else self.pane_state(title)
            item.setText(f"{title}\n{state}" if state else title)
            item.setToolTip(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.ctx.jobs.jobs:
            names = self.ctx.jobs.describe()
            answer = QMessageBox.question(self, "Quit", f"Stop {names}? Finished work is saved and can be resumed.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self._save_geometry()
        self.ctx.jobs.cancel_all()
        if self.ctx.workspace:
            self.ctx.workspace.close()
        event.accept()
