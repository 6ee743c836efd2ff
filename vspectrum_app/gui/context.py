"""What every pane shares: the open workspace, the settings, the job manager."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from vspectrum_app.core.operations import Operation
from vspectrum_app.core.settings import Settings
from vspectrum_app.gui.jobs import Job, JobManager
from vspectrum_app.core.workspace import Workspace
from vspectrum_app.library.catalog import open_workspace
from vspectrum_app.encoders.embedder import ClipSpec
from vspectrum_app.library.ops import ClipOptions

MAX_RECENT = 8


class AppContext(QObject):
    workspace_changed = Signal()
    library_changed = Signal()  # images imported or indexed
    runs_changed = Signal()  # a benchmark run finished or changed
    providers_changed = Signal()
    show_pane = Signal(str)  # ask the window to switch to a pane by title

    def __init__(self, settings: Settings | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings or Settings.load()
        self.jobs = JobManager(self)
        self.workspace: Workspace | None = None

    def open_workspace(self, root: Path | str) -> Workspace:
        ws = open_workspace(root)
        if self.workspace is not None:
            self.workspace.close()
        self.workspace = ws
        recent = [str(ws.root)] + [r for r in self.settings.get("recent_workspaces", []) if r != str(ws.root)]
        self.settings.set("recent_workspaces", recent[:MAX_RECENT])
        self.settings.save()
        self.workspace_changed.emit()
        return ws

    @property
    def workspace_path(self) -> str | None:
        return str(self.workspace.root) if self.workspace else None

    def run_job(self, title: str, params: Operation) -> Job:
        """Start ``params`` (an operation of a part's ``ops`` module) as a job on the open workspace."""
        return self.jobs.start(title, params, self.workspace_path)

    def clip_options(self) -> ClipOptions:
        """The Settings' CLIP model as the jobs' options (the job does what they say)."""
        return ClipOptions.of(ClipSpec.from_settings(self.settings.as_dict()))
