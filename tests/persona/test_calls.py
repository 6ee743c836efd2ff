"""Persona sessions call models through the one model-calling service: a dry run before a
session, the live cost in its progress, and a call log whose export matches, row for row,
what the model server answered. Real SDK against the test VLM server, on a recorded feed."""

from __future__ import annotations

import csv
import json

import pytest

from tests.persona.test_agent_loop import TinyFeed, _session, pet_lover
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.cli import main
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.persona.agent import run_session
from vspectrum_app.persona.calls import export_calls
from vspectrum_app.persona.deciders import ModelDecider
from vspectrum_app.persona.personas import builtin_personas
from vspectrum_app.persona.prompts import PromptTemplates
from vspectrum_app.persona.runner import execute, new_replay
from vspectrum_app.persona.store import PersonaSessionError, SessionStore
from vspectrum_app.providers.clients import IMAGE_TOKENS
from vspectrum_app.providers.config import ProviderConfig, ProviderStore
from vspectrum_app.providers.prices import format_cost

PRICE_IN, PRICE_OUT = 2.5, 10.0  # USD per million tokens


@pytest.fixture
def priced(monkeypatch):
    """The test server as a priced provider; it answers each call differently and keeps what it said."""
    said: list[str] = []

    def answer(req):
        n = len(said)
        text = "{'decision': '%s', 'reason': 'call %d', 'trait_num': '1'}" % ("yes" if n % 3 else "no", n)
        said.append(text)
        return text

    server = FakeVLMServer(answer=answer).start()
    server.said = said
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    ProviderStore().save(
        ProviderConfig(
            name="lab",
            kind="openai-compatible",
            base_url=server.openai_base_url,
            models=["m1"],
            requests_per_minute=10_000,
            timeout_s=5.0,
            max_retries=3,
            price_input_per_mtok=PRICE_IN,
            price_output_per_mtok=PRICE_OUT,
        )
    )
    yield server
    server.stop()


def _recorded(workspace):
    session = _session(workspace, trials=2, scrolls=6, window=3)
    run_session(workspace, session, TinyFeed(), ModelDecider(pet_lover, "simple"))
    return session


def test_call_export_matches_what_the_server_answered(workspace, priced, tmp_path):
    replay = new_replay(workspace, _recorded(workspace), provider="lab", model="m1")
    reporter = RecordingReporter()
    priced.inject(("429", 0.01))  # a retried call is one call in the log: its answer, not its attempts
    assert execute(workspace, replay, reporter) == "done"
    assert len(priced.said) == 12

    n = export_calls(workspace, replay, tmp_path / "calls.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert n == len(rows) == 12
    assert [r["response_text"] for r in rows] == priced.said
    steps = SessionStore(workspace).steps(replay)
    assert [(r["trial"], r["position"], r["video_id"], r["decision"]) for r in rows] == [
        (s.trial, s.position, s.item_id, s.decision) for s in steps
    ]
    assert [r["decision"] for r in rows] == ["no" if i % 3 == 0 else "yes" for i in range(12)]
    first = rows[0]
    assert first["persona"] == "Pet owner" and (first["provider"], first["model"]) == ("lab", "m1")
    assert first["messages"][0]["text"] == SessionStore(workspace).config(replay).prompt
    assert first["messages"][0]["image_sha256"] == steps[0].image_sha256
    # the server counts 100 input tokens and one output token per word
    words = [len(t.split()) for t in priced.said]
    costs = [(100 * PRICE_IN + w * PRICE_OUT) / 1e6 for w in words]
    assert [r["cost_usd"] for r in rows] == pytest.approx(costs)
    assert all(r["latency_s"] >= 0 and r["created_at"] for r in rows)

    # live cost: each step's event says what the calls so far cost, in the app's one wording
    events = reporter.of_type("persona_step")
    assert [e["calls"] for e in events] == list(range(1, 13))
    assert events[-1]["cost"] == format_cost(sum(costs))
    assert events[0]["cost"] == format_cost(costs[0])

    export_calls(workspace, replay, tmp_path / "calls.csv")
    with open(tmp_path / "calls.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["response_text"] for r in table] == priced.said
    assert json.loads(table[0]["messages"]) == first["messages"]
    with pytest.raises(PersonaSessionError, match=r"\.csv or \.jsonl"):
        export_calls(workspace, replay, tmp_path / "calls.xlsx")


def test_a_dry_run_prices_the_sessions_and_sends_nothing(workspace, priced, capsys):
    before = SessionStore(workspace).list()
    args = ["-w", str(workspace.root), "persona", "run", "--persona", "Pet owner", "--model", "lab:m1"]
    assert main([*args, "--trials", "2", "--scrolls", "5", "--window", "2", "--dry-run"]) == 0
    err = capsys.readouterr().err
    prompt = PromptTemplates().render("simple", next(p for p in builtin_personas() if p.name == "Pet owner"))
    tin, tout = 10 * (len(prompt) // 4 + IMAGE_TOKENS), 10 * 40
    cost = format_cost((tin * PRICE_IN + tout * PRICE_OUT) / 1e6, estimate=True)
    assert f"1 session(s), 10 videos: 10 model calls; ~{tin:,} input and ~{tout:,} output tokens; {cost};" in err
    assert priced.log == [] and SessionStore(workspace).list() == before

    assert main([*args, "--strategy", "control", "--dry-run"]) == 1  # control takes no model: said, not priced
    control = ["--strategy", "control", "--trials", "1", "--scrolls", "3", "--window", "1", "--dry-run"]
    assert main(["-w", str(workspace.root), "persona", "run", "--persona", "Pet owner", *control]) == 0
    assert "3 videos: 0 model calls" in capsys.readouterr().err and priced.log == []


def test_the_persona_pane_drills_down_from_a_decision_to_its_call(qtbot, workspace, priced):
    """A real session's step event in the live view: the cost as the core says it, and the
    decision's model call (its raw answer) one click away."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPlainTextEdit

    from vspectrum_app.gui.context import AppContext
    from vspectrum_app.gui.panes.persona_live import LiveView

    replay = new_replay(workspace, _recorded(workspace), provider="lab", model="m1")
    reporter = RecordingReporter()
    assert execute(workspace, replay, reporter) == "done"
    ctx = AppContext()
    ctx.open_workspace(workspace.root)
    view = LiveView(ctx)
    qtbot.addWidget(view)
    view.show()
    from vspectrum_app.core import events

    for e in reporter.of_type("persona_step")[:5]:
        view.add_step(events.make(kind="persona_step", **{k: v for k, v in e.items() if k != "type"}))
    view.redraw()
    last = reporter.of_type("persona_step")[4]
    assert view.counters.text().endswith(f"; 5 model calls, {last['cost']}") and "$" in last["cost"]
    assert view.call_button.isEnabled()
    qtbot.mouseClick(view.call_button, Qt.MouseButton.LeftButton)
    text = view.call_dialog.findChild(QPlainTextEdit).toPlainText()
    assert priced.said[4] in text  # the raw answer the server sent for this step
    assert text.startswith("lab:m1, trial 1, video 5") and f"Decision: {last['decision']}" in text
