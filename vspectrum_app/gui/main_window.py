"""The main window: navigation on the left, one pane at a time, status bar with the
workspace, the index state and running jobs."""

from __future__ import annotations

import importlib
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListWidget, QMainWindow, QMessageBox,
                               QStackedWidget, QWidget)

from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes import PANES


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("Value-Spectrum Studio")
        self.resize(1280, 820)
        self.nav = QListWidget()
        self.nav.setFixedWidth(150)
        self.stack = QStackedWidget()
        self.panes: dict[str, QWidget] = {}
        for title, _, _ in PANES:
            self.nav.addItem(title)
            self.stack.addWidget(QWidget())  # placeholder until first shown
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.nav.currentRowChanged.connect(self._show_row)
        self._build_menu()
        self.workspace_label, self.index_label, self.jobs_label = QLabel(), QLabel(), QLabel()
        for label in (self.workspace_label, self.index_label, self.jobs_label):
            self.statusBar().addPermanentWidget(label)
        ctx.workspace_changed.connect(self._update_status)
        ctx.library_changed.connect(self._update_status)
        ctx.jobs.changed.connect(lambda: self.jobs_label.setText(ctx.jobs.describe()))
        ctx.show_pane.connect(self.show_pane)
        self.jobs_label.setText(ctx.jobs.describe())
        self._update_status()
        self.nav.setCurrentRow(0)

    # -- panes --------------------------------------------------------------------------
    def pane(self, title: str) -> QWidget:
        if title not in self.panes:
            row = [t for t, _, _ in PANES].index(title)
            _, module, cls = PANES[row]
            widget = getattr(importlib.import_module(module), cls)(self.ctx, self)
            placeholder = self.stack.widget(row)
            self.stack.insertWidget(row, widget)
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
            self.panes[title] = widget
        return self.panes[title]

    def show_pane(self, title: str) -> QWidget:
        row = [t for t, _, _ in PANES].index(title)
        self.nav.setCurrentRow(row)
        return self.pane(title)

    def _show_row(self, row: int) -> None:
        if row >= 0:
            self.pane(PANES[row][0])
            self.stack.setCurrentIndex(row)

    # -- menu ---------------------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        for text, shortcut, slot in (("&New workspace...", QKeySequence.StandardKey.New, self._new_workspace),
                                     ("&Open workspace...", QKeySequence.StandardKey.Open, self._open_workspace)):
            action = QAction(text, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            menu.addAction(action)
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu.addAction(quit_action)
        for n, (title, _, _) in enumerate(PANES, start=1):
            action = QAction(title, self)
            action.setShortcut(f"Ctrl+{n}")
            action.triggered.connect(lambda _=False, t=title: self.show_pane(t))
            self.addAction(action)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.ctx.settings.get("recent_workspaces", []):
            self.recent_menu.addAction(path, lambda p=path: self.open_workspace(p))

    def _new_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "New workspace: choose an empty folder")
        if folder:
            self.open_workspace(folder)

    def _open_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open workspace")
        if folder:
            if not (Path(folder) / "catalog.sqlite").exists():
                answer = QMessageBox.question(self, "Open workspace",
                                              f"{folder} is not a workspace yet. Create one there?")
                if answer != QMessageBox.StandardButton.Yes:
                    return
            self.open_workspace(folder)

    def open_workspace(self, path: str | Path) -> None:
        try:
            self.ctx.open_workspace(path)
        except Exception as exc:  # a clear message, never a crash
            QMessageBox.critical(self, "Cannot open workspace", str(exc))
            return
        from vspectrum_app.bench.store import RunStore

        unfinished = RunStore(self.ctx.workspace).unfinished_runs()
        if unfinished:  # a run was interrupted: offer it where it can be resumed
            self.statusBar().showMessage(f"{len(unfinished)} benchmark run(s) can be resumed", 15_000)
            self.show_pane("Benchmark")

    # -- status -------------------------------------------------------------------------
    def _update_status(self) -> None:
        ws = self.ctx.workspace
        self.workspace_label.setText(f"Workspace: {ws.root}" if ws else "No workspace")
        if ws is None:
            self.index_label.setText("")
            return
        images = ws.db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
        embedded = ws.db.execute("SELECT COUNT(DISTINCT image_id) FROM embeddings").fetchone()[0]
        self.index_label.setText(f"{images} screenshots, {embedded} indexed")

    def closeEvent(self, event) -> None:
        if self.ctx.jobs.jobs:
            names = self.ctx.jobs.describe()
            answer = QMessageBox.question(self, "Quit", f"Stop {names}? Finished work is saved and can be resumed.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.ctx.jobs.cancel_all()
        if self.ctx.workspace:
            self.ctx.workspace.close()
        event.accept()
