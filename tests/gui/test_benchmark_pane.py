"""The Benchmark pane through its real widgets, its jobs replaced by FakeJobs the test drives
(issue 12): stalls are named, the estimate speaks the progress's units and follows the form,
and messages say what happened in plain words, in red only for real problems."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui.fakes import shown_pane, use_fake_jobs
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.panes.benchmark import BenchmarkPane
from vspectrum_app.providers.config import ProviderConfig, ProviderStore

pytestmark = pytest.mark.gui


@pytest.fixture
def pane(qtbot, tmp_path):
    ProviderStore().save(
        ProviderConfig(
            name="fakelab",
            kind="openai-compatible",
            base_url="http://127.0.0.1:9/v1",
            models=["m1"],
            requests_per_minute=60,
        )
    )
    pane = shown_pane(qtbot, BenchmarkPane, use_fake_jobs(AppContext()), tmp_path / "ws")
    yield pane
    pane.ctx.workspace.close()


def _tick_model(pane) -> None:
    pane.models.item(0).setCheckState(Qt.CheckState.Checked)


def test_start_is_disabled_with_the_reason_until_a_model_is_ticked(pane):
    assert not pane.start_button.isEnabled()
    assert pane.form_hint.full_text() == "Tick at least one model." and pane.form_hint.kind() == "info"
    _tick_model(pane)
    assert pane.start_button.isEnabled() and pane.form_hint.full_text() == ""


def test_keyword_set_is_named_in_words_not_by_its_key(pane):
    text = pane.keyword_set.currentText()
    assert "@" not in text and text == "default (100 keywords)"
    assert pane.keyword_set.currentData().startswith("default@")  # the CLI still gets the exact set
    assert "Fingerprint" in pane.keyword_set.itemData(0, Qt.ItemDataRole.ToolTipRole)


def _core_estimate_event(k: int = 5) -> dict:
    """What `bench run --dry-run` emits for 4 items over 2 images at the pane's provider (a
    server on this machine: its price is 0), computed by the core's own estimate."""
    from types import SimpleNamespace

    from vspectrum_app.bench.plan import estimate
    from vspectrum_app.bench.prompts import PromptSet
    from vspectrum_app.providers.clients import Params

    items = [
        {"target": "fakelab:m1", "mode": "vlm", "image_sha256": sha, "image_id": i, "value": value,
         "keyword": "money", "repeat": 0}
        for i, (sha, value) in enumerate([("a", "Power"), ("b", "Power"), ("a", "Hedonism"), ("b", "Hedonism")])
    ]  # fmt: skip
    request = SimpleNamespace(
        describe_with=None, values=["Power", "Hedonism"], k=k, keyword_set=SimpleNamespace(keywords=lambda v: ["money"]),
        prompts=PromptSet(), params=Params(), fresh=False, wordings=[],
    )  # fmt: skip
    est = estimate(items, request, ProviderStore())
    event = {
        "type": "estimate", "headline": est.headline(), "cost": est.cost, "items": est.items, "calls": est.calls,
        "input_tokens": est.input_tokens, "output_tokens": est.output_tokens, "cost_usd": est.cost_usd,
        "seconds": est.seconds, "per_provider": est.per_provider, "k": k,
    }  # fmt: skip
    return event


def test_estimate_follows_the_form_and_shows_the_cores_words(pane, qtbot):
    _tick_model(pane)
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 1, timeout=10_000)  # refreshed without pressing Estimate
    title, params = pane.ctx.started[-1]
    assert title == "Estimate" and params.dry_run and params.k == 5
    event = _core_estimate_event()
    pane.ctx.job.send(event)
    text = pane.estimate_label.full_text()
    # the CLI's sentence, word for word: 2 images asked once each, a local server's price is 0
    assert text == event["headline"] + " (fakelab 60/min)."
    assert text.startswith("4 items: 6 calls to send (each image asked once); ")
    assert "; $0.00; " in text and "cost unknown" not in text
    # the form changes: the estimate is marked as updating, then asked again with the new form
    pane.k.setValue(7)
    assert pane.estimate_label.full_text() == "Updating the estimate..."
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 2, timeout=10_000)
    _, params = pane.ctx.started[-1]
    assert params.k == 7


def test_estimate_is_asked_again_when_a_run_starts_and_ends(pane, qtbot):
    _tick_model(pane)
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 1, timeout=10_000)
    pane.ctx.job.send(_core_estimate_event())
    pane.start()
    run = pane.ctx.job
    assert pane.ctx.started[-1][0] == "Benchmark run"
    assert pane.estimate_label.full_text() == "Updating the estimate..."  # not the stale numbers
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 3, timeout=10_000)
    assert pane.ctx.started[-1][0] == "Estimate"
    pane.ctx.job.send(_core_estimate_event())
    assert pane.estimate_label.full_text().startswith("4 items: ")
    run.finished.emit(130)  # paused
    assert pane.estimate_label.full_text() == "Updating the estimate..."
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 4, timeout=10_000)
    assert pane.ctx.started[-1][0] == "Estimate"


def test_a_rate_limit_wait_is_shown_with_its_cause(pane, qtbot):
    _tick_model(pane)
    pane.start()
    job = pane.ctx.job
    job.send(
        {
            "type": "run_status",
            "items_done": 8,
            "items_total": 40,
            "calls_sent": 20,
            "calls_cached": 4,
            "calls_left": 96,
            "eta_s": 96.0,
            "errors": 0,
            "refusal": 1,
            "unparsed": 2,
        }
    )
    status = pane.counters.full_text()
    assert status.startswith("8/40 items done; 24 calls made (20 sent, 4 from the workspace), ~96 to go")
    assert "about 1m36s left (rate limits included)" in status and "1 refusals, 2 unparsed" in status
    assert "reused instead of being sent again" in pane.counters.toolTip()  # "from the workspace" explained
    job.send(
        {
            "type": "run_status",
            "items_done": 9,
            "items_total": 40,
            "calls_sent": 23,
            "calls_cached": 4,
            "calls_left": 93,
            "eta_s": 93.0,
            "errors": 0,
            "refusal": 1,
            "unparsed": 2,
            "retries": 2,
        }
    )
    assert pane.counters.full_text().startswith("9/40 items done; 27 calls made (23 sent, 2 of them retries, 4 from")
    job.send(
        {
            "type": "waiting",
            "provider": "fakelab",
            "cause": "requests",
            "limit": "60/min",
            "seconds": 12.0,
            "message": "waiting for the rate limit of fakelab: 60/min, next call in 12 s",
        }
    )
    assert pane.wait_label.full_text() in (
        "Waiting for the rate limit of fakelab: 60/min, next call in 12 s",
        "Waiting for the rate limit of fakelab: 60/min, next call in 11 s",
    )
    assert pane.wait_label.kind() == "info"
    job.send(
        {
            "type": "waiting",
            "provider": "fakelab",
            "cause": "retry",
            "limit": None,
            "seconds": 30.0,
            "message": "waiting 30 s before retrying a call to fakelab: rate limited by the server",
        }
    )
    assert pane.wait_label.full_text().startswith("Waiting 30 s before retrying a call to fakelab")
    job.finished.emit(0)
    assert pane.wait_label.full_text() == ""


def test_finished_run_is_a_success_not_red(pane):
    _tick_model(pane)
    pane.start()
    pane.ctx.job.finished.emit(0)
    assert pane.counters.kind() == "success" and pane.counters.full_text().startswith("Run finished")
    assert "see the message" not in pane.counters.full_text()
    assert pane.start_button.isEnabled()


def test_paused_run_is_plain_and_a_failed_one_says_why(pane):
    _tick_model(pane)
    pane.start()
    pane.pause()
    assert pane.ctx.job.cancelled
    pane.ctx.job.finished.emit(130)
    assert pane.counters.kind() == "info" and pane.counters.full_text().startswith("Paused.")
    pane.start()
    pane.ctx.job.failed.emit("the key for fakelab was rejected (401): check it in Settings")
    pane.ctx.job.finished.emit(1)
    assert pane.counters.kind() == "error"
    assert "the key for fakelab was rejected" in pane.counters.full_text() and "Resume" in pane.counters.full_text()


def test_every_status_label_is_a_message_label(pane):
    labels = pane.findChildren(MessageLabel)
    for name in ("estimate_label", "counters", "wait_label", "error_label", "form_hint", "resume_banner"):
        assert getattr(pane, name) in labels
    width = pane.width()
    for label in labels:
        label.set_message("a very long message from a server " * 20, "error")
    pane.adjustSize()
    assert pane.width() <= width


def _runs_changed(pane, qtbot) -> None:
    """The unfinished runs are listed on the worker pool: announce a change and wait for the list."""
    with qtbot.waitSignal(pane.unfinished_loaded, timeout=10_000):
        pane.ctx.runs_changed.emit()


def _unfinished_run(ws) -> str:
    from vspectrum_app.bench.store import RunStore

    store = RunStore(ws)
    items = [
        {
            "target": "fakelab:m1",
            "mode": "vlm",
            "value": "Power",
            "keyword": "money",
            "rank": 1,
            "image_id": 1,
            "image_sha256": "a" * 64,
            "repeat": 0,
        }
    ]
    run_id = store.create_run({"targets_label": ["fakelab:m1"], "values": ["Power"]}, items)
    store.set_status(run_id, "stopped")
    return run_id


def test_delete_an_unwanted_run_after_asking(pane, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from vspectrum_app.bench.store import RunStore

    run_id = _unfinished_run(pane.ctx.workspace)
    _runs_changed(pane, qtbot)
    assert pane.resume_combo.currentData() == run_id and pane.delete_button.isEnabled()
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a: asked.append(a[2]) or QMessageBox.StandardButton.No)
    )
    qtbot.mouseClick(pane.delete_button, Qt.MouseButton.LeftButton)
    assert asked and [r["id"] for r in RunStore(pane.ctx.workspace).runs()] == [run_id]  # "No" keeps it
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a: QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(pane.unfinished_loaded, timeout=10_000):
        qtbot.mouseClick(pane.delete_button, Qt.MouseButton.LeftButton)
    assert RunStore(pane.ctx.workspace).runs() == []
    assert pane.resume_combo.count() == 0 and not pane.delete_button.isEnabled()
    assert pane.counters.kind() == "success" and not pane.resume_frame.isVisible()


def test_estimate_says_which_keywords_found_too_few_images(pane, qtbot):
    _tick_model(pane)
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 1, timeout=10_000)
    pane.ctx.job.send(
        {
            "type": "estimate",
            "items": 7,
            "calls": 21,
            "input_tokens": 1,
            "output_tokens": 1,
            "cost_usd": 0.01,
            "seconds": 20.0,
            "k": 5,
            "retrieval": {"Power": {"money": 5, "status": 2, "wealth": 0}},
            "shortfall": {"Power": {"status": 2, "wealth": 0}},
        }
    )
    text = pane.retrieval_label.full_text()
    assert text.startswith("Too few images for some keywords (wanted 5 each): Power (status 2, wealth 0).")
    assert "Power 7/15: money 5, status 2, wealth 0" in text and pane.retrieval_label.kind() == "error"
    pane.k.setValue(2)
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 2, timeout=10_000)
    assert pane.retrieval_label.full_text() == ""
    pane.ctx.job.send(
        {
            "type": "estimate",
            "items": 4,
            "calls": 12,
            "input_tokens": 1,
            "output_tokens": 1,
            "cost_usd": 0.01,
            "seconds": 20.0,
            "k": 2,
            "retrieval": {"Power": {"money": 2, "status": 2}},
            "shortfall": {},
        }
    )
    assert pane.retrieval_label.full_text().startswith("Every keyword found 2 images.")
    assert pane.retrieval_label.kind() == "info"


def test_resume_is_offered_only_for_runs_nobody_holds(pane, qtbot, tmp_path):
    """A run held by another process (here: a child holding its lock) is not offered."""
    import subprocess
    import sys

    run_id = _unfinished_run(pane.ctx.workspace)
    _runs_changed(pane, qtbot)
    assert pane.resume_combo.currentData() == run_id
    ready = tmp_path / "held"
    code = (
        "import sys, time, pathlib; from vspectrum_app.core import locks; from vspectrum_app.bench.runner import "
        "RUN_LOCK\nwith locks.hold(pathlib.Path(sys.argv[1]), RUN_LOCK, sys.argv[2]):\n"
        "    pathlib.Path(sys.argv[3]).write_text('x'); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(pane.ctx.workspace.root), run_id, str(ready)], stdin=subprocess.PIPE
    )
    try:
        qtbot.waitUntil(ready.exists, timeout=30_000)
        _runs_changed(pane, qtbot)
        assert pane.resume_combo.count() == 0 and not pane.resume_button.isEnabled()
        assert f"process {child.pid}" in pane.resume_banner.full_text() and pane.resume_frame.isVisible()
    finally:
        child.communicate(b"", timeout=30)
    _runs_changed(pane, qtbot)  # the other process is done: the run is offered again
    assert pane.resume_combo.currentData() == run_id and pane.resume_button.isEnabled()


def test_batch_checkbox_reaches_the_estimate_and_the_run_and_batch_states_are_shown(pane, qtbot):
    """Issue 30 item 4: the window's "Batch" is the CLI's --batch; a batch's state is said."""
    _tick_model(pane)
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 1, timeout=10_000)
    assert not pane.ctx.started[-1][1].batch
    pane.batch.setChecked(True)
    qtbot.waitUntil(lambda: len(pane.ctx.started) == 2, timeout=10_000)  # the estimate follows the box
    title, params = pane.ctx.started[-1]
    assert title == "Estimate" and params.batch and params.dry_run
    pane.start()
    title, params = pane.ctx.started[-1]
    assert title == "Benchmark run" and params.batch and not params.dry_run
    message = "batch batch_7 of lab (round 2): in_progress, 3/11 answered"
    pane.ctx.job.send(
        {"type": "batch", "provider": "lab", "batch_id": "batch_7", "round": 2, "state": "in_progress",
         "total": 11, "succeeded": 3, "failed": 0, "message": message}
    )  # fmt: skip
    assert pane.wait_label.full_text() == "Batch batch_7 of lab (round 2): in_progress, 3/11 answered"
