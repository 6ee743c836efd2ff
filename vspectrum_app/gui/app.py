"""Start the app: ``vspectrum`` with no command, ``vspectrum-studio``, or ``make run``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vspectrum_app.core.paths import log_dir

if TYPE_CHECKING:  # the app imports Qt after its startup clock starts
    from vspectrum_app.gui.context import AppContext

_T0 = time.perf_counter()
LOG_BYTES, LOG_BACKUPS = 1_000_000, 3


def setup_logging() -> Path | None:
    """A rotating log file (1 MB x 4) for the window's messages; Help > Open log folder shows it."""
    import logging
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger("vspectrum")
    if any(isinstance(h, RotatingFileHandler) for h in root.handlers):
        return None
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            folder / "vspectrum-studio.log", maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None  # an unwritable log folder must not stop the app
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return folder / "vspectrum-studio.log"


def load_context() -> AppContext | None:
    """The app's shared context; None after saying in one sentence why the settings file cannot
    be read (the file is left as it is: nothing the user wrote is overwritten)."""
    from PySide6.QtWidgets import QMessageBox

    from vspectrum_app.core.settings import SettingsError
    from vspectrum_app.gui.context import AppContext

    try:
        return AppContext()
    except SettingsError as exc:
        QMessageBox.critical(None, "Value-Spectrum Studio cannot start", str(exc))
        return None


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from vspectrum_app.core.settings import default_workspace
    from vspectrum_app.gui import style, workers
    from vspectrum_app.gui.main_window import MainWindow

    argv = list(sys.argv if argv is None else argv)
    existing = QApplication.instance()  # the tests' own, say
    app = existing if isinstance(existing, QApplication) else QApplication(argv)
    app.setApplicationName("Value-Spectrum Studio")
    app.setOrganizationName("vspectrum")
    workers.install(app)  # the shared worker threads end with the application
    setup_logging()
    style.apply(app)
    ctx = load_context()
    if ctx is None:
        return 1
    if ctx.settings.get("theme") in ("light", "dark"):  # View > Theme, remembered
        style.apply(app, ctx.settings.get("theme"))
    window = MainWindow(ctx)
    window.show()
    if "--print-startup-time" in argv:  # for perf/gui_startup.py
        print(f"window shown after {time.perf_counter() - _T0:.3f} s", flush=True)
    if "--exit-after-show" in argv:
        QTimer.singleShot(0, app.quit)
    # Open the workspace after the window is up: the window must appear fast.
    QTimer.singleShot(0, lambda: window.open_workspace(default_workspace()))
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
