"""Spreadsheet formula injection (issue 14, item 3): every CSV export, from the CLI and from
the window, writes text that starts like a formula as plain text."""

import csv
import io

import pytest

from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main

pytestmark = pytest.mark.gui

HOSTILE = [
    '=HYPERLINK("http://evil.test","click")',
    "=cmd|' /C calc'!A0",
    "+A1",
    "-2+3+cmd|' /C calc'!A0",
    "@x",
    "\tX",
    "\rY",
]


def _read(path) -> str:
    with open(path, newline="", encoding="utf-8") as f:  # keep a cell's carriage return as written
        return f.read()


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def _assert_safe(text: str) -> None:
    cells = _cells(text)
    for hostile in HOSTILE:
        assert "'" + hostile in cells, f"{hostile!r} not neutralised"
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(c)]


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _hostile_run(ws) -> str:
    """A finished run whose model names are the hostile strings (model names are free text)."""
    store = RunStore(ws)
    items = [
        {
            "target": f"lab:{h}" if n % 2 else h,
            "mode": "vlm",
            "value": "Power",
            "keyword": "k",
            "rank": 1,
            "image_id": 1,
            "image_sha256": f"{n:064d}",
            "repeat": 0,
        }
        for n, h in enumerate(HOSTILE)
    ]
    items += [{**i, "target": h} for i, h in zip(items, HOSTILE) if i["target"] != h]
    run_id = store.create_run({"prompts": {}, "seed": 0}, items)
    store.finish_items([(i["id"], "yes", ["Yes."]) for i in store.items(run_id, status=None)])
    return run_id


def test_bench_report_csv_from_the_cli(workspace, capsys):
    run_id = _hostile_run(workspace)
    assert main(["-w", str(workspace.root), "bench", "report", run_id, "--format", "csv"]) == 0
    out = capsys.readouterr().out
    _assert_safe(out)
    assert "100.0" in _cells(out)  # numbers stay numbers


def _hostile_report(session_id: str, persona: str) -> dict:
    return {
        "session_id": session_id,
        "persona": persona,
        "provider": "lab",
        "model": "m1",
        "platform": "sim",
        "strategy": "simple",
        "trials_done": 1,
        "steps": 4,
        "first_rate": 0.0,
        "last_rate": 50.0,
        "change": -12.5,
        "change_p": 0.5,
        "i_avg": 1.0,
        "i_avg_ci95": None,
        "undefined_trials": 0,
        "watch_rate": 0.5,
        "window": 2,
        "replay_of": None,
        "incomplete_trials": 0,
        "control_i_avg": None,
        "minus_control": None,
        "minus_control_ci95": None,
    }


@pytest.mark.parametrize("tables", [False, True])
def test_persona_report_csv_from_the_cli(workspace, capsys, monkeypatch, tables):
    # a test double for the report (its numbers are tested elsewhere): the persona names are the point
    monkeypatch.setattr(
        "vspectrum_app.persona.report.session_report", lambda ws, s: _hostile_report(s, HOSTILE[int(s)])
    )
    monkeypatch.setattr(
        "vspectrum_app.persona.report.alignment_tables",
        lambda reports: [{"title": h, "rows": [{**r, "trials": 1} for r in reports]} for h in HOSTILE],
    )
    args = ["-w", str(workspace.root), "persona", "report", *map(str, range(len(HOSTILE))), "--format", "csv"]
    assert main(args + (["--tables"] if tables else [])) == 0
    out = capsys.readouterr().out
    _assert_safe(out)
    assert "-12.5" in _cells(out)  # a number written as a number is left alone


def test_the_results_pane_export(qtbot, tmp_path, workspace):
    from vspectrum_app.bench.report import run_report
    from vspectrum_app.gui.context import AppContext
    from vspectrum_app.gui.panes.results import ResultsPane

    run_id = _hostile_run(workspace)
    ctx = AppContext()
    pane = ResultsPane(ctx)
    qtbot.addWidget(pane)
    pane.reports = [run_report(workspace, run_id)]
    pane._export_csv(str(tmp_path / "scores.csv"))
    _assert_safe(_read(tmp_path / "scores.csv"))


def test_the_persona_results_export(qtbot, tmp_path):
    from vspectrum_app.gui.context import AppContext
    from vspectrum_app.gui.panes.persona_results import SessionResults

    results = SessionResults(AppContext())
    qtbot.addWidget(results)
    for table in (results.report_table, results.alignment_table):
        results.tabs.setCurrentWidget(table)
        results._set_rows(table, [[h] + ["1"] * (table.columnCount() - 1) for h in HOSTILE])
        path = tmp_path / "export.csv"
        results.export_table(str(path))
        _assert_safe(_read(path))
