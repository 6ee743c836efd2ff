"""The window's job runner and the tests' fake job read the child's lines with one decoder."""

from __future__ import annotations

import json

import pytest

from tests.gui.fakes import FakeJob
from vspectrum_app.core import events
from vspectrum_app.gui.jobs import Job

pytestmark = pytest.mark.gui

LINES = [
    "plain output from the command",
    json.dumps({"v": 1, "type": "progress", "done": 2, "total": None, "message": "x"}),
    json.dumps({"v": 1, "type": "log", "level": "warning", "message": "slow"}),
    '{"type": "answer", "target": ',  # garbled: dropped
    json.dumps({"v": 1, "type": "error", "message": "the key was rejected"}),
    json.dumps({"v": 1, "type": "newer_kind", "n": 1}),
    json.dumps({"v": 1, "type": "result", "data": {"ok": True}}),
]


def _record(job):
    seen = []
    job.progress.connect(lambda *a: seen.append(("progress", a)))
    job.log.connect(lambda *a: seen.append(("log", a)))
    job.failed.connect(lambda *a: seen.append(("failed", a)))
    job.event.connect(lambda e: seen.append(("event", type(e).__name__)))
    return seen


def test_job_and_fake_job_handle_the_same_lines_alike(qtbot):
    real = Job("t", None, None)
    fake = FakeJob()
    real_seen, fake_seen = _record(real), _record(fake)
    for line in LINES:
        real._handle_line(line)
        decoded = events.decode(line)
        if not isinstance(decoded, (events.Output, events.Garbled)):
            fake.send(decoded)
    assert real.output == ["plain output from the command"]
    assert real.error == fake.error == "the key was rejected"
    assert real.result == fake.result == {"ok": True}
    assert real_seen == fake_seen
    assert ("failed", ("the key was rejected",)) in fake_seen  # the fake used to miss error -> failed
    assert ("progress", (2, 0, "x")) in real_seen and ("event", "Unknown") in real_seen


def test_fake_job_refuses_an_event_the_child_could_not_send(qtbot):
    with pytest.raises(TypeError):
        FakeJob().send({"type": "run_created", "run": "r1"})
