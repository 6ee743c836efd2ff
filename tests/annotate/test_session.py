"""The annotation walk-through without a window: the annotator's order, resume, the video
question after the screenshot's, skipped items coming back, review and undo; and the same walk
from the command line (``annotate next`` / ``answer`` / ``undo``), state kept in the store."""

from __future__ import annotations

import json

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.annotate.sampling import annotator_order, create_value_set
from vspectrum_app.annotate.session import AnnotationSession, answered
from vspectrum_app.annotate.store import AnnotationError, AnnotationStore
from vspectrum_app.cli import main
from vspectrum_app.library.importer import add_image


@pytest.fixture
def pilot(workspace):
    """Four screenshots in a value set, the first with a video link (so it has two questions)."""
    ids = [
        add_image(
            workspace,
            make_image_bytes(seed=300 + i),
            source_name=f"{i}.jpg",
            meta={"video_url": f"https://example.test/v/{i}"} if i == 0 else {},
        )[0]
        for i in range(4)
    ]
    return create_value_set(workspace, "pilot", lambda v: ids, values=["Power"], per_value=4, raters=2)


def _walk(session: AnnotationSession, answer: str = "yes") -> list[tuple[int, str]]:
    """Answer until every question is answered; the (item, question) pairs in the order asked."""
    asked = []
    while session.done < len(session.items):
        step = session.current()
        asked.append((step.item["id"], step.question))
        session.answer(answer)
        assert len(asked) < 20
    return asked


def test_walk_in_the_annotators_order_screenshot_before_video(workspace, pilot):
    store = AnnotationStore(workspace)
    session = AnnotationSession(store, "pilot", " Ana ")
    assert session.annotator == "Ana" and session.set_id == pilot
    assert [i["id"] for i in session.order] == [i["id"] for i in annotator_order(store.items(pilot), pilot, "Ana")]
    first = session.current()
    assert (first.position, first.total, first.question, first.answer) == (0, 4, "screenshot", None)
    assert first.text == "Does this screenshot reflect the value of Power?"
    asked = _walk(session)
    video_item = next(i["id"] for i in store.items(pilot) if i["video_url"])
    expected = [(i["id"], "screenshot") for i in session.order]
    expected.insert(expected.index((video_item, "screenshot")) + 1, (video_item, "video"))
    assert asked == expected
    assert session.progress_text().endswith("all done, thank you!")
    assert "also needs 1 other annotator" in session.progress_text()
    assert sorted(a["question"] for a in store.current(pilot, "Ana")) == ["screenshot"] * 4 + ["video"]


def test_resume_skipped_items_come_back_and_others_are_untouched(workspace, pilot):
    store = AnnotationStore(workspace)
    session = AnnotationSession(store, pilot, "Ana")
    skipped = session.current().item["id"]
    session.move(1)
    session.answer("no")
    # a fresh session (the window reopened, or the next CLI call) resumes at the skipped item
    assert AnnotationSession(store, pilot, "Ana").current().item["id"] == skipped
    for _ in range(10):  # answering on, the walk wraps round past the end back to the skipped item
        if session.current().item["id"] == skipped:
            break
        session.answer("yes")
    assert session.current().item["id"] == skipped and session.current().question == "screenshot"
    again = AnnotationSession(store, pilot, "Ana")
    assert again.current().item["id"] == skipped and again.done == len(again.items) - 1
    assert AnnotationSession(store, pilot, "Ben").done == 0  # another annotator's walk is their own


def _plain(session: AnnotationSession) -> int:
    """An item with the screenshot question alone (the walk's order is the annotator's, random per set)."""
    return next(i["id"] for i in session.order if not i["video_url"])


def test_move_stays_inside_the_set_and_shows_the_answer_given(workspace, pilot):
    session = AnnotationSession(AnnotationStore(workspace), pilot, "Ana")
    assert session.move(-5).position == 0
    assert session.goto(_plain(session))
    session.answer("not_sure")
    assert session.goto(_plain(session)) and session.current().answer == "not_sure"
    assert session.move(99).position == 3


def test_undo_retracts_the_latest_answer_and_returns_to_it(workspace, pilot):
    store = AnnotationStore(workspace)
    session = AnnotationSession(store, pilot, "Ana")
    assert session.undo() is None  # nothing to undo
    first = _plain(session)
    session.answer("yes", item_id=first)
    session.answer("no", item_id=first)  # changed: the "yes" is superseded, kept
    session.move(2)
    undone = session.undo()
    assert (undone["item_id"], undone["answer"]) == (first, "no")
    step = session.current()
    assert step.item["id"] == first and step.answer == "yes"  # the answer before it is current again
    assert len(store.history(pilot)) == 2


def test_review_walks_every_answered_question_and_changes_one(workspace, pilot):
    store = AnnotationStore(workspace)
    _walk(AnnotationSession(store, pilot, "Ana"))
    review = AnnotationSession(store, pilot, "Ana", review=True)
    assert review.position == 0 and len(review.order) == 5
    assert {(s.item["id"], s.question) for s in (review.move(0 if n == 0 else 1) for n in range(5))} == {
        (a["item_id"], a["question"]) for a in store.current(pilot, "Ana")
    }
    assert review.next_open() is None
    video = next(i for i in review.order if i["question"] == "video")
    assert review.goto(video["id"], "video") and review.current().question == "video"
    review.answer("no", comment="on second look")
    assert review.progress_text().startswith("Reviewing answer")
    now = {(a["item_id"], a["question"]): (a["answer"], a["comment"]) for a in store.current(pilot, "Ana")}
    assert now[(video["id"], "video")] == ("no", "on second look") and len(now) == 5
    assert answered(store, pilot, "Ana", video["id"]) == {"screenshot", "video"}


def test_bad_input_is_one_sentence(workspace, pilot):
    store = AnnotationStore(workspace)
    with pytest.raises(AnnotationError, match="annotator's name"):
        AnnotationSession(store, pilot, "  ")
    with pytest.raises(AnnotationError, match="no annotation set"):
        AnnotationSession(store, "nope", "Ana")
    session = AnnotationSession(store, pilot, "Ana")
    with pytest.raises(AnnotationError, match="not in task set pilot"):
        session.answer("yes", item_id=10_000)
    plain = next(i["id"] for i in session.items if not i["video_url"])
    with pytest.raises(AnnotationError, match="has no 'video' question"):
        session.answer("yes", item_id=plain, question="video")
    with pytest.raises(AnnotationError, match="invalid answer"):
        session.answer("maybe")
    assert store.current(pilot) == []
    empty = AnnotationSession(store, pilot, "Ana", review=True)  # nothing answered: nothing to review
    assert empty.current() is None
    with pytest.raises(AnnotationError, match="nothing to answer"):
        empty.answer("yes")


def _cli(workspace, capsys, *args) -> tuple[int, dict]:
    code = main(["-w", str(workspace.root), "annotate", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_cli_next_and_answer_walk_the_same_order_as_the_pane(workspace, pilot, capsys):
    store = AnnotationStore(workspace)
    expected = _walk(AnnotationSession(store, pilot, "Model"))  # the order a session asks in
    asked = []
    while True:
        code, step = _cli(workspace, capsys, "next", "pilot", "--annotator", "Ana")
        assert code == 0
        if step["done"]:
            break
        assert step["image"].endswith(".jpg") or step["image"].endswith(".png")
        asked.append((step["item_id"], step["question"]))
        assert (
            _cli(
                workspace,
                capsys,
                "answer",
                "pilot",
                "yes",
                "--annotator",
                "Ana",
                "--item",
                str(step["item_id"]),
                "--question",
                step["question"],
            )[0]
            == 0
        )
        assert len(asked) < 20
    ana = annotator_order(store.items(pilot), pilot, "Ana")
    by_item = {i: [q for j, q in expected if j == i] for i, _ in expected}
    assert asked == [(i["id"], q) for i in ana for q in by_item[i["id"]]]  # Ana's own order, same questions
    assert sorted(a["question"] for a in store.current(pilot, "Ana")) == ["screenshot"] * 4 + ["video"]


def test_cli_answer_without_item_answers_the_next_question_and_undo(workspace, pilot, capsys):
    code, step = _cli(workspace, capsys, "next", "pilot", "--annotator", "Ana")
    assert _cli(workspace, capsys, "answer", "pilot", "not_sure", "--annotator", "Ana", "--comment", "dark")[0] == 0
    current = AnnotationStore(workspace).current(pilot, "Ana")
    assert [(a["item_id"], a["question"], a["answer"], a["comment"]) for a in current] == [
        (step["item_id"], step["question"], "not_sure", "dark")
    ]
    code, undone = _cli(workspace, capsys, "undo", "pilot", "--annotator", "Ana")
    assert code == 0 and undone["undone"]["item_id"] == step["item_id"]
    assert AnnotationStore(workspace).current(pilot, "Ana") == []


def test_cli_refuses_bad_answers_in_one_sentence(workspace, pilot, capsys):
    assert (
        main(["-w", str(workspace.root), "annotate", "answer", "pilot", "yes", "--annotator", "Ana", "--item", "99999"])
        != 0
    )
    err = capsys.readouterr().err
    assert "not in task set pilot" in err and "Traceback" not in err
    with pytest.raises(SystemExit):  # argparse: not one of yes / no / not_sure
        main(["-w", str(workspace.root), "annotate", "answer", "pilot", "maybe", "--annotator", "Ana"])
    assert AnnotationStore(workspace).current(pilot) == []


def test_cli_review_lists_the_answers_in_the_review_order(workspace, pilot, capsys):
    store = AnnotationStore(workspace)
    assert _cli(workspace, capsys, "review", "pilot", "--annotator", "Ana") == (0, [])
    _walk(AnnotationSession(store, pilot, "Ana"), answer="no")
    code, rows = _cli(workspace, capsys, "review", "pilot", "--annotator", "Ana")
    review = AnnotationSession(store, pilot, "Ana", review=True)
    assert code == 0 and [(r["item_id"], r["question"]) for r in rows] == [
        (i["id"], i["question"]) for i in review.order
    ]
    assert {r["answer"] for r in rows} == {"no"} and len(rows) == 5
    assert main(["-w", str(workspace.root), "annotate", "review", "pilot", "--annotator", "Ana"]) == 0
    assert "5 answers; change one with" in capsys.readouterr().out
