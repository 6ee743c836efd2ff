"""The Results pane through its real widgets (issue 12): every Export button writes its file,
runs carry a name and a note, the radar has a scale and gaps, legends cover nothing, tables
show the counts behind each score, and reports are computed off the GUI thread."""

from __future__ import annotations

import csv
import math
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from tests.gui.fakes import shown_pane
from vspectrum_app.bench.report import LONG_COLUMNS
from vspectrum_app.bench.store import RunStore
from vspectrum_app.bench.circumplex import ORDER as RADAR_ORDER  # the radar's spokes: Schwartz's circle
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes.results import ResultsPane

pytestmark = pytest.mark.gui


def make_run(store: RunStore, plan: dict[str, str], target: str = "lab:m1") -> str:
    """A finished run: per value a string of answers, y = yes, n = no, r = refusal, u = unparsed."""
    names = {"y": "yes", "n": "no", "r": "refusal", "u": "unparsed"}
    items = [
        {
            "target": target,
            "mode": "vlm",
            "value": value,
            "keyword": "k",
            "rank": i,
            "image_id": i,
            "image_sha256": f"{value}{i}",
            "repeat": 0,
        }
        for value, answers in plan.items()
        for i in range(len(answers))
    ]
    run_id = store.create_run({"targets_label": [target], "values": list(plan)}, items)
    done = []
    for row in store.items(run_id, status=None):
        answer = plan[row["value"]][row["rank"]]
        done.append((row["id"], names[answer], ["Yes." if answer == "y" else "No."]))
    store.finish_items(done)
    store.set_status(run_id, "done")
    return run_id


@pytest.fixture
def pane(qtbot, tmp_path):
    pane = shown_pane(qtbot, ResultsPane, AppContext(), tmp_path / "ws")
    yield pane
    pane._worker.shutdown()
    pane.ctx.workspace.close()


def _reload(pane, qtbot) -> None:
    """The runs list is read on the worker pool: reload and wait until it is filled."""
    with qtbot.waitSignal(pane.runs_loaded, timeout=30_000):
        pane.reload()


def _select_all(pane, qtbot, n: int) -> None:
    _reload(pane, qtbot)
    pane.runs.selectAll()
    qtbot.waitUntil(lambda: len(pane.reports) == n and not pane.status.full_text(), timeout=30_000)
    for _ in range(3):  # let the plots' layouts settle (posted layout requests)
        QApplication.processEvents()


def test_every_export_button_writes_its_file(pane, qtbot, tmp_path, monkeypatch):
    # a provider name that a spreadsheet would run as a formula: the CSV writer neutralises it
    run_id = make_run(RunStore(pane.ctx.workspace), {"Power": "yyn", "Hedonism": "ynnr"}, target="=cmd:m1")
    _select_all(pane, qtbot, 1)
    asked = []

    def save_as(parent, caption, name, filters):
        path = tmp_path / f"{len(asked)}-{name}"
        plots = sum(1 for p in asked if p.suffix in (".png", ".svg"))
        if "plot" in caption.lower() and plots % 2:  # every other plot as SVG
            path = path.with_suffix(".svg")
        asked.append(path)
        return str(path), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_as))
    written = []
    for tab in range(pane.tabs.count()):
        if not pane.tabs.isTabEnabled(tab):
            continue
        pane.tabs.setCurrentIndex(tab)
        for button in (pane.export_plot_button, pane.export_csv_button):
            if not button.isEnabled():
                continue
            before = len(asked)
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            assert len(asked) == before + 1, f"{button.text()} on tab {pane.tabs.tabText(tab)} asked for no file"
            path = asked[-1]
            assert path.exists(), f"{button.text()} on tab {pane.tabs.tabText(tab)} wrote nothing"
            written.append(path)
            assert pane.status.kind() == "success" and str(path) in pane.status.full_text()
    kinds = {p.suffix for p in written}
    assert kinds == {".png", ".svg", ".csv"}
    for path in written:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
        elif path.suffix == ".svg":
            assert "<svg" in path.read_text()[:1000]
        else:
            rows = list(csv.reader(path.open(encoding="utf-8")))
            assert tuple(rows[0]) == LONG_COLUMNS
            body = {r[rows[0].index("value")]: dict(zip(LONG_COLUMNS, r)) for r in rows[1:]}
            assert set(body) == {"Power", "Hedonism"}
            assert body["Power"]["target"] == "'=cmd:m1" and body["Power"]["run_id"] == run_id
            assert (
                body["Hedonism"]["n"],
                body["Hedonism"]["yes"],
                body["Hedonism"]["no"],
                body["Hedonism"]["refusal"],
            ) == ("4", "1", "2", "1")


def test_export_without_a_selection_says_so(pane, qtbot, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: pytest.fail("no dialog expected")))
    qtbot.mouseClick(pane.export_csv_button, Qt.MouseButton.LeftButton)
    assert "Select a run first" in pane.status.full_text() and pane.status.kind() != "error"


def test_runs_listed_with_name_date_models_values_and_a_note(pane, qtbot):
    store = RunStore(pane.ctx.workspace)
    first = make_run(store, {"Power": "yy"})
    second = make_run(store, {"Power": "nn", "Hedonism": "yn"}, target="lab:m2")
    _reload(pane, qtbot)
    row = {pane.runs.item(r, 0).data(Qt.ItemDataRole.UserRole): r for r in range(pane.runs.rowCount())}
    cells = [pane.runs.item(row[second], c).text() for c in range(pane.runs.columnCount())]
    assert cells[0] == second and cells[1][:4].isdigit() and cells[2] == "lab:m2"
    assert cells[3] == "Power, Hedonism" and cells[4] == "4/4" and cells[5] == ""
    # the user names and annotates a run: stored in the workspace, shown after a reload
    pane.runs.item(row[first], 0).setText("  pilot   baseline ")
    assert pane.status.kind() == "success"
    pane.runs.item(row[first], 5).setText("temperature 0, before the prompt change")
    assert store.labels()[first] == {"name": "pilot baseline", "note": "temperature 0, before the prompt change"}
    _reload(pane, qtbot)
    row = {pane.runs.item(r, 0).data(Qt.ItemDataRole.UserRole): r for r in range(pane.runs.rowCount())}
    assert pane.runs.item(row[first], 0).text() == "pilot baseline"
    assert pane.runs.item(row[first], 5).text() == "temperature 0, before the prompt change"
    # the name labels the run's series when runs are compared
    _select_all(pane, qtbot, 2)
    assert "lab:m1 · pilot baseline" in pane.radar.curves
    # clearing the name shows the run id again
    pane.runs.item(row[first], 0).setText("")
    assert store.labels()[first]["name"] == ""


def test_radar_has_a_scale_gaps_and_visible_bands(pane, qtbot):
    make_run(RunStore(pane.ctx.workspace), {"Power": "yyyn", "Hedonism": "ynnn"})
    _select_all(pane, qtbot, 1)
    assert pane.radar.ring_labels() == ["25", "50", "75", "100"]
    xs, ys = pane.radar.curves["lab:m1"].getData()
    radius = [math.hypot(x, y) for x, y in zip(xs, ys)]
    measured = {RADAR_ORDER.index("Power"): 75, RADAR_ORDER.index("Hedonism"): 25}
    for i, value in enumerate(RADAR_ORDER):
        if i in measured:
            assert radius[i] == pytest.approx(measured[i])
        else:  # unmeasured: a gap, never a point at the centre
            assert math.isnan(radius[i]), value
    band = pane.radar.curves["lab:m1#band"]
    assert band.brush().color().alpha() >= 0x50 and not band.path().isEmpty()
    # the legend sits below the plot: it covers no spoke label and no band
    view = pane.radar.plotItem.vb.sceneBoundingRect()
    assert pane.radar.legend.sceneBoundingRect().top() >= view.bottom() - 1


def test_bars_legend_and_axis_labels_cover_nothing(pane, qtbot):
    store = RunStore(pane.ctx.workspace)
    make_run(store, {"Power": "yy", "Hedonism": "yn"})
    make_run(store, {"Power": "nn", "Hedonism": "yy"})
    _select_all(pane, qtbot, 2)
    plot = pane.model_std
    view = plot.plotItem.vb.sceneBoundingRect()
    assert plot.legend.sceneBoundingRect().top() >= view.bottom() - 1
    axis = plot.getAxis("bottom")
    labels = [t for _, t in axis._tickLevels[0]]
    assert max(t.count("\n") + 1 for t in labels) == 3  # model, run, sd
    from PySide6.QtGui import QFontMetrics

    assert axis.height() >= 3 * QFontMetrics(axis.font()).lineSpacing()


def test_table_cells_show_the_counts_behind_each_score(pane, qtbot):
    make_run(RunStore(pane.ctx.workspace), {"Power": "yyyrun"})
    _select_all(pane, qtbot, 1)
    text = pane.table.item(0, 0).text()
    assert text.startswith("75 [") and "n=6: 3 yes, 1 no, 1 refused, 1 unparsed" in text
    assert "centred +0" in text  # one value: it is its own mean
    assert "1 unparsed (60-80 if no/yes)" in text  # 3 yes of 5 if the unparsed one were a no, 4 if a yes


def test_reports_are_computed_off_the_gui_thread(pane, qtbot, monkeypatch):
    import vspectrum_app.bench.report as report

    threads = []
    original = report.run_report

    def spy(ws, run_id, *args, **kwargs):
        threads.append(threading.current_thread())
        return original(ws, run_id, *args, **kwargs)

    monkeypatch.setattr(report, "run_report", spy)
    make_run(RunStore(pane.ctx.workspace), {"Power": "yn"})
    _select_all(pane, qtbot, 1)
    assert threads and all(t is not threading.main_thread() for t in threads)


def test_paper_style_switch_uses_the_authors_rule(pane, qtbot):
    # 2 yes, 1 no, 1 refusal: 67 by the app's rule, 50 by the paper's (everything not yes is no)
    make_run(RunStore(pane.ctx.workspace), {"Power": "yynr"})
    _select_all(pane, qtbot, 1)
    assert pane.table.item(0, 0).text().startswith("67 [")
    pane.paper_style.setChecked(True)  # the core recomputes the reports by the authors' rule
    qtbot.waitUntil(lambda: pane.reports and pane.reports[0]["rule"] == "paper", timeout=30_000)
    assert pane.table.item(0, 0).text().startswith("50 [")
    xs, ys = pane.radar.curves["lab:m1"].getData()
    i = RADAR_ORDER.index("Power")
    assert math.hypot(xs[i], ys[i]) == pytest.approx(50)
    assert "Paper-style score" in pane.note.full_text()
    pane.paper_style.setChecked(False)
    qtbot.waitUntil(lambda: pane.reports[0]["rule"] == "ours", timeout=30_000)
    assert pane.table.item(0, 0).text().startswith("67 [")


def test_clicking_a_score_lists_the_answers_behind_it(pane, qtbot):
    pytest.importorskip("vspectrum_app.bench.trace")  # the core's drill-down (issue 13.16)
    make_run(RunStore(pane.ctx.workspace), {"Power": "yynr", "Hedonism": "n"})
    _select_all(pane, qtbot, 1)
    rect = pane.table.visualItemRect(pane.table.item(0, 0))
    pane.tabs.setCurrentWidget(pane.table)
    qtbot.mouseClick(pane.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = pane.cell_answers
    qtbot.waitUntil(lambda: dialog is not None and len(dialog.answers) == 4, timeout=30_000)
    assert "lab:m1 on Power" in dialog.heading.text()
    classes = sorted(dialog.table.item(r, 3).text() for r in range(dialog.table.rowCount()))
    assert classes == ["no", "refusal", "yes", "yes"]
    assert {dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())} == {"k"}
    dialog.filter.setCurrentText("yes")
    qtbot.waitUntil(lambda: len(dialog.answers) == 2, timeout=30_000)
    assert [dialog.table.item(r, 2).text() for r in range(2)] == ["Yes.", "Yes."]
    assert dialog.status.full_text().startswith("2 answer(s) of class yes")


def test_centred_profile_fitted_circle_and_value_map(pane, qtbot):
    import pyqtgraph as pg

    from vspectrum_app.bench.circumplex import ANGLE

    plan = {"Self-Direction": "yyyy", "Universalism": "yyyn", "Security": "ynnn", "Power": "nnnn", "Hedonism": "yynn"}
    make_run(RunStore(pane.ctx.workspace), plan)
    _select_all(pane, qtbot, 1)
    report = pane.reports[0]
    scores = {s["value"]: s for s in report["scores"]}

    def radius(name, value):
        xs, ys = pane.radar.curves[name].getData()
        i = RADAR_ORDER.index(value)
        return math.hypot(xs[i], ys[i])

    # the fitted circle over the raw radar: the core's fit plus the model's mean, on each measured spoke
    fit = next(c["fit"] for c in report["circumplex"] if c["target"] == "lab:m1")
    mean = next(m["mean"] for m in report["models"] if m["target"] == "lab:m1")
    expected = fit["offset"] + mean + fit["amplitude"] * math.cos(ANGLE["Power"] - math.radians(fit["peak_deg"]))
    assert radius("lab:m1#fit", "Power") == pytest.approx(pane.radar.radius(expected))
    assert "peaks towards" in pane.note.full_text() and "R^2" in pane.note.full_text()
    # centred: 0 is the model's own mean; the rings say so with signed labels
    pane.centred.setChecked(True)
    lo, hi = pane.radar.scale
    assert lo == -hi and pane.radar.ring_labels()[1] == "0" and pane.radar.ring_labels()[3].startswith("+")
    for value in plan:
        assert radius("lab:m1", value) == pytest.approx(pane.radar.radius(scores[value]["centred"]))
    pane.fitted.setChecked(False)
    assert "lab:m1#fit" not in pane.radar.curves
    # the value map: one point per model at the core's two higher-order axes
    axes = next(c["axes"] for c in report["circumplex"] if c["target"] == "lab:m1")
    dots = [i for i in pane.value_map.items if isinstance(i, pg.ScatterPlotItem)]
    assert len(dots) == 1
    x, y = dots[0].getData()
    assert (x[0], y[0]) == pytest.approx(
        (axes["openness_minus_conservation"]["estimate"], axes["transcendence_minus_enhancement"]["estimate"])
    )
