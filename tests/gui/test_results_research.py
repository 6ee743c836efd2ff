"""The Results pane's research views through real widgets: the radar in Schwartz's circle order,
the Paper tab (a published profile over the run's, the comparison table), the Drift tab (two
runs paired by image) and "Export for a paper..." (figure, LaTeX, JSON)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QApplication

from tests.gui.fakes import shown_pane
from tests.plugins.bench_runs import make_run, shares
from vspectrum_app.bench import paper
from vspectrum_app.bench.circumplex import ORDER
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes.results import ResultsPane

pytestmark = pytest.mark.gui

GPT4O = dict(zip(paper.load(1)["columns"], paper.load(1)["rows"][0]["cells"]))


@pytest.fixture
def pane(qtbot, tmp_path):
    pane = shown_pane(qtbot, ResultsPane, AppContext(), tmp_path / "ws")
    yield pane
    pane._worker.shutdown()
    pane.ctx.workspace.close()


def _select_all(pane, qtbot, n: int) -> None:
    with qtbot.waitSignal(pane.runs_loaded, timeout=30_000):
        pane.reload()
    pane.runs.selectAll()
    qtbot.waitUntil(lambda: len(pane.reports) == n and not pane.status.full_text(), timeout=30_000)
    QApplication.processEvents()


def test_radar_spokes_follow_schwartzs_circle(pane):
    labels = [value for _, value in pane.radar._value_labels]
    assert labels == list(ORDER)
    assert labels.index("Conformity") + 1 == labels.index("Tradition")
    assert labels[labels.index("Power") - 1] == "Achievement"  # neighbours on the circle sit side by side


def test_paper_tab_draws_the_published_profile_over_the_run(pane, qtbot, tmp_path):
    make_run(pane.ctx.workspace, shares(dict(GPT4O, Stimulation=100.0)), target="openai:gpt-4o")
    _select_all(pane, qtbot, 1)
    view = pane.paper_view
    assert view.model.currentText() == "Table 1: GPT-4o"  # guessed from the run's model name
    cmp = paper.compare(pane.reports[0], "GPT-4o", 1, "openai:gpt-4o")
    assert view.comparison == cmp  # the core's numbers, nothing of the pane's own
    assert set(view.radar.curves) >= {"openai:gpt-4o", "GPT-4o (paper, Table 1)"}
    rows = {view.table.verticalHeaderItem(i).text(): i for i in range(view.table.rowCount())}
    flags = {v: view.table.item(i, 5).text() for v, i in rows.items()}
    assert [v for v, f in flags.items() if f] == ["Stimulation"]
    assert view.table.item(rows["Stimulation"], 0).text().startswith("56 [")
    assert "1 of 10 values differ" in view.note.full_text() and "Table 1 gives 56-90" in view.note.full_text()
    view.model.setCurrentIndex(view.model.findText("Table 10: GPT-4o"))
    assert view.comparison["published"]["table"] == 10 and len(view.comparison["differ"]) > 1
    # export for a paper, from this tab: the figure of the comparison, LaTeX with both tables, JSON
    pane.tabs.setCurrentWidget(view)
    for name in ("paper.pdf", "table.tex", "cmp.json"):
        pane._export_paper(str(tmp_path / name))
        qtbot.waitUntil(lambda: pane.status.kind() == "success" and name in pane.status.full_text(), timeout=60_000)
    assert (tmp_path / "paper.pdf").read_bytes().startswith(b"%PDF")
    tex = (tmp_path / "table.tex").read_text(encoding="utf-8")
    assert tex.count(r"\toprule") == 2 and "Table 10" in tex
    assert json.loads((tmp_path / "cmp.json").read_text(encoding="utf-8"))["published"]["table"] == 10
    pane._export_paper(str(tmp_path / "x.doc"))
    qtbot.waitUntil(lambda: pane.status.kind() == "error", timeout=30_000)
    assert "choose .pdf, .svg, .png, .tex or .json" in pane.status.full_text()


def test_drift_tab_pairs_two_runs_by_image(pane, qtbot, tmp_path):
    make_run(pane.ctx.workspace, {"Power": ["no"] * 30 + ["yes"] * 20, "Security": ["yes"] * 10})
    make_run(pane.ctx.workspace, {"Power": ["yes"] * 50, "Security": ["yes"] * 10})
    _select_all(pane, qtbot, 2)
    view = pane.drift_view
    qtbot.waitUntil(lambda: view.result is not None, timeout=30_000)
    assert view.result["drifted"] == ["Power"]
    assert view.table.item(0, 7).text() == "changed" and view.table.item(0, 4).text() == "+60"
    assert view.table.item(1, 7).text() == ""
    assert "1 of 2 values changed" in view.note.full_text()
    pane.tabs.setCurrentWidget(view)
    pane._export_paper(str(tmp_path / "drift.json"))
    qtbot.waitUntil(lambda: pane.status.kind() == "success", timeout=30_000)
    assert json.loads((tmp_path / "drift.json").read_text(encoding="utf-8"))["drifted"] == ["Power"]
    pane.runs.selectRow(0)  # one run: nothing to pair
    qtbot.waitUntil(lambda: len(pane.reports) == 1, timeout=30_000)
    assert view.result is None and "Select two runs" in view.note.full_text()
