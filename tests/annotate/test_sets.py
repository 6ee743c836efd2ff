"""Task sets, answers with history, undo, merging two annotators' exports, the report."""

import json

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.annotate.exchange import export_answers, import_answers
from vspectrum_app.annotate.report import agreed_images, filtered_scores, set_report
from vspectrum_app.annotate.sampling import (
    annotator_order,
    create_representativeness_set,
    create_value_set,
    questions_for,
)
from vspectrum_app.annotate.store import AnnotationError, AnnotationStore
from vspectrum_app.library.importer import add_image
from vspectrum_app.library.catalog import open_workspace


def _library(ws, n=12):
    ids = []
    for i in range(n):
        meta = {"video_url": f"https://example.test/v/{i}"} if i % 2 == 0 else {}
        ids.append(add_image(ws, make_image_bytes(seed=200 + i), source_name=f"{i}.jpg", meta=meta)[0])
    return ids


def test_value_set_is_seeded_and_orders_differ_per_annotator(workspace):
    ids = _library(workspace)

    def retrieve(value):
        return ids[:8] if value == "Power" else ids[4:]

    a = create_value_set(workspace, "pilot", retrieve, values=["Power", "Hedonism"], per_value=5, seed=7)
    b = create_value_set(workspace, "pilot again", retrieve, values=["Power", "Hedonism"], per_value=5, seed=7)
    store = AnnotationStore(workspace)
    items_a, items_b = store.items(a), store.items(b)
    assert len(items_a) == 10
    assert [(i["image_id"], i["value"]) for i in items_a] == [(i["image_id"], i["value"]) for i in items_b]
    ann = annotator_order(items_a, a, "Ana")
    assert ann == annotator_order(items_a, a, " ana ") and ann != annotator_order(items_a, a, "Ben")
    with_video = next(i for i in items_a if i["video_url"])
    assert questions_for("value", with_video) == ["screenshot", "video"]
    rep = create_representativeness_set(workspace, "rep", size=100)
    assert all(i["video_url"] for i in store.items(rep)) and len(store.items(rep)) == 6


def test_changed_answer_keeps_history_and_undo_restores(workspace):
    ids = _library(workspace, 3)
    set_id = create_value_set(workspace, "s", lambda v: ids, values=["Power"], per_value=3)
    store = AnnotationStore(workspace)
    item = store.items(set_id)[0]["id"]
    store.answer(item, "Ana", "screenshot", "yes", seconds=2.0)
    store.answer(item, "Ana", "screenshot", "no", comment="on second look")
    current = store.current(set_id, "Ana")
    assert [(a["answer"], a["comment"]) for a in current] == [("no", "on second look")]
    assert [a["answer"] for a in store.history(set_id)] == ["yes", "no"]
    store.undo(set_id, "Ana")
    assert [a["answer"] for a in store.current(set_id, "Ana")] == ["yes"]
    assert len(store.history(set_id)) == 2  # nothing deleted
    with pytest.raises(AnnotationError):
        store.answer(item, "Ana", "screenshot", "maybe")


def test_two_annotators_on_two_machines_merge(tmp_path):
    lead = open_workspace(tmp_path / "lead")
    ids = _library(lead, 6)
    set_id = create_value_set(lead, "s", lambda v: ids, values=["Power"], per_value=6, raters=2)
    # the annotators' machines hold copies of the workspace
    import shutil

    lead.close()
    shutil.copytree(tmp_path / "lead", tmp_path / "ana")
    shutil.copytree(tmp_path / "lead", tmp_path / "ben")
    plan = {"Ana": ["yes", "yes", "yes", "no", "no", "yes"], "Ben": ["yes", "yes", "no", "no", "yes", "yes"]}
    for name in plan:
        ws = open_workspace(tmp_path / name.lower())
        store = AnnotationStore(ws)
        for item, answer in zip(store.items(set_id), plan[name]):
            store.answer(item["id"], name, "screenshot", answer)
        export_answers(ws, set_id, name, tmp_path / f"{name}.json")
        ws.close()
    lead = open_workspace(tmp_path / "lead")
    for name in plan:
        report = import_answers(lead, tmp_path / f"{name}.json")
        assert (report.added, report.duplicates) == (6, 0)
    again = import_answers(lead, tmp_path / "Ana.json")
    assert (again.added, again.duplicates) == (0, 6)
    r = set_report(lead, set_id)
    shot = r["overall"]["screenshot"]
    assert (shot["items"], shot["raters"], shot["ratings"]) == (6, 2, 12)
    assert shot["pct_yes"] == pytest.approx(100 * 8 / 12)
    # by hand: 4 agreements of 6; p_yes = 8/12, p_no = 4/12
    pe = (8 / 12) ** 2 + (4 / 12) ** 2
    assert shot["fleiss_kappa"] == pytest.approx((4 / 6 - pe) / (1 - pe))
    assert len(r["disagreements"]) == 2
    agreed = agreed_images(lead, set_id)
    assert len(agreed["Power"]) == 3  # both said yes
    lead.close()


def test_import_keeps_answers_for_screenshots_it_lacks(tmp_path):
    a = open_workspace(tmp_path / "a")
    ids = _library(a, 2)
    set_id = create_value_set(a, "s", lambda v: ids, values=["Power"], per_value=2)
    store = AnnotationStore(a)
    for item in store.items(set_id):
        store.answer(item["id"], "Ana", "screenshot", "yes")
    export_answers(a, set_id, "Ana", tmp_path / "ana.json")
    doc = json.loads((tmp_path / "ana.json").read_text())
    doc["answers"][0]["image_sha256"] = "0" * 64  # a screenshot the target does not have
    (tmp_path / "ana.json").write_text(json.dumps(doc))
    b = open_workspace(tmp_path / "b")
    _library(b, 2)
    report = import_answers(b, tmp_path / "ana.json")
    assert (report.set_created, report.added, report.unmatched) == (True, 1, 1)
    assert b.db.execute("SELECT COUNT(*) FROM ann_unmatched").fetchone()[0] == 1


def test_filtered_scores_use_only_agreed_screenshots():
    answers = [
        {
            "target": "m",
            "mode": "vlm",
            "value": "Power",
            "image_sha256": f"s{i}",
            "answer_class": "yes" if i < 3 else "no",
        }
        for i in range(6)
    ]
    rows = filtered_scores(answers, {"Power": {"s0", "s1", "s3"}})
    assert rows[0]["score"] == pytest.approx(50.0)
    assert rows[0]["n_filtered"] == 3 and rows[0]["score_filtered"] == pytest.approx(100 * 2 / 3)
