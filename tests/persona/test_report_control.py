"""A persona session's report sets the matched control beside it (issue 13, item 7)."""

from __future__ import annotations

import random

import pytest

from vspectrum_app.persona.report import format_report
from vspectrum_app.persona.metrics import alignment, difference_ci, trial_changes
from vspectrum_app.persona.report import alignment_tables, matched_control, session_report
from vspectrum_app.persona.store import SessionConfig, SessionStore, Step


def _session(
    ws, strategy: str, trials: list[list[bool]], rate: float = 0.2, platform: str = "sim", scrolls: int = 100
) -> str:
    store = SessionStore(ws)
    sid = store.create(
        SessionConfig(
            persona={"name": "teacher"},
            strategy=strategy,
            platform=platform,
            provider=None if strategy == "control" else "lab",
            model=None if strategy == "control" else "m1",
            trials=len(trials),
            scrolls=scrolls,
            window=50,
            control_rate=rate,
        )
    )
    for t, decisions in enumerate(trials):
        for pos, yes in enumerate(decisions):
            store.add_step(sid, Step(trial=t, position=pos, decision="yes" if yes else "no", dwell_s=0.0))
    return sid


def _random_trials(rate: float, seed: int, count: int = 10) -> list[list[bool]]:
    rng = random.Random(seed)
    return [[rng.random() < rate for _ in range(100)] for _ in range(count)]


def test_report_without_a_control_says_so_in_one_line(workspace):
    sid = _session(workspace, "simple", _random_trials(0.1, 1))
    report = session_report(workspace, sid)
    assert report["control"] is None and report["vs_control"] is None
    text = format_report(report)
    assert sum("no control session" in line for line in text.splitlines()) == 1


def test_matched_control_beside_the_persona_with_the_difference(workspace):
    persona = _random_trials(0.1, 1, 12)  # 12 trials: at least 10 with a yes in the first window, for an interval
    sid = _session(workspace, "simple", persona)
    _session(workspace, "control", _random_trials(0.5, 3), rate=0.5)  # another watch rate
    _session(workspace, "control", _random_trials(0.1, 4), platform="youtube", rate=0.1)  # another platform
    control = _session(workspace, "control", _random_trials(0.1, 2, 12), rate=0.1)
    assert matched_control(workspace, sid) == control
    report = session_report(workspace, sid)
    assert report["control"]["session_id"] == control
    mine = alignment(persona, 50, length=100, permutation=False)
    theirs = alignment(_random_trials(0.1, 2, 12), 50, length=100, permutation=False)
    assert report["i_avg"] == pytest.approx(mine.i_avg)
    assert report["control"]["i_avg"] == pytest.approx(theirs.i_avg)
    assert report["vs_control"]["difference"] == pytest.approx(mine.i_avg - theirs.i_avg)
    assert report["vs_control"]["ci95"] == pytest.approx(difference_ci(trial_changes(mine), trial_changes(theirs)))
    lo, hi = report["vs_control"]["ci95"]
    assert lo <= report["vs_control"]["difference"] <= hi
    assert "persona - control" in format_report(report) and control in format_report(report)
    row = [r for t in alignment_tables([report]) for r in t["rows"]][0]
    assert row["control_i_avg"] == pytest.approx(theirs.i_avg)
    assert row["minus_control"] == pytest.approx(report["vs_control"]["difference"])
    assert session_report(workspace, sid, control=None)["control"] is None


def test_incomplete_trials_are_listed_and_left_out(workspace):
    flat = [i % 5 == 0 for i in range(100)]
    sid = _session(workspace, "simple", [flat] * 9 + [flat[:60]])
    report = session_report(workspace, sid)
    assert report["i_avg"] == pytest.approx(0.0)
    assert report["incomplete_trials"] == [{"trial": 10, "scrolls": 60}]
    assert "trial 10 (60 of 100 scrolls)" in format_report(report)
    # every figure over the same nine complete trials (the stopped one held 12 yes of 60)
    assert (report["trials_done"], report["steps"], report["steps_recorded"]) == (9, 900, 960)
    assert sum(report["decisions"].values()) == 900 and report["watch_rate"] == pytest.approx(20.0)


def test_served_related_leaves_out_the_incomplete_trials_too(workspace):
    """The simulator's 'served related' rates counted a stopped trial that I_avg left out."""
    store = SessionStore(workspace)
    sid = store.create(
        SessionConfig(
            persona={"name": "teacher"},
            strategy="simple",
            platform="sim",
            provider="lab",
            model="m1",
            trials=3,
            scrolls=20,
            window=10,
        )
    )
    for t, length in enumerate((20, 20, 15)):
        for pos in range(length):
            related = pos % 2 == 0 if t < 2 else True  # complete trials: every other one; the stopped one: all
            store.add_step(sid, Step(trial=t, position=pos, decision="yes", dwell_s=0.0, related=related))
    report = session_report(workspace, sid, control=None)
    assert report["incomplete_trials"] == [{"trial": 3, "scrolls": 15}]
    assert report["served_related"]["first_rate"] == pytest.approx(50.0)
    assert report["served_related"]["last_rate"] == pytest.approx(50.0)


def test_cli_report_and_tables_carry_the_control(workspace, capsys):
    from vspectrum_app.cli import main

    sid = _session(workspace, "simple", _random_trials(0.1, 1))
    control = _session(workspace, "control", _random_trials(0.1, 2), rate=0.1)
    ws = str(workspace.root)
    assert main(["-w", ws, "persona", "report", sid, "--format", "csv"]) == 0
    import csv
    import io

    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    report = session_report(workspace, sid)
    assert row["control_session"] == control
    assert float(row["minus_control"]) == pytest.approx(report["minus_control"])
    assert main(["-w", ws, "persona", "report", sid, "--tables"]) == 0
    out = capsys.readouterr().out
    assert "- control" in out and f"{report['minus_control']:.1f}" in out
