"""Issue 30 item 4: ``bench run --batch`` through OpenAI's Files + Batches API and Anthropic's
Message Batches, with the real SDKs against a local server that speaks both."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.test_engine import VALUES, _expected, _provider, _run, reddish
from tests.plugins.batch_server import FakeBatchServer
from tests.plugins.vlm_server import VALID_KEY
from vspectrum_app.bench import ops
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.library.ops import ClipOptions

ROOT = Path(__file__).resolve().parents[2]
PRICE = {"price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0}


@pytest.fixture
def server():
    s = FakeBatchServer(answer=reddish).start()
    yield s
    s.stop()


def _batch_provider(server, kind):
    # an OpenAI or Anthropic provider pointed at 127.0.0.1 (with a price: a local server is free otherwise)
    config = _provider(server, kind=kind, **PRICE)
    return config


def _answers(ws, run_id):
    return {
        (i["target"], i["mode"], i["value"], i["keyword"], i["image_sha256"], i["repeat"]): (
            i["answer_class"],
            i["answer1"],
            i["answer2"],
            i["answer3"],
        )
        for i in RunStore(ws).items(run_id, status=None)
    }


def _cost(ws, run_id):
    return ws.db.execute("SELECT SUM(cost_usd), COUNT(*) FROM bench_calls WHERE run_id = ?", (run_id,)).fetchone()


def _estimate(ws, tiny_clip, batch):
    reporter = RecordingReporter()
    params = ops.Run(
        targets=("lab:m1",),
        values=tuple(VALUES),
        k=1,
        dry_run=True,
        batch=batch,
        clip=ClipOptions(clip_config=Path(tiny_clip.config), clip_checkpoint=Path(tiny_clip.checkpoint)),
    )
    assert ops.run(params, ws, reporter) is None
    return reporter.of_type("estimate")[0]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_batch_run_answers_equal_a_live_run_at_half_the_cost(indexed_workspace, tiny_clip, server, monkeypatch, kind):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _batch_provider(server, kind)
    server.shuffle = True  # results come back in another order than submitted
    live_estimate = _estimate(indexed_workspace, tiny_clip, batch=False)
    batch_estimate = _estimate(indexed_workspace, tiny_clip, batch=True)
    assert batch_estimate["cost_usd"] == pytest.approx(live_estimate["cost_usd"] / 2) and live_estimate["cost_usd"] > 0
    assert batch_estimate["calls"] == live_estimate["calls"] == 33
    assert "in batches at batch prices (50% of live at lab)" in batch_estimate["headline"]

    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--fresh") == 0
    live_run = RunStore(indexed_workspace).runs()[-1]["id"]
    live_requests = len(server.log)
    assert live_requests == 33 and server.submitted == []

    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--fresh", "--batch") == 0
    batch_run = RunStore(indexed_workspace).runs()[-1]["id"]
    assert len(server.log) == live_requests  # nothing went live
    # three rounds: all first turns, then the "why" turns, then "describe"; each request once
    assert len(server.batches) == 3 and [len(b.requests) for b in server.batches.values()] == [11, 11, 11]
    turns = [
        {len([m for m in body["messages"] if m["role"] == "user"]) for _, body in b.requests}
        for b in server.batches.values()
    ]
    assert turns == [{1}, {2}, {3}]
    cids = [cid for _, cid in server.submitted]
    assert len(cids) == len(set(cids)) == 33
    # shuffled output, and still every answer on its own item
    first = next(iter(server.batches.values()))
    assert [r["custom_id"] for r in first.results] != [cid for cid, _ in first.requests]
    assert _answers(indexed_workspace, batch_run) == _answers(indexed_workspace, live_run)
    from vspectrum_app.bench.report import run_report

    scores = {s["value"]: s["score"] for s in run_report(indexed_workspace, batch_run)["scores"]}
    assert scores == pytest.approx(_expected(indexed_workspace, batch_run, "lab:m1"))
    live_cost, live_calls = _cost(indexed_workspace, live_run)
    batch_cost, batch_calls = _cost(indexed_workspace, batch_run)
    assert batch_calls == live_calls == 33 and batch_cost == pytest.approx(live_cost / 2) and live_cost > 0
    # the batch ids are in the workspace, each resolved
    rows = indexed_workspace.db.execute(
        "SELECT batch_id, round, state, resolved_at FROM bench_batches WHERE run_id = ? ORDER BY round", (batch_run,)
    ).fetchall()
    assert [r["batch_id"] for r in rows] == list(server.batches) and [r["round"] for r in rows] == [1, 2, 3]
    assert all(r["resolved_at"] for r in rows) and {r["state"] for r in rows} == {
        "completed" if kind == "openai" else "ended"
    }


def test_progress_shows_each_batch_state(indexed_workspace, tiny_clip, server, monkeypatch):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _batch_provider(server, "openai")
    reporter = RecordingReporter()
    params = ops.Run(
        targets=("lab:m1",),
        values=("Power",),
        k=1,
        batch=True,
        clip=ClipOptions(clip_config=Path(tiny_clip.config), clip_checkpoint=Path(tiny_clip.checkpoint)),
    )
    outcome = ops.run(params, indexed_workspace, reporter)
    assert outcome is not None and outcome.status == "done"
    first = next(iter(server.batches))
    states = [e["state"] for e in reporter.of_type("batch") if e["batch_id"] == first]
    assert states[0] == "submitted" and states[-1] == "completed"
    assert {"in_progress", "finalizing"} <= set(states)
    assert all(e["round"] == 1 for e in reporter.of_type("batch") if e["batch_id"] == first)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_expired_batch_with_partial_results_finishes_the_rest_live(
    indexed_workspace, tiny_clip, server, monkeypatch, kind, capsys
):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _batch_provider(server, kind)
    server.expire_after = 4  # every batch answers its first 4 requests, then expires
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--batch", values=["Power"]) == 0
    run_id = RunStore(indexed_workspace).runs()[-1]["id"]
    items = RunStore(indexed_workspace).items(run_id, status=None)
    assert items and all(i["status"] == "done" for i in items)
    assert all(i["answer2"] == "Because of the colours." and i["answer3"] == "A coloured picture." for i in items)
    scores = {
        s["value"]: s["score"]
        for s in __import__("vspectrum_app.bench.report", fromlist=["x"]).run_report(indexed_workspace, run_id)[
            "scores"
        ]
    }
    assert scores == pytest.approx(_expected(indexed_workspace, run_id, "lab:m1"))
    unanswered = sum(max(len(b.requests) - 4, 0) for b in server.batches.values())
    assert unanswered > 0 and len(server.log) == unanswered  # exactly those went live
    err = capsys.readouterr().err
    assert "requests unanswered: they are asked live" in err
    assert f"{len(server.batches)} batches sent this time; {unanswered} requests their batches did not answer" in err


def test_kill_9_during_a_batch_then_resume_sends_nothing_twice(indexed_workspace, tiny_clip, server, monkeypatch):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _batch_provider(server, "openai")
    server.hold = True  # the first batch stays in progress until the test lets it go
    root = indexed_workspace.root
    indexed_workspace.close()
    cmd = [sys.executable, "-m", "vspectrum_app", "--events", "-w", str(root), "bench", "run", "--model", "lab:m1"]
    cmd += ["--values", *VALUES, "--k", "1", "--batch"]
    cmd += ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
    child = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ), cwd=ROOT
    )
    try:
        polled = 0
        for line in child.stdout:
            event = json.loads(line)
            if event["type"] == "batch" and event["state"] == "in_progress":
                polled += 1
                if polled == 2:  # submitted, stored and polled twice: kill it mid-batch
                    break
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    from vspectrum_app.library.catalog import open_workspace

    with open_workspace(root) as ws:
        run_id = RunStore(ws).runs()[-1]["id"]
        stored = [dict(r) for r in ws.db.execute("SELECT batch_id, resolved_at FROM bench_batches")]
    assert [b["batch_id"] for b in stored] == list(server.batches) and stored[0]["resolved_at"] is None
    assert len(server.submitted) == 11
    server.hold = False
    assert main(["-w", str(root), "bench", "resume", run_id]) == 0
    cids = [cid for _, cid in server.submitted]
    assert len(cids) == len(set(cids)) == 33  # no request submitted twice
    assert server.log == []  # and none went live
    with open_workspace(root) as ws:
        items = RunStore(ws).items(run_id, status=None)
        assert len(items) == 20 and all(i["status"] == "done" and i["answer3"] for i in items)
        from vspectrum_app.bench.report import run_report

        scores = {s["value"]: s["score"] for s in run_report(ws, run_id)["scores"]}
        assert scores == pytest.approx(_expected(ws, run_id, "lab:m1"))
        assert ws.db.execute("SELECT COUNT(*) FROM bench_calls WHERE run_id = ?", (run_id,)).fetchone()[0] == 33


def test_batch_price_is_the_discount_of_batch_kinds_only():
    from vspectrum_app.providers.prices import BATCH_PRICE_FACTOR, Price, batch_price

    live = Price(2.5, 10.0, "provider settings")
    assert batch_price(live, "openai") == Price(1.25, 5.0, "provider settings, batch price")
    assert batch_price(live, "anthropic").output_per_mtok == 5.0 and BATCH_PRICE_FACTOR["anthropic"] == 0.5
    assert batch_price(live, "openai-compatible") is live  # no batch API: the live price
    assert batch_price(None, "openai") is None  # unknown stays unknown, never $0


def test_modality_comparison_in_batches_equals_live(indexed_workspace, tiny_clip, server, monkeypatch):
    """The text arm's chain (description, then the text-only question, then "why") as rounds."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _batch_provider(server, "anthropic")
    extra = ("--model", "lab:m1", "--describe-with", "lab:m1", "--fresh")
    assert _run(indexed_workspace, tiny_clip, *extra, values=["Power"]) == 0
    live_run = RunStore(indexed_workspace).runs()[-1]["id"]
    live_requests = len(server.log)
    assert _run(indexed_workspace, tiny_clip, *extra, "--batch", values=["Power"]) == 0
    batch_run = RunStore(indexed_workspace).runs()[-1]["id"]
    assert len(server.log) == live_requests and len(server.submitted) == live_requests
    assert _answers(indexed_workspace, batch_run) == _answers(indexed_workspace, live_run)
    modes = {i["mode"] for i in RunStore(indexed_workspace).items(batch_run)}
    assert modes == {"vlm", "text"}
