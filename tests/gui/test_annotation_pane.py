"""An annotator works through a task set with the keyboard alone; sets are created, answers
moved between machines and the results read in the pane's second tab."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import dialog_returns
from tests.plugins.library import make_image_bytes
from vspectrum_app.annotate.report import filtered_scores, agreed_images, set_report
from vspectrum_app.annotate.sampling import create_value_set, create_value_set_by_retrieval
from vspectrum_app.annotate.store import AnnotationStore
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes.annotation import AnnotationPane
from vspectrum_app.library.importer import add_image

pytestmark = pytest.mark.gui
Y, N, ENTER = Qt.Key.Key_Y, Qt.Key.Key_N, Qt.Key.Key_Return


def _library(ws) -> list[int]:
    """Four screenshots, the first with a video link (so it has two questions)."""
    return [
        add_image(
            ws,
            make_image_bytes(seed=300 + i),
            source_name=f"{i}.jpg",
            meta={"video_url": f"https://example.test/v/{i}"} if i == 0 else {},
        )[0]
        for i in range(4)
    ]


@pytest.fixture
def ctx(tmp_path):
    ctx = AppContext()
    ws = ctx.open_workspace(tmp_path / "ws")
    ids = _library(ws)
    ctx.set_id = create_value_set(ws, "pilot", lambda v: ids, values=["Power"], per_value=4, raters=2)
    return ctx


def _pane(qtbot, ctx, name="Ana"):
    pane = AnnotationPane(ctx)
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.results.lists_loaded, timeout=10_000):  # read on the worker pool
        pane.show()
    pane.annotator.setText(name)
    return pane


def _open(qtbot, ctx, name="Ana"):
    pane = _pane(qtbot, ctx, name)
    pane.start()
    return pane


def _answer_all(qtbot, pane, keys=(Y,)):
    """Answer every question, cycling through ``keys``; returns how many were answered."""
    n = 0
    while "all done" not in pane.progress.full_text():
        qtbot.keyClick(pane, keys[n % len(keys)])
        qtbot.keyClick(pane, ENTER)
        n += 1
        assert n < 20
    return n


def _report_shown(qtbot, panel) -> None:
    """The report is computed on the worker pool: wait until it is drawn."""
    qtbot.waitUntil(lambda: panel.table9.rowCount() > 0, timeout=10_000)


def _cell(table, row_label: str, header: str) -> str:
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == row_label)
    col = next(c for c in range(table.columnCount()) if table.horizontalHeaderItem(c).text() == header)
    return table.item(row, col).text()


# -- annotating ---------------------------------------------------------------------------
def test_keyboard_only_completion(qtbot, ctx):
    pane = _open(qtbot, ctx)
    assert "reflect the value of Power" in pane.question_label.text()
    assert _answer_all(qtbot, pane, (Y, N)) == 5
    answers = AnnotationStore(ctx.workspace).current(ctx.set_id, "Ana")
    # 4 screenshots, and the video question for the one item that has a link
    assert sorted(a["question"] for a in answers) == ["screenshot"] * 4 + ["video"]
    assert all(a["seconds"] is not None for a in answers)
    video = next(a for a in answers if a["question"] == "video")
    shot = next(a for a in answers if a["question"] == "screenshot" and a["item_id"] == video["item_id"])
    assert shot["id"] < video["id"]  # the screenshot is judged before the video


def test_enter_without_a_choice_records_nothing_and_undo_goes_back(qtbot, ctx):
    pane = _open(qtbot, ctx)
    qtbot.keyClick(pane, ENTER)
    assert AnnotationStore(ctx.workspace).current(ctx.set_id) == []
    first = pane.session.order[pane.session.position]["id"]
    qtbot.keyClick(pane, Qt.Key.Key_S)
    qtbot.keyClick(pane, ENTER)
    qtbot.keyClick(pane, Qt.Key.Key_U)
    assert AnnotationStore(ctx.workspace).current(ctx.set_id) == []
    assert pane.session.order[pane.session.position]["id"] == first
    assert pane.choice is None and not pane.buttons["not_sure"].isChecked()  # the undone answer is gone from view
    assert len(AnnotationStore(ctx.workspace).history(ctx.set_id)) == 1  # kept, marked retracted


def test_resume_after_closing_mid_set(qtbot, ctx):
    pane = _open(qtbot, ctx)
    done_first = []
    for _ in range(2):
        done_first.append(pane.session.order[pane.session.position]["id"])
        qtbot.keyClick(pane, Y)
        qtbot.keyClick(pane, ENTER)
    pane.close()
    again = _open(qtbot, ctx)
    assert again.session.order[again.session.position]["id"] not in done_first or again.question == "video"
    assert [i["id"] for i in again.session.order] == [i["id"] for i in pane.session.order]  # the same personal order


def test_answers_are_read_once_not_on_every_keypress(qtbot, ctx, monkeypatch):
    pane = _open(qtbot, ctx)
    calls = []
    current = AnnotationStore.current
    monkeypatch.setattr(AnnotationStore, "current", lambda self, *a, **k: calls.append(a) or current(self, *a, **k))
    for _ in range(3):
        qtbot.keyClick(pane, Y)
        qtbot.keyClick(pane, ENTER)
    qtbot.keyClick(pane, Qt.Key.Key_Left)
    assert calls == []  # an item costs no scan of the annotator's answers
    assert len(current(AnnotationStore(ctx.workspace), ctx.set_id, "Ana")) == 3
    assert pane.choice == "yes"  # going back shows the answer given, from memory


def test_a_late_decode_is_drawn_when_it_arrives(qtbot, ctx):
    pane = _pane(qtbot, ctx)
    gate = threading.Event()
    pane._worker.run(lambda: gate.wait(10), lambda _: None, lambda _: None)  # prefetches queue behind this
    try:
        pane.start()
        assert not pane.image.pixmap().isNull()  # the first image is decoded at once
        qtbot.keyClick(pane, Qt.Key.Key_Right)
        assert pane.image.pixmap().isNull() and pane.image.text() == "Loading..."
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not pane.image.pixmap().isNull(), timeout=5000)
    assert pane.image.pixmap().width() > 0


def test_review_shows_every_answered_question_and_enter_in_the_comment_confirms_once(qtbot, ctx):
    pane = _open(qtbot, ctx)
    _answer_all(qtbot, pane)
    pane.review.setChecked(True)  # restarts in review mode
    seen = []
    for _ in range(len(pane.session.order)):
        seen.append((pane.session.order[pane.session.position]["id"], pane.question, pane.choice))
        qtbot.keyClick(pane, Qt.Key.Key_Right)
    items = AnnotationStore(ctx.workspace).items(ctx.set_id)
    video_item = next(i["id"] for i in items if i["video_url"])
    assert sorted((i, q) for i, q, _ in seen) == sorted(
        [(i["id"], "screenshot") for i in items] + [(video_item, "video")]
    )
    assert {c for _, _, c in seen} == {"yes"}
    pane.session.position = 0
    pane._show()
    first = pane.session.order[0]
    qtbot.keyClick(pane, N)
    pane.comment.setFocus()
    qtbot.keyClicks(pane.comment, "on second look")
    qtbot.keyClick(pane.comment, ENTER)
    assert pane.session.position == 1  # one confirm, not one from the field and one from the pane
    now = [
        a
        for a in AnnotationStore(ctx.workspace).current(ctx.set_id, "Ana")
        if a["item_id"] == first["id"] and a["question"] == first["question"]
    ]
    assert [(a["answer"], a["comment"]) for a in now] == [("no", "on second look")]
    assert len(AnnotationStore(ctx.workspace).current(ctx.set_id, "Ana")) == 5  # nothing else changed


def test_skipped_items_come_back_after_the_last(qtbot, ctx):
    pane = _open(qtbot, ctx)
    skipped = pane.session.order[0]["id"]
    qtbot.keyClick(pane, Qt.Key.Key_Right)
    for _ in range(10):
        if pane.session.order[pane.session.position]["id"] == skipped:
            break
        qtbot.keyClick(pane, Y)
        qtbot.keyClick(pane, ENTER)
    assert pane.session.order[pane.session.position]["id"] == skipped and pane.question == "screenshot"
    assert "all done" not in pane.progress.full_text()
    _answer_all(qtbot, pane)
    assert len(AnnotationStore(ctx.workspace).current(ctx.set_id, "Ana")) == 5


# -- sets and results ---------------------------------------------------------------------
def test_results_tab_shows_table9_for_two_annotators(qtbot, ctx):
    for name in ("Ana", "Ben"):
        _answer_all(qtbot, _open(qtbot, ctx, name))
    pane = _open(qtbot, ctx, "Ana")
    pane.tabs.setCurrentWidget(pane.results)
    _report_shown(qtbot, pane.results)
    table = pane.results.table9
    assert _cell(table, "Overall", "screenshot\n% yes") == "100.0"
    assert _cell(table, "Power", "screenshot\nitems") == "4" and _cell(table, "Power", "screenshot\nraters") == "2"
    # all yes: agreement beyond chance is undefined, and said so
    assert _cell(table, "Overall", "screenshot\nFleiss' kappa") == "n/a"
    assert pane.results.disagreements.count() == 0


def test_create_a_representativeness_set_in_the_pane(qtbot, ctx, monkeypatch):
    """Sampling runs in a child-process job, like every job that may load torch: the GUI
    process's own sampling functions are never called."""
    from vspectrum_app.annotate import sampling

    def not_here(*args, **kwargs):
        raise AssertionError("sampled inside the GUI process")

    for name in ("create_representativeness_set", "create_value_set_by_retrieval"):
        monkeypatch.setattr(sampling, name, not_here)
    pane = _pane(qtbot, ctx)
    pane.tabs.setCurrentWidget(pane.results)
    panel = pane.results
    panel.new_name.setText("rep")
    panel.new_kind.setCurrentIndex(panel.new_kind.findData("representativeness"))
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    job = panel.create_job
    assert job is not None and job.args[:3] == ["annotate", "create", "rep"] and not panel.create_button.isEnabled()
    qtbot.waitUntil(lambda: pane.sets.count() == 2, timeout=60_000)
    created = AnnotationStore(ctx.workspace).get_set("rep")
    assert pane.sets.currentData() == created["id"]  # the new set is chosen
    assert [i["video_url"] for i in AnnotationStore(ctx.workspace).items(created["id"])] == ["https://example.test/v/0"]
    assert panel.status.full_text() == "Task set rep: 1 items"


def test_create_a_value_set_from_retrieval_in_the_pane(qtbot, indexed_workspace, tiny_clip):
    ctx = AppContext()
    ctx.settings.update(clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint)
    ctx.open_workspace(indexed_workspace.root)
    pane = _pane(qtbot, ctx)
    pane.tabs.setCurrentWidget(pane.results)
    panel = pane.results
    panel.new_name.setText("pilot")
    panel.new_values.setText("power, hedonism")
    for spin, value in ((panel.per_value, 3), (panel.k, 2), (panel.raters, 2), (panel.seed, 7)):
        spin.setValue(value)
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.sets.count() == 1, timeout=60_000)
    store = AnnotationStore(ctx.workspace)
    made = store.get_set("pilot")
    assert made["raters"] == 2 and pane.sets.currentData() == made["id"]
    # the same set as the core (and so the CLI) samples with these options
    again = create_value_set_by_retrieval(
        ctx.workspace, "again", tiny_clip, k=2, values=["Power", "Hedonism"], per_value=3, raters=2, seed=7
    )
    key = lambda s: [(i["image_id"], i["value"]) for i in store.items(s)]  # noqa: E731
    assert key(made["id"]) == key(again) and len(key(again)) == 6


def test_two_machines_exchange_answers_through_the_pane(qtbot, ctx, tmp_path, monkeypatch):
    ana = _open(qtbot, ctx, "Ana")
    _answer_all(qtbot, ana)
    ana.tabs.setCurrentWidget(ana.results)
    dialog_returns(monkeypatch, "getSaveFileName", str(tmp_path / "ana.json"))
    qtbot.mouseClick(ana.results.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ana.results.status.full_text().startswith("5 answers written"), timeout=10_000)

    # Ben's machine: the same screenshots; the set arrives with Ana's file
    ben_ctx = AppContext()
    _library(ben_ctx.open_workspace(tmp_path / "ben"))
    ben = _pane(qtbot, ben_ctx, "Ben")
    ben.tabs.setCurrentWidget(ben.results)
    dialog_returns(monkeypatch, "getOpenFileNames", [str(tmp_path / "ana.json")])
    qtbot.mouseClick(ben.results.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "5 answers added" in ben.results.status.full_text(), timeout=10_000)
    assert "task set created" in ben.results.status.full_text()
    assert ben.sets.currentData() == ctx.set_id
    qtbot.mouseClick(ben.start_button, Qt.MouseButton.LeftButton)
    _answer_all(qtbot, ben, (N, Y))
    ben.tabs.setCurrentWidget(ben.results)
    dialog_returns(monkeypatch, "getSaveFileName", str(tmp_path / "ben.json"))
    qtbot.mouseClick(ben.results.export_button, Qt.MouseButton.LeftButton)  # Ben's answers only
    qtbot.waitUntil(lambda: ben.results.status.full_text().startswith("5 answers written"), timeout=10_000)

    # back on Ana's machine: merge, then the agreement
    dialog_returns(monkeypatch, "getOpenFileNames", [str(tmp_path / "ben.json")])
    qtbot.mouseClick(ana.results.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "5 answers added" in ana.results.status.full_text(), timeout=10_000)
    qtbot.waitUntil(lambda: "Ana, Ben" in ana.results.summary.text(), timeout=10_000)  # the refreshed report
    report = set_report(ctx.workspace, ctx.set_id)
    kappa = report["overall"]["screenshot"]["fleiss_kappa"]
    assert kappa is not None and report["annotators"] == ["Ana", "Ben"]
    table = ana.results.table9
    assert _cell(table, "Overall", "screenshot\nFleiss' kappa") == f"{kappa:.3f}"
    assert (
        _cell(table, "Overall", "screenshot\nKrippendorff's alpha")
        == f"{report['overall']['screenshot']['krippendorff_alpha']:.3f}"
    )
    assert _cell(table, "Overall", "screenshot\nraters") == "2"
    assert "Ana, Ben" in ana.results.summary.text()

    # every "no" of Ben's is a disagreement; Enter on one opens it for review
    listed = ana.results.disagreements
    assert listed.count() == len(report["disagreements"]) == 3
    listed.setCurrentRow(0)
    listed.setFocus()
    qtbot.keyClick(listed, ENTER)
    first = report["disagreements"][0]
    assert ana.tabs.currentWidget() is ana.annotate_page and ana.review.isChecked()
    assert ana.session.order[ana.session.position]["id"] == first["item_id"] and ana.question == first["question"]
    assert "Ben: no" in ana.note.text() and ana.choice == "yes"
    assert len(AnnotationStore(ctx.workspace).history(ctx.set_id)) == 10  # the Enter confirmed nothing


def test_human_filtered_scores_beside_the_unfiltered(qtbot, ctx):
    from vspectrum_app.bench.store import RunStore

    ws = ctx.workspace
    store = AnnotationStore(ws)
    items = store.items(ctx.set_id)
    for n, item in enumerate(items):  # both annotators agree that the first three reflect Power
        for name in ("Ana", "Ben"):
            store.answer(item["id"], name, "screenshot", "yes" if n < 3 else "no")
    runs = RunStore(ws)
    run_id = runs.create_run(
        {"targets_label": ["model-a"]},
        [
            {
                "target": "model-a",
                "mode": "vlm",
                "value": "Power",
                "keyword": "power",
                "rank": n + 1,
                "image_id": i["image_id"],
                "image_sha256": i["image_sha256"],
                "repeat": 0,
            }
            for n, i in enumerate(items)
        ],
    )
    runs.finish_items(
        [(b["id"], ("yes", "yes", "no", "no")[n], ["yes"]) for n, b in enumerate(runs.items(run_id, None))]
    )
    ctx.runs_changed.emit()

    pane = _pane(qtbot, ctx)
    pane.tabs.setCurrentWidget(pane.results)
    assert pane.results.filtered.rowCount() == 0  # no run chosen yet
    pane.results.run.setCurrentIndex(pane.results.run.findData(run_id))
    qtbot.waitUntil(lambda: pane.results.filtered.rowCount() == 1, timeout=10_000)
    expected = filtered_scores(runs.items(run_id), agreed_images(ws, ctx.set_id))[0]
    table = pane.results.filtered
    assert [table.item(0, c).text() for c in range(table.columnCount())] == [
        "model-a",
        "vlm",
        "Power",
        "50.0 (4)",
        "66.7 (3)",
    ]
    assert (expected["score"], expected["n_filtered"]) == (50.0, 3)


# -- guidance (issue 12) ------------------------------------------------------------------
def test_enter_in_the_name_field_starts_and_guidelines_sit_beside_the_image(qtbot, ctx):
    pane = _pane(qtbot, ctx)
    assert pane.set_id is None
    qtbot.keyClick(pane.annotator, ENTER)
    assert pane.set_id == ctx.set_id
    guide = pane.guide.toPlainText()
    assert "Power" in guide and "social status, prestige" in guide and "Examples" in guide
    text = pane.progress.full_text()
    assert "you have finished 0 of 4" in text
    assert "also needs 1 other annotator" in text


def test_the_chosen_answer_is_unmistakable(qtbot, ctx):
    pane = _open(qtbot, ctx)
    qtbot.keyClick(pane, Y)
    yes, no = pane.buttons["yes"], pane.buttons["no"]
    assert yes.text().startswith("\u2714") and "bold" in yes.styleSheet() and "background" in yes.styleSheet()
    assert not no.text().startswith("\u2714") and no.styleSheet() == ""
    qtbot.keyClick(pane, N)
    assert no.text().startswith("\u2714") and yes.styleSheet() == ""


def test_long_set_names_are_not_cut_in_the_list(qtbot, ctx):
    long_name = "a task set with a very long descriptive name for the spring pilot study"
    ws = ctx.workspace
    ids = [r[0] for r in ws.db.execute("SELECT id FROM images")]
    create_value_set(ws, long_name, lambda v: ids, values=["Power"], per_value=2, raters=1)
    pane = _pane(qtbot, ctx)
    pane.reload_sets()
    row = pane.sets.findText(long_name, Qt.MatchFlag.MatchStartsWith)
    assert long_name in pane.sets.itemData(row, Qt.ItemDataRole.ToolTipRole)
    assert pane.sets.view().textElideMode() == Qt.TextElideMode.ElideMiddle
    assert pane.sets.view().minimumWidth() >= 400


def test_keyword_sets_are_named_in_plain_words(qtbot, ctx):
    pane = _pane(qtbot, ctx)
    with qtbot.waitSignal(pane.results.lists_loaded, timeout=10_000):
        pane.results.reload()
    box = pane.results.keyword_set
    assert box.count() >= 1
    assert "@" not in box.itemText(0) and "values" in box.itemText(0) and "keywords" in box.itemText(0)
    assert "@" in box.itemData(0, Qt.ItemDataRole.ToolTipRole)  # the exact id stays in the tooltip
