"""One truth (issue 25): for the same run, the window shows the numbers the CLI prints. A small
benchmark and a persona session run for real (real SDK, the test VLM server); the events the
job reports reach the panes as they would from a child process (FakeJob: encoded, decoded), and
what the widgets then show is compared with what `vspectrum bench ...` / `persona ...` print."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.bench.test_engine import reddish
from tests.gui.fakes import use_fake_jobs
from tests.persona.test_agent_loop import TinyFeed, _session, pet_lover
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench import ops as bench_ops
from vspectrum_app.cli import main
from vspectrum_app.core.jobs import Reporter
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes.benchmark import BenchmarkPane, live_series
from vspectrum_app.gui.panes.persona_results import SessionResults
from vspectrum_app.library.ops import ClipOptions
from vspectrum_app.persona.agent import run_session
from vspectrum_app.persona.deciders import ModelDecider
from vspectrum_app.persona.runner import execute, new_replay
from vspectrum_app.providers.config import ProviderConfig, ProviderStore

pytestmark = pytest.mark.gui


class _ToJob(Reporter):
    """The reporter of a job run in this process: every event goes to the pane's (fake) job."""

    def __init__(self, job):
        super().__init__()
        self.job, self.events = job, []

    def emit(self, kind, **data):
        self.events.append({"type": kind, **data})
        self.job.send({"type": kind, **data})

    def progress(self, done, total=None, message=""):
        self.job.send({"type": "progress", "done": done, "total": total, "message": message})

    def log(self, message, level="info"):
        self.job.send({"type": "log", "message": message, "level": level})


@pytest.fixture
def lab(monkeypatch):
    server = FakeVLMServer(answer=reddish).start()
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    ProviderStore().save(
        ProviderConfig(
            name="lab",
            kind="openai-compatible",
            base_url=server.openai_base_url,
            models=["m1"],
            concurrency=4,
            requests_per_minute=600,
            timeout_s=5.0,
            price_input_per_mtok=2.5,
            price_output_per_mtok=10.0,
        )
    )
    yield server
    server.stop()


def test_benchmark_estimate_live_score_and_interval_are_the_clis(qtbot, indexed_workspace, tiny_clip, lab, capsys):
    ws = indexed_workspace
    ctx = use_fake_jobs(AppContext())
    ctx.open_workspace(ws.root)
    ctx.clip_options = lambda: ClipOptions(
        clip_config=Path(tiny_clip.config), clip_checkpoint=Path(tiny_clip.checkpoint)
    )
    pane = BenchmarkPane(ctx)
    qtbot.addWidget(pane)
    pane.show()
    pane.models.item(0).setCheckState(Qt.CheckState.Checked)
    for i in range(pane.values.count()):
        keep = pane.values.item(i).text() in ("Power", "Hedonism")
        pane.values.item(i).setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
    pane.k.setValue(2)
    pane.repeats.setValue(2)  # an image's repeats are one cluster: the report's interval is not Wilson's

    # the estimate: the pane asks for a dry run with its form; the core answers; the CLI's words
    qtbot.waitUntil(lambda: bool(ctx.started) and ctx.started[-1][0] == "Estimate", timeout=10_000)
    title, params = ctx.started[-1]
    bench_ops.run(params, ctx.workspace, _ToJob(ctx.job))
    shown = pane.estimate_label.full_text()
    argv = [
        "-w",
        str(ws.root),
        "bench",
        "run",
        "--model",
        "lab:m1",
        "--values",
        "Power",
        "Hedonism",
        "--k",
        "2",
        "--repeats",
        "2",
    ]
    argv += ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == 0
    printed = capsys.readouterr().err.splitlines()[0]
    assert shown == printed + " (lab 600/min)." and "calls to send" in shown and "~$" in shown
    calls_estimated = int(printed.split(": ")[1].split(" calls")[0])

    # the run: started from the pane, executed here, its events shown live
    pane.start()
    _, params = ctx.started[-1]
    run_job = ctx.job
    reporter = _ToJob(run_job)
    outcome = bench_ops.run(replace(params), ctx.workspace, reporter)
    run_job.finished.emit(0)
    assert len(lab.log) == calls_estimated  # the estimate is what was sent
    # the progress's calls to go are the estimate's less those sent, down to 0 at the end
    statuses = [e for e in reporter.events if e["type"] == "run_status"]
    assert all(e["calls_sent"] + e["calls_left"] == calls_estimated for e in statuses[:-1])
    assert (statuses[-1]["calls_sent"], statuses[-1]["calls_left"]) == (calls_estimated, 0)
    assert statuses[-1]["cost"].startswith("$") and statuses[-1]["cost_usd"] > 0
    pane._dirty = True
    pane._redraw()
    capsys.readouterr()
    assert main(["-w", str(ws.root), "bench", "report", outcome.run_id, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    report = report[0] if isinstance(report, list) else report
    cli = {s["value"]: (s["score"], s["ci_low"], s["ci_high"]) for s in report["scores"] if s["mode"] == "vlm"}
    window = live_series(pane.answers)["lab:m1"]  # what the pane's plots were given
    assert set(window) == set(cli) == {"Power", "Hedonism"}
    for value, (score, lo, hi) in cli.items():
        assert window[value] == pytest.approx((score, lo, hi))
    # the final progress line is the CLI's
    assert pane.counters.full_text().startswith("Run finished")


def test_persona_summary_in_the_window_is_the_clis(qtbot, workspace, lab, capsys):
    lab.answer = lambda req: "{'decision': '%s', 'reason': 'r'}" % ("yes" if len(lab.log) % 3 else "no")
    source = _session(workspace, trials=2, scrolls=6, window=3)
    run_session(workspace, source, TinyFeed(), ModelDecider(pet_lover, "simple"))
    replay = new_replay(workspace, source, provider="lab", model="m1")
    assert execute(workspace, replay) == "done"

    ctx = AppContext()
    ctx.open_workspace(workspace.root)
    view = SessionResults(ctx)
    qtbot.addWidget(view)
    view.show_sessions([replay])
    qtbot.waitUntil(lambda: view.report_table.rowCount() == 1, timeout=10_000)
    cells = [view.report_table.item(0, c).text() for c in range(view.report_table.columnCount())]

    capsys.readouterr()
    assert main(["-w", str(workspace.root), "persona", "report", replay, "--format", "json"]) == 0
    (cli,) = json.loads(capsys.readouterr().out)

    def num(v, digits=1):
        return "n/a" if v is None else f"{v:.{digits}f}"

    ci = cli["i_avg_ci95"]  # none under 10 trials with a defined change (docs/persona.md)
    assert cells[5:14] == [
        f"{cli['trials_done']}/{cli['trials']}",
        str(cli["steps"]),
        num(cli["watch_rate"]),
        num(cli["first_rate"]),
        num(cli["last_rate"]),
        num(cli["change"]),
        cli.get("change_p_text") or num(cli["change_p"], 3),
        num(cli["i_avg"]),
        "n/a" if ci is None else f"{ci[0]:.1f} to {ci[1]:.1f}",
    ]
    assert cli["steps"] == 12 and cli["first_rate"] is not None
