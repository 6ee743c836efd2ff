"""A reporter that keeps every event, for tests and perf/ runs that look at what a job said."""

from __future__ import annotations

from typing import Any

from vspectrum_app.core.jobs import Reporter


class RecordingReporter(Reporter):
    """Keeps every event in a list."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def emit(self, kind: str, **data: Any) -> None:
        self.events.append({"type": kind, **data})

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]
