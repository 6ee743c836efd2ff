"""The window's job runner and the tests' fake job read the child's lines with one decoder
(core.operations.decode_line): typed events, the operation's typed result, and a clear word
for a line they cannot use."""

from __future__ import annotations

import json
import sys

import pytest

from tests.gui.fakes import FakeJob
from vspectrum_app.core import events
from vspectrum_app.gui.jobs import Job, result_of
from vspectrum_app.providers.ops import Check, Checked

pytestmark = pytest.mark.gui

LINES = [
    "plain output from the command",
    json.dumps({"v": 1, "type": "progress", "done": 2, "total": None, "message": "x"}),
    json.dumps({"v": 1, "type": "log", "level": "warning", "message": "slow"}),
    '{"type": "answer", "target": ',  # garbled: said as a warning, then dropped
    json.dumps({"v": 1, "type": "newer_kind", "n": 1}),  # unknown: the same
    json.dumps({"v": 1, "type": "error", "message": "the key was rejected"}),
    json.dumps({"v": 1, "type": "result", "data": {"ok": False, "message": "the key was rejected"}}),
]


def _record(job):
    seen = []
    job.progress.connect(lambda *a: seen.append(("progress", a)))
    job.log.connect(lambda *a: seen.append(("log", a)))
    job.failed.connect(lambda *a: seen.append(("failed", a)))
    job.received.connect(lambda e: seen.append(("event", type(e).__name__)))
    return seen


def test_job_and_fake_job_handle_the_same_lines_alike(qtbot):
    params = Check(name="lab")
    real, fake = Job("t", params, None), FakeJob(params)
    real_seen, fake_seen = _record(real), _record(fake)
    for line in LINES:
        real._handle_line(line)
        decoded = events.decode(line)
        if not isinstance(decoded, (events.Output, events.Garbled, events.Unknown)):
            fake.send(decoded)
    assert real.output == ["plain output from the command"]
    assert real.error == fake.error == "the key was rejected"
    assert real.result == fake.result == Checked(False, "the key was rejected")  # typed, not a dict
    assert result_of(real, Checked) is real.result and result_of(real, events.Answer) is None
    garbled = [e for e in real_seen if e[0] == "log" and "could not be read" in e[1][1]]
    assert [level for (_, (level, _)) in garbled] == ["warning", "warning"]
    assert "unknown type 'newer_kind'" in garbled[1][1][1]
    assert [e for e in real_seen if e not in garbled] == fake_seen
    assert ("failed", ("the key was rejected",)) in fake_seen
    assert ("progress", (2, 0, "x")) in real_seen and ("event", "Result") in real_seen


def test_a_result_that_does_not_fit_fails_the_job_in_one_sentence(qtbot):
    job = Job("t", Check(name="lab"), None)
    failed = []
    job.failed.connect(failed.append)
    job._handle_line(json.dumps({"v": 1, "type": "result", "data": {"ok": "yes", "message": "hm"}}))
    assert job.result is None
    assert failed == ["the result of `providers test` could not be read (Checked.ok: expected bool, got str 'yes')"]


def test_fake_job_refuses_an_event_the_child_could_not_send(qtbot):
    with pytest.raises(TypeError):
        FakeJob().send({"type": "run_created", "run": "r1"})


def test_a_child_that_dies_without_a_word_fails_with_a_sentence_not_its_stderr(qtbot, caplog):
    """No stderr is parsed: a crash says how the job ended; the child's error output goes to the log."""
    job = Job("t", Check(name="lab"), None)
    job.process.setProgram(sys.executable)
    job.process.setArguments(["-c", "import sys; sys.stderr.write('error: scraped\\n'); sys.exit(3)"])
    failed = []
    job.failed.connect(failed.append)
    with caplog.at_level("ERROR", logger="vspectrum.gui.jobs"), qtbot.waitSignal(job.finished, timeout=30_000):
        job.start()
    assert failed == [
        "the job ended with exit code 3 before saying why (its last output is in the log: Help > Open log folder)"
    ]
    assert "error: scraped" in caplog.text  # kept for whoever reads the log, never shown as the message
