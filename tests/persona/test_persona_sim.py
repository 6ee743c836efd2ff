"""Persona sessions end to end: the real Chromium on the simulated platform, the real SDKs
against the test HTTP server playing the VLM, the workspace as the record.

The scripted models look at the screenshot itself (its mean colour gives the topic: the
test catalogue's Hedonism pictures are red), so what they see is what the browser captured.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.cli import main
from vspectrum_app.persona.agent import screenshot_path
from vspectrum_app.persona.personas import Persona, PersonaLibrary
from vspectrum_app.persona.report import session_report
from vspectrum_app.persona.store import SessionStore
from vspectrum_app.providers.config import ProviderConfig, ProviderStore

pytestmark = pytest.mark.usefixtures("chromium")  # marked browser by tests/conftest.py

HEDONIST = Persona(
    name="Hedonist",
    statements=("I love parties", "I live for fun", "red is my colour", "I never miss a festival"),
    values=("Hedonism",),
)
SPEED = "500"  # a 30 s watch takes 0.06 s


def _is_red(req) -> bool:
    r, g, b = req.image_rgb_mean()
    return r > g + 40 and r > b + 40


def hedonist_simple(req) -> str:
    yes = _is_red(req)
    return "Sure! {'decision': '%s', 'reason': 'it looks %s', 'trait_num': '%s'}" % (
        "yes" if yes else "no",
        "fun" if yes else "dull",
        "2" if yes else "NA",
    )


def indifferent_isq():
    """Watches a seeded ~35% of videos whatever they show (in ISQ form, S% 80 or 30)."""
    rng = random.Random(11)

    def answer(req) -> str:
        n, word, yn = ("8", "eight", "yes") if rng.random() < 0.35 else ("3", "three", "no")
        return (
            "```\n{'visual_appeal': '%s', 'preference_alignment': '%s', 'curiosity_stimulation': '%s', "
            "'emotional_engagement': '%s', 'action_desire': '%s', 'value_expectation': '%s', "
            "'trait_num': 'NA'}\n```" % (n, yn, n, word, yn, n)
        )

    return answer


@pytest.fixture
def vlm(monkeypatch):
    server = FakeVLMServer().start()
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    yield server
    server.stop()


def _provider(server, kind="openai-compatible"):
    base = server.url if kind == "anthropic" else server.openai_base_url
    ProviderStore().save(
        ProviderConfig(
            name="lab",
            kind=kind,
            base_url=base,
            models=["m1"],
            requests_per_minute=10_000,
            timeout_s=5.0,
            max_retries=3,
        )
    )


def _run_args(ws, folder, *extra, trials=2, scrolls=30, window=10):
    return [
        "-w",
        str(ws.root),
        "persona",
        "run",
        "--persona",
        "Hedonist",
        "--headless",
        "--images",
        str(folder),
        "--speed",
        SPEED,
        "--trials",
        str(trials),
        "--scrolls",
        str(scrolls),
        "--window",
        str(window),
        "--watch",
        "30",
        "--seed",
        "3",
        *extra,
    ]


def test_a_persona_pulls_the_simulated_feed_towards_its_topic(workspace, large_topic_folder, vlm, capsys):
    PersonaLibrary(workspace).save(HEDONIST)
    vlm.answer = hedonist_simple
    _provider(vlm)
    assert main(_run_args(workspace, large_topic_folder, "--model", "lab:m1")) == 0
    session = SessionStore(workspace).list()[-1]
    assert session["status"] == "done" and session["steps"] == 60
    report = session_report(workspace, session["id"])

    steps = SessionStore(workspace).steps(session["id"])
    # the model saw the browser's screenshots: its decision matches each screenshot's topic
    assert len(vlm.log) == 60
    for step, req in zip(steps, vlm.log):
        assert step.decision == ("yes" if step.item_topics == ["Hedonism"] else "no"), step
        assert req.image == screenshot_path(workspace, session["id"], step.trial, step.position).read_bytes()
        assert req.question == step.prompt and "1. I love parties" in req.question
    assert {s.dwell_s for s in steps if s.decision == "yes"} == {30.0}
    # the feed shifted: more Hedonism served (ground truth) and more yes in the last window
    served = report["served_related"]
    assert served["last_rate"] >= served["first_rate"] + 25, served
    assert report["i_avg"] > 0 and report["last_rate"] > report["first_rate"] and report["change_p"] < 0.05
    assert max(report["learnt_profile"], key=report["learnt_profile"].get) == "Hedonism"
    assert report["intended_rank"] == {"Hedonism": 1}
    assert "I_avg" in capsys.readouterr().out


def test_an_indifferent_model_leaves_the_feed_within_noise(workspace, large_topic_folder, vlm):
    PersonaLibrary(workspace).save(HEDONIST)
    vlm.answer = indifferent_isq()
    _provider(vlm, kind="anthropic")
    assert (
        main(
            _run_args(
                workspace, large_topic_folder, "--model", "lab:m1", "--strategy", "isq", trials=3, scrolls=24, window=8
            )
        )
        == 0
    )
    session = SessionStore(workspace).list()[-1]["id"]
    report = session_report(workspace, session)
    steps = SessionStore(workspace).steps(session)
    assert report["decisions"]["unparsed"] == 0
    assert {round(s.score, 2) for s in steps} <= {round(100 * 52 / 60, 2), round(100 * 12 / 60, 2)}
    # the yes-rate's change is what shuffling the decisions gives (a 95% statement; the
    # scripted model's draws are seeded, so the outcome is fixed)
    assert report["change_p"] > 0.05, report["per_trial"]
    served = report["served_related"]
    assert abs(served["last_rate"] - served["first_rate"]) < 25, served


def test_resume_after_kill_9_neither_loses_nor_repeats(workspace, large_topic_folder, vlm):
    PersonaLibrary(workspace).save(HEDONIST)
    vlm.answer = hedonist_simple
    _provider(vlm)
    env = {**os.environ, "VSPECTRUM_API_KEY_LAB": VALID_KEY}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vspectrum_app",
            "--events",
            *_run_args(workspace, large_topic_folder, "--model", "lab:m1", trials=2, scrolls=12, window=4),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    steps_seen = 0
    deadline = time.monotonic() + 120
    for line in proc.stdout:  # kill it in the middle of the second trial
        event = json.loads(line)
        steps_seen += event.get("type") == "persona_step"
        if steps_seen == 17 or time.monotonic() > deadline:
            break
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its Chromium
    proc.wait()
    store = SessionStore(workspace)
    session = store.list()[-1]["id"]
    before = store.steps(session)
    assert 17 <= len(before) < 24
    asked_before = len(vlm.log)

    assert main(["-w", str(workspace.root), "persona", "resume", session, "--headless"]) == 0
    after = store.steps(session)
    assert [(s.trial, s.position) for s in after] == [(t, p) for t in range(2) for p in range(12)]
    assert [(s.item_id, s.decision) for s in after[: len(before)]] == [(s.item_id, s.decision) for s in before]
    assert len(vlm.log) - asked_before == 24 - len(before)  # only the missing videos were asked
    assert store.list()[-1]["status"] == "done"


def test_counterfactual_replay_and_control(workspace, large_topic_folder, vlm, capsys):
    """Model A's feed replayed to an indifferent model B; a control matching A's watch rate."""
    PersonaLibrary(workspace).save(HEDONIST)
    vlm.answer = hedonist_simple
    _provider(vlm)
    assert main(_run_args(workspace, large_topic_folder, "--model", "lab:m1", trials=1, scrolls=16, window=5)) == 0
    source = SessionStore(workspace).list()[-1]["id"]
    a = session_report(workspace, source)

    vlm.answer = lambda req: "{'decision': 'no', 'reason': 'not for me', 'trait_num': 'NA'}"
    asked = len(vlm.log)
    assert main(["-w", str(workspace.root), "persona", "replay", source, "--model", "lab:m2"]) == 0
    replay = SessionStore(workspace).list()[-1]
    assert replay["replay_of"] == source and replay["model"] == "m2"
    b_steps = SessionStore(workspace).steps(replay["id"])
    a_steps = SessionStore(workspace).steps(source)
    assert [s.item_id for s in b_steps] == [s.item_id for s in a_steps]  # the same feed
    assert {s.decision for s in b_steps} == {"no"} and len(vlm.log) - asked == 16
    assert all(r.model == "m2" for r in vlm.log[asked:])

    assert (
        main(
            _run_args(
                workspace,
                large_topic_folder,
                "--strategy",
                "control",
                "--match",
                source,
                trials=1,
                scrolls=16,
                window=5,
            )
        )
        == 0
    )
    control = SessionStore(workspace).list()[-1]
    cfg = SessionStore(workspace).config(control["id"])
    assert cfg.control_rate == pytest.approx(a["watch_rate"] / 100)
    assert len(vlm.log) - asked == 16  # the control asked no model


def test_a_real_platform_session_runs_in_real_time_on_fresh_profiles(workspace, topic_folder, sim_server, vlm):
    """The real-platform path (the TikTok adapter, real time, a fresh browser profile per trial,
    no ground truth), pointed with --start-url at the simulator's TikTok layout at clock x1."""
    from vspectrum_app.core.paths import data_dir
    from vspectrum_app.sim.server import feed_url

    PersonaLibrary(workspace).save(HEDONIST)
    vlm.answer = lambda req: "{'decision': 'yes', 'reason': 'fun', 'trait_num': '2'}"
    _provider(vlm)
    assert (
        main(
            [
                "-w",
                str(workspace.root),
                "persona",
                "run",
                "--persona",
                "Hedonist",
                "--model",
                "lab:m1",
                "--platform",
                "tiktok",
                "--start-url",
                feed_url(sim_server.url, "tiktok", seed=5),
                "--headless",
                "--trials",
                "2",
                "--scrolls",
                "3",
                "--window",
                "1",
                "--watch",
                "1",
            ]
        )
        == 0
    )
    session = SessionStore(workspace).list()[-1]["id"]
    steps = SessionStore(workspace).steps(session)
    assert len(steps) == 6 and all(s.item_url.startswith(sim_server.url + "/@") for s in steps)
    assert all(s.item_topics == [] and s.related is None for s in steps)  # a real site says no topics
    assert "learnt_profile" not in session_report(workspace, session)
    profiles = data_dir() / "browser-profiles" / "persona" / session
    assert sorted(p.name for p in profiles.iterdir()) == ["trial-00", "trial-01"]
    # the watched videos played on for the watch second: their dwell reached the platform
    served = [e for sid in sim_server.platform.sessions for e in sim_server.platform.inspect(sid)["served"]]
    dwell = {e["tiktok_id"]: e["dwell_s"] for e in served if e["dwell_s"] is not None}
    reported = [dwell[s.item_url.rsplit("/", 1)[-1]] for s in steps if s.item_url.rsplit("/", 1)[-1] in dwell]
    assert len(reported) >= 4 and all(3.0 <= d < 6 for d in reported)  # 2 s to the capture + 1 s watched
