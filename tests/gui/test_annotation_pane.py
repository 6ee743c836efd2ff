"""An annotator works through a task set with the keyboard alone."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.plugins.library import make_image_bytes
from vspectrum_app.annotate.report import set_report
from vspectrum_app.annotate.sampling import create_value_set
from vspectrum_app.annotate.store import AnnotationStore
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes.annotation import AnnotationPane
from vspectrum_app.library.importer import add_image

pytestmark = pytest.mark.gui


@pytest.fixture
def ctx(tmp_path):
    ctx = AppContext()
    ws = ctx.open_workspace(tmp_path / "ws")
    ids = [add_image(ws, make_image_bytes(seed=300 + i), source_name=f"{i}.jpg",
                     meta={"video_url": f"https://example.test/v/{i}"} if i == 0 else {})[0] for i in range(4)]
    ctx.set_id = create_value_set(ws, "pilot", lambda v: ids, values=["Power"], per_value=4, raters=2)
    return ctx


def _open(qtbot, ctx, name="Ana"):
    pane = AnnotationPane(ctx)
    qtbot.addWidget(pane)
    pane.show()
    pane.annotator.setText(name)
    pane.start()
    return pane


def test_keyboard_only_completion(qtbot, ctx):
    pane = _open(qtbot, ctx)
    assert "reflect the value of Power" in pane.question_label.text()
    keys = []
    while "all done" not in pane.progress.text():
        key = Qt.Key.Key_Y if len(keys) % 2 == 0 else Qt.Key.Key_N
        qtbot.keyClick(pane, key)
        qtbot.keyClick(pane, Qt.Key.Key_Return)
        keys.append(key)
        assert len(keys) < 20
    answers = AnnotationStore(ctx.workspace).current(ctx.set_id, "Ana")
    # 4 screenshots, and the video question for the one item that has a link
    assert sorted(a["question"] for a in answers) == ["screenshot"] * 4 + ["video"]
    assert all(a["seconds"] is not None for a in answers)
    video = next(a for a in answers if a["question"] == "video")
    shot = next(a for a in answers if a["question"] == "screenshot" and a["item_id"] == video["item_id"])
    assert shot["id"] < video["id"]  # the screenshot is judged before the video


def test_enter_without_a_choice_records_nothing_and_undo_goes_back(qtbot, ctx):
    pane = _open(qtbot, ctx)
    qtbot.keyClick(pane, Qt.Key.Key_Return)
    assert AnnotationStore(ctx.workspace).current(ctx.set_id) == []
    first = pane.order[pane.position]["id"]
    qtbot.keyClick(pane, Qt.Key.Key_S)
    qtbot.keyClick(pane, Qt.Key.Key_Return)
    qtbot.keyClick(pane, Qt.Key.Key_U)
    assert AnnotationStore(ctx.workspace).current(ctx.set_id) == []
    assert pane.order[pane.position]["id"] == first
    assert len(AnnotationStore(ctx.workspace).history(ctx.set_id)) == 1  # kept, marked retracted


def test_resume_after_closing_mid_set(qtbot, ctx):
    pane = _open(qtbot, ctx)
    done_first = []
    for _ in range(2):
        done_first.append(pane.order[pane.position]["id"])
        qtbot.keyClick(pane, Qt.Key.Key_Y)
        qtbot.keyClick(pane, Qt.Key.Key_Return)
    pane.close()
    pane.deleteLater()
    again = _open(qtbot, ctx)
    assert again.order[again.position]["id"] not in done_first or again.question == "video"
    assert [i["id"] for i in again.order] == [i["id"] for i in pane.order]  # the same personal order


def test_two_annotators_then_report(qtbot, ctx):
    for name, key in (("Ana", Qt.Key.Key_Y), ("Ben", Qt.Key.Key_Y)):
        pane = _open(qtbot, ctx, name)
        while "all done" not in pane.progress.text():
            qtbot.keyClick(pane, key)
            qtbot.keyClick(pane, Qt.Key.Key_Return)
    report = set_report(ctx.workspace, ctx.set_id)
    shot = report["overall"]["screenshot"]
    assert shot["pct_yes"] == 100 and shot["raters"] == 2 and shot["items"] == 4
    assert shot["fleiss_kappa"] is None  # all yes: agreement beyond chance is undefined
