"""Answers from machines in other time zones: times compare as instants, never as strings
(issue 27, item 3)."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.annotate.exchange import export_answers, import_answers, instant
from vspectrum_app.annotate.sampling import create_value_set
from vspectrum_app.annotate.store import AnnotationError, AnnotationStore
from vspectrum_app.library.importer import add_image

LOCAL = "2026-12-07T10:25:00.000000+00:00"


@pytest.fixture
def answered(workspace, tmp_path):
    """A set with one item that Ana answered 'yes' here at 10:25Z, and an export of it."""
    ids = [add_image(workspace, make_image_bytes(seed=900), source_name="a.jpg")[0]]
    set_id = create_value_set(workspace, "s", lambda v: ids, values=["Power"], per_value=1)
    store = AnnotationStore(workspace)
    item = store.items(set_id)[0]
    store.answer(item["id"], "Ana", "screenshot", "yes", created_at=LOCAL)
    path = tmp_path / "ana.json"
    export_answers(workspace, set_id, "Ana", path)
    return store, set_id, path


def _import_one(workspace, path, tmp_path, created_at, answer="no"):
    doc = json.loads(path.read_text())
    doc["answers"] = [{**doc["answers"][0], "answer": answer, "created_at": created_at}]
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    return import_answers(workspace, other)


def test_an_earlier_answer_written_with_a_later_clock_face_does_not_supersede(workspace, answered, tmp_path):
    store, set_id, path = answered
    # 12:00 at +05:00 is 07:00Z: older than the local 10:25Z although "12:00" > "10:25" as text
    report = _import_one(workspace, path, tmp_path, "2026-12-07T12:00:00+05:00")
    assert report.added == 1
    assert [a["answer"] for a in store.current(set_id, "Ana")] == ["yes"]


def test_a_later_answer_written_with_an_earlier_clock_face_supersedes(workspace, answered, tmp_path):
    store, set_id, path = answered
    # 09:00 at -05:00 is 14:00Z: newer than 10:25Z although "09:00" < "10:25" as text
    _import_one(workspace, path, tmp_path, "2026-12-07T09:00:00-05:00")
    assert [a["answer"] for a in store.current(set_id, "Ana")] == ["no"]


def test_times_are_stored_in_utc_and_naive_ones_are_utc(workspace, answered, tmp_path):
    store, set_id, path = answered
    _import_one(workspace, path, tmp_path, "2026-12-07T09:00:00-05:00")
    _import_one(workspace, path, tmp_path, "2026-12-07T15:00:00", answer="not_sure")  # no offset: UTC
    times = sorted(a["created_at"] for a in store.history(set_id))
    assert times == [LOCAL, "2026-12-07T14:00:00.000000+00:00", "2026-12-07T15:00:00.000000+00:00"]
    assert [a["answer"] for a in store.current(set_id, "Ana")] == ["not_sure"]


def test_the_same_instant_in_another_spelling_is_a_duplicate(workspace, answered, tmp_path):
    store, set_id, path = answered
    report = _import_one(workspace, path, tmp_path, "2026-12-07T15:25:00+05:00", answer="yes")
    assert (report.added, report.duplicates) == (0, 1)
    report = _import_one(workspace, path, tmp_path, "2026-12-07T10:25:00Z", answer="yes")
    assert (report.added, report.duplicates) == (0, 1)
    assert len(store.history(set_id)) == 1


def test_order_within_one_file_follows_instants(workspace, answered, tmp_path):
    store, set_id, path = answered
    doc = json.loads(path.read_text())
    first = {**doc["answers"][0], "answer": "no", "created_at": "2026-12-07T20:00:00+09:00"}  # 11:00Z
    second = {**doc["answers"][0], "answer": "not_sure", "created_at": "2026-12-07T08:00:00-04:00"}  # 12:00Z
    doc["answers"] = [first, second]
    (tmp_path / "two.json").write_text(json.dumps(doc))
    import_answers(workspace, tmp_path / "two.json")
    assert [a["answer"] for a in store.current(set_id, "Ana")] == ["not_sure"]
    assert sum(not a["superseded"] and not a["retracted"] for a in store.history(set_id)) == 1


def test_a_time_that_leaves_the_calendar_in_utc_is_one_sentence(workspace, answered, tmp_path):
    _, _, path = answered
    with pytest.raises(AnnotationError, match="expected a date and time"):
        _import_one(workspace, path, tmp_path, "0001-01-01T00:00:00+05:00")


def test_instant():
    assert instant("2026-12-07T12:00:00+05:00") == instant("2026-12-07T07:00:00Z") == instant("2026-12-07T07:00:00")


def test_an_answer_dated_days_ahead_is_refused_whole(workspace, answered, tmp_path):
    """It would stay current whatever the annotator answers later on another machine."""
    store, set_id, path = answered
    with pytest.raises(AnnotationError, match="field 'created_at': expected a time that has passed, got '9999-"):
        _import_one(workspace, path, tmp_path, "9999-12-31T23:59:59+00:00")
    ahead = (datetime.now(timezone.utc) + timedelta(hours=20)).isoformat()  # a fast clock: accepted
    assert _import_one(workspace, path, tmp_path, ahead).added == 1
    assert len(store.history(set_id)) == 2
