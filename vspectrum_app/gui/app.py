"""Start the app: ``vspectrum`` with no command, ``vspectrum-studio``, or ``make run``."""

from __future__ import annotations

import sys
import time

_T0 = time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from vspectrum_app.core.paths import default_workspace
    from vspectrum_app.gui.context import AppContext
    from vspectrum_app.gui.main_window import MainWindow

    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Value-Spectrum Studio")
    app.setOrganizationName("vspectrum")
    ctx = AppContext()
    window = MainWindow(ctx)
    window.show()
    if "--print-startup-time" in argv:  # for bench/gui_startup.py
        print(f"window shown after {time.perf_counter() - _T0:.3f} s", flush=True)
    if "--exit-after-show" in argv:
        QTimer.singleShot(0, app.quit)
    # Open the workspace after the window is up: the window must appear fast.
    QTimer.singleShot(0, lambda: window.open_workspace(default_workspace()))
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
