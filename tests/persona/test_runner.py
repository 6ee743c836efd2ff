"""Sessions through the runner with the real SDK against the test VLM server, on a recorded
feed (no browser): provider errors, refusals, cancel and resume, control matching."""

from __future__ import annotations

import pytest

from tests.persona.test_agent_loop import TinyFeed, _session, pet_lover
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.core.jobs import Cancelled
from vspectrum_app.persona.agent import run_session
from vspectrum_app.persona.asker import ModelAsker
from vspectrum_app.persona.deciders import ModelDecider
from vspectrum_app.persona.report import alignment_tables, session_report
from vspectrum_app.persona.runner import execute, new_replay, watch_rate
from vspectrum_app.persona.store import PersonaSessionError, SessionStore
from vspectrum_app.providers.config import ProviderConfig, ProviderStore
from vspectrum_app.providers.errors import AuthFailed


@pytest.fixture
def vlm(monkeypatch):
    server = FakeVLMServer(answer=lambda req: "{'decision': 'yes', 'reason': 'r', 'trait_num': '1'}").start()
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    ProviderStore().save(
        ProviderConfig(
            name="lab",
            kind="openai-compatible",
            base_url=server.openai_base_url,
            models=["m1"],
            requests_per_minute=10_000,
            timeout_s=2.0,
            max_retries=3,
        )
    )
    yield server
    server.stop()


@pytest.fixture
def recorded(workspace):
    """A finished session (2 trials x 10 videos) whose feed can be replayed."""
    session = _session(workspace, trials=2, scrolls=10, window=4)
    run_session(workspace, session, TinyFeed(), ModelDecider(pet_lover, "simple"))
    return session


def test_asker_retries_429_and_records_api_refusals(vlm):
    asker = ModelAsker(ProviderStore().get("lab"), "m1")
    try:
        vlm.inject(("429", 0.05), ("500",))
        assert "yes" in asker(b"\xff\xd8jpeg", "prompt")
        assert len(vlm.log) == 3 and vlm.log[-1].image == b"\xff\xd8jpeg"
        vlm.inject(("refusal",))
        decision = ModelDecider(asker, "simple").decide(b"\xff\xd8jpeg", "prompt")
        assert decision.decision == "refusal" and decision.parsed == {"refused_by_api": True}
    finally:
        asker.close()


def test_a_dead_key_stops_the_session_resumably_and_never_shows_the_key(workspace, recorded, vlm, monkeypatch):
    replay = new_replay(workspace, recorded, provider="lab", model="m1")
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", "sk-dead-0123456789")
    with pytest.raises(PersonaSessionError) as err:
        execute(workspace, replay)
    assert isinstance(err.value.__cause__, AuthFailed)
    assert "key rejected" in str(err.value) and "sk-dead" not in str(err.value)
    assert f"persona resume {replay}" in str(err.value)
    store = SessionStore(workspace)
    assert store.list()[-1]["status"] == "failed" and "sk-dead" not in (store.list()[-1]["error"] or "")

    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    assert execute(workspace, replay) == "done"
    assert [s.item_id for s in store.steps(replay)] == [s.item_id for s in store.steps(recorded)]
    assert {s.decision for s in store.steps(replay)} == {"yes"}


def test_cancel_keeps_what_was_done_and_resume_finishes(workspace, recorded, vlm):
    replay = new_replay(workspace, recorded, provider="lab", model="m1")
    reporter = RecordingReporter()
    vlm.answer = lambda req: (reporter.cancel() if len(vlm.log) == 7 else None) or "{'decision': 'no'}"
    with pytest.raises(Cancelled):
        execute(workspace, replay, reporter)
    store = SessionStore(workspace)
    assert store.list()[-1]["status"] == "cancelled" and len(store.steps(replay)) == 7
    asked = len(vlm.log)
    assert execute(workspace, replay) == "done"
    assert len(store.steps(replay)) == 20 and len(vlm.log) - asked == 13


def test_replay_needs_finished_trials_and_a_model(workspace, vlm):
    unfinished = _session(workspace, trials=1, scrolls=10, window=4)
    with pytest.raises(PersonaSessionError, match="no finished trial"):
        new_replay(workspace, unfinished, provider="lab", model="m1")
    with pytest.raises(PersonaSessionError, match="no steps yet"):
        watch_rate(workspace, unfinished)


def test_tables_put_the_control_beside_the_models(workspace, recorded, vlm):
    replay = new_replay(workspace, recorded, provider="lab", model="m1")
    execute(workspace, replay)
    reports = [session_report(workspace, s) for s in (recorded, replay)]
    tables = alignment_tables(reports)
    assert [t["title"] for t in tables] == ["sim / Simple", f"sim / Simple (replays of {recorded})"]
    assert [r["session_id"] for r in tables[1]["rows"]] == [replay, recorded]
    assert tables[1]["rows"][0]["first_rate"] == 100.0  # the yes-sayer said yes to everything


def test_a_window_longer_than_half_a_trial_is_refused_before_any_call(workspace, vlm, capsys):
    """--window 8 --scrolls 10: the first and last windows would share 6 videos (a flat process
    then read as a large change). One sentence, no session, nothing sent."""
    from vspectrum_app.cli import main
    from vspectrum_app.persona.personas import Persona
    from vspectrum_app.persona.runner import new_session

    with pytest.raises(PersonaSessionError, match="at most half the videos per trial"):
        new_session(
            workspace,
            Persona(name="p", statements=("I like dogs.",)),
            "simple",
            provider="lab",
            model="m1",
            trials=1,
            scrolls=10,
            window=8,
        )
    ws = str(workspace.root)
    code = main(
        [
            "-w",
            ws,
            "persona",
            "run",
            "--persona",
            "Pet owner",
            "--model",
            "lab:m1",
            "--strategy",
            "simple",
            "--trials",
            "1",
            "--scrolls",
            "10",
            "--window",
            "8",
        ]
    )
    err = capsys.readouterr().err
    assert code != 0 and "at most half the videos per trial (10)" in err and "Traceback" not in err
    assert vlm.log == [] and SessionStore(workspace).list() == []
