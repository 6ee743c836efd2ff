"""Prompt wordings in the window (issue 28 item 2): the Benchmark pane's editor of the like
question's wordings gives the run its --prompt-variants, and the Results pane's Robustness view
presents the core's wording report (bench.robustness) of the selected run."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from tests.gui.fakes import shown_pane, use_fake_jobs
from vspectrum_app.bench import robustness, variants
from vspectrum_app.bench.prompts import Q_LIKE
from vspectrum_app.bench.store import RunStore
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes.benchmark import BenchmarkPane
from vspectrum_app.gui.panes.results import ResultsPane
from vspectrum_app.providers.config import ProviderConfig, ProviderStore

pytestmark = pytest.mark.gui


@pytest.fixture
def bench_pane(qtbot, tmp_path):
    ProviderStore().save(
        ProviderConfig(name="fakelab", kind="openai-compatible", base_url="http://127.0.0.1:9/v1", models=["m1"])
    )
    pane = shown_pane(qtbot, BenchmarkPane, use_fake_jobs(AppContext()), tmp_path / "ws")
    yield pane
    pane.ctx.workspace.close()


def test_the_wordings_editor_gives_the_run_its_prompt_variants(bench_pane, qtbot, tmp_path):
    pane, box = bench_pane, bench_pane.wordings
    pane.models.item(0).setCheckState(Qt.CheckState.Checked)
    assert box.list.count() == 1 and box.wordings()[0].like == Q_LIKE
    assert pane._run_params().prompt_variants is None  # the paper's benchmark, as before
    box.builtin_button.click()
    assert [w.name for w in box.wordings()] == [w.name for w in variants.builtin()]
    assert pane._run_params().prompt_variants == "builtin"
    # remove two, add one: the run gets a file holding exactly the list shown
    box.list.item(1).setSelected(True)
    box.list.item(2).setSelected(True)
    box.remove_button.click()
    box.name.setText("mine")
    box.text.setText("Is this image to your liking? Yes or no.")
    box.add_button.click()
    shown = [(w.name, w.like) for w in box.wordings()]
    assert len(shown) == len(variants.builtin()) - 1 and shown[-1][0] == "mine" and box.list.count() == len(shown)
    path = pane._run_params().prompt_variants
    assert [(w.name, w.like) for w in variants.load_wordings(path)] == shown
    pane.start()
    title, params = pane.ctx.started[-1]  # the command line round-trips through the real parser
    assert title == "Benchmark run" and params.prompt_variants == path
    # a duplicate, or a bad file, is one sentence and leaves the list as it was
    box.name.setText("mine")
    box.text.setText("Another text?")
    box.add_button.click()
    assert box.message.kind() == "error" and "same name" in box.message.full_text()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"name": "x y", "like": "Q?"}]))
    box.load_file(str(bad))
    assert (
        box.message.kind() == "error"
        and "bad.json" in box.message.full_text()
        and "unchanged" in box.message.full_text()
    )
    assert [(w.name, w.like) for w in box.wordings()] == shown
    box.paper_button.click()
    assert pane._run_params().prompt_variants is None


@pytest.fixture
def results_pane(qtbot, tmp_path):
    pane = shown_pane(qtbot, ResultsPane, AppContext(), tmp_path / "ws", size=(1280, 720))
    yield pane
    pane._worker.shutdown()
    pane.robustness._worker.shutdown()
    pane.ctx.workspace.close()


def _variant_run(store: RunStore) -> str:
    """'paper' likes the first half of each value's images, 'keen' all of them."""
    wordings = [{"name": "paper", "like": Q_LIKE}, {"name": "keen", "like": "Like it? Yes or no."}]
    values = ["Power", "Benevolence", "Universalism"]
    items = [
        {"target": "lab:m1", "mode": "vlm", "value": v, "keyword": "k", "rank": i, "image_id": i,
         "image_sha256": f"{v}{i}", "repeat": 0, "variant": w["name"]}
        for w in wordings
        for v in values
        for i in range(12)
    ]  # fmt: skip
    run_id = store.create_run({"targets_label": ["lab:m1"], "values": values, "variants": wordings}, items)
    done = []
    for row in store.items(run_id, status=None):
        yes = row["variant"] == "keen" or row["rank"] < 6 - values.index(row["value"])
        done.append((row["id"], "yes" if yes else "no", ["Yes." if yes else "No."]))
    store.finish_items(done)
    store.set_status(run_id, "done")
    return run_id


def test_the_robustness_view_presents_the_core_report(results_pane, qtbot):
    pane = results_pane
    run_id = _variant_run(RunStore(pane.ctx.workspace))
    with qtbot.waitSignal(pane.runs_loaded, timeout=30_000):
        pane.reload()
    view = pane.robustness
    qtbot.waitUntil(lambda: view.report is not None and view.table.rowCount() == 3, timeout=30_000)
    pane.tabs.setCurrentWidget(view)
    report = robustness.variant_report(pane.ctx.workspace, run_id)
    headers = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert headers == ["Value", "Verdict", "Range", "Alike", "Kappa", "Holm p", "paper", "keen"]
    assert "Like it? Yes or no." in view.table.horizontalHeaderItem(7).toolTip()
    for r, row in enumerate(report["values"]):
        cells = [view.table.item(r, c).text() for c in range(view.table.columnCount())]
        scores = {s["variant"]: s for s in report["scores"] if s["value"] == row["value"]}
        paper, keen = scores["paper"], scores["keen"]
        assert cells == [
            row["value"],
            row["verdict"],
            f"{row['range']:.0f}",
            f"{row['alike']}/{row['units']}",
            f"{row['kappa']:.2f}" if row["kappa"] is not None else "n/a",
            f"{row['p_holm']:.3g}",
            f"{paper['score']:.0f} [{paper['ci_low']:.0f}-{paper['ci_high']:.0f}]",
            f"100 [{keen['ci_low']:.0f}-100]",
        ]
        assert view.table.item(r, 1).toolTip() == robustness.value_line(row)
    assert {r["verdict"] for r in report["values"]} == {"wording-sensitive"}  # 6-8 of 12 images change answer
    summary = view.summary.full_text()
    assert "Wording-sensitive: " in summary and all(v in summary for v in ("Power", "Benevolence", "Universalism"))
    assert "Fleiss' kappa" in view.summary.full_text()
    # the main views score the first wording only
    qtbot.waitUntil(lambda: len(pane.reports) == 1, timeout=30_000)
    assert {s["value"]: s["score"] for s in pane.reports[0]["scores"]} == {
        s["value"]: s["score"] for s in report["scores"] if s["variant"] == "paper"
    }


def test_a_live_run_draws_one_series_per_wording(bench_pane):
    """The answer events carry their wording: the live radar and rows keep the wordings apart
    (pooled, they would make a score no wording has)."""
    from vspectrum_app.core import events

    pane = bench_pane
    for variant, cls in (("paper", "yes"), ("paper", "no"), ("fr", "yes"), ("fr", "yes")):
        event = events.Answer(target="lab:m1", value="Power", keyword="k", answer_class=cls, variant=variant)
        pane._on_event(events.decode(events.encode(event)))  # over the wire, as from the child
    pane._redraw()
    assert set(pane.radar.curves) >= {"lab:m1", "lab:m1 · fr"}
    from vspectrum_app.gui.panes.benchmark import live_series

    series = live_series(pane.answers)  # paper: 1 yes of 2; fr: 2 of 2
    assert series["lab:m1"]["Power"][0] == 50 and series["lab:m1 · fr"]["Power"][0] == 100
    assert pane.table.item(0, 1).text() == "lab:m1 · fr" and pane.table.item(3, 1).text() == "lab:m1"
