"""The desktop app (PySide6 + pyqtgraph): the only package that imports Qt.

It presents the Qt-free core; long work runs as the same ``vspectrum`` CLI commands in
child processes (``gui.jobs``), so the window never freezes and a crash in a job cannot
take it down.
"""
