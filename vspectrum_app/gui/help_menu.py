"""The Help menu: keyboard shortcuts (F1), About (version, folders, licences of the bundled
parts), Open log folder and Copy diagnostics. Diagnostics carry versions and folders, never a
key: they are built from the settings and provider names only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMainWindow, QMenu, QTextBrowser, QVBoxLayout, QWidget

from vspectrum_app import __version__
from vspectrum_app.gui.context import AppContext

if TYPE_CHECKING:
    import importlib.metadata as md

SHORTCUTS = [
    ("Ctrl+1 ... Ctrl+7", "Switch to Library, Crawl, Benchmark, Results, Persona, Annotation, Settings"),
    ("Ctrl+F", "Search the library (focuses the search field)"),
    ("Ctrl+O", "Import screenshots from a folder"),
    ("Ctrl+N / Ctrl+Shift+O", "New workspace / open a workspace"),
    ("Ctrl+Return", "Start (Crawl, Benchmark, Persona, Annotation)"),
    ("Esc", "Close a dialog without changes"),
    ("Y / N / S, Enter, Left / Right, U", "Annotation: choose, confirm, move, undo"),
    ("F1", "This list"),
    ("Ctrl+Q", "Quit (running work is stopped and can be resumed)"),
]
BUNDLED = [
    "PySide6-Essentials",
    "pyqtgraph",
    "numpy",
    "pillow",
    "ImageHash",
    "hnswlib",
    "torch",
    "open-clip-torch",
    "onnxruntime",
    "playwright",
    "openai",
    "anthropic",
    "keyring",
    "platformdirs",
]
KNOWN_LICENCES = {"hnswlib": "Apache-2.0"}  # its package metadata names none


def licences() -> list[tuple[str, str, str]]:
    """(package, version, licence) of each bundled part, from the installed packages' metadata."""
    import importlib.metadata as md

    rows = []
    for name in BUNDLED:
        try:
            meta = md.metadata(name)
        except md.PackageNotFoundError:
            continue
        licence = _field(meta, "License-Expression") or next(iter(_field(meta, "License").splitlines()), "")
        rows.append((name, _field(meta, "Version") or "?", licence or KNOWN_LICENCES.get(name, "see the package")))
    return rows


def _field(meta: md.PackageMetadata, name: str) -> str:
    """A metadata field's first value ("" when absent)."""
    return str((meta.get_all(name) or [""])[0])


def log_folder() -> Path:
    from vspectrum_app.core.paths import log_dir

    return log_dir()


def diagnostics(ctx: AppContext) -> str:
    """The same text as ``vspectrum diagnostics`` (vspectrum_app.diagnostics), for this window."""
    from PySide6 import __version__ as pyside

    from vspectrum_app.diagnostics import diagnostics_text

    return diagnostics_text(ctx.settings.as_dict(), ctx.workspace_path, extra=[f"PySide6 {pyside}"])


def show_text(parent: QWidget, title: str, html: str) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    view = QTextBrowser()
    view.setOpenExternalLinks(True)
    view.setHtml(html)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(view)
    layout.addWidget(buttons)
    dialog.resize(620, 460)
    dialog.open()
    return dialog


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td><b>{k}</b></td><td>{what}</td></tr>" for k, what in SHORTCUTS)
    return f"<h3>Keyboard shortcuts</h3><table cellpadding='4'>{rows}</table>"


def about_html(ctx: AppContext) -> str:
    from vspectrum_app.core.paths import config_dir, data_dir

    rows = "".join(f"<tr><td>{n}</td><td>{v}</td><td>{lic}</td></tr>" for n, v, lic in licences())
    return (
        f"<h2>Value-Spectrum Studio {__version__}</h2>"
        "<p>Measures the value preferences of vision-language models on short-video screenshots.</p>"
        f"<p><b>Data folder:</b> {data_dir()}<br><b>Settings folder:</b> {config_dir()}<br>"
        f"<b>Log folder:</b> {log_folder()}<br><b>Workspace:</b> {ctx.workspace_path or '(none)'}</p>"
        f"<h3>Bundled parts and their licences</h3><table cellpadding='3'>"
        f"<tr><th align='left'>Part</th><th align='left'>Version</th><th align='left'>Licence</th></tr>{rows}</table>"
    )


def build(window: QMainWindow, ctx: AppContext, menu: QMenu) -> QAction:
    """The Help menu's actions; returns the shortcuts' one (the window's F1)."""

    def add(text: str, slot: Callable[[], object], shortcut: QKeySequence.StandardKey | None = None) -> QAction:
        action = QAction(text, window)
        if shortcut:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    shortcuts = add(
        "&Keyboard shortcuts",
        lambda: show_text(window, "Keyboard shortcuts", shortcuts_html()),
        QKeySequence.StandardKey.HelpContents,
    )
    add("Open &log folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_folder()))))

    def copy() -> None:
        QGuiApplication.clipboard().setText(diagnostics(ctx))
        window.statusBar().showMessage("Diagnostics copied (versions and folders; no keys)", 5000)

    add("&Copy diagnostics", copy)
    menu.addSeparator()
    add("&About Value-Spectrum Studio", lambda: show_text(window, "About", about_html(ctx)))
    return shortcuts
