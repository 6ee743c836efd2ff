"""Annotation files from someone else: a crafted file is refused whole, in one sentence, and
cannot skew Table 9 (issue 14, item 4)."""

import copy
import json

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.annotate.exchange import export_answers, import_answers
from vspectrum_app.annotate.report import set_report
from vspectrum_app.annotate.sampling import create_value_set
from vspectrum_app.annotate.store import AnnotationError, AnnotationStore
from vspectrum_app.cli import main
from vspectrum_app.library.importer import add_image


@pytest.fixture
def export(workspace, tmp_path):
    """A real export of one annotator's two answers, and the workspace it came from."""
    ids = [add_image(workspace, make_image_bytes(seed=400 + i), source_name=f"{i}.jpg")[0] for i in range(3)]
    set_id = create_value_set(workspace, "s", lambda v: ids, values=["Power"], per_value=3)
    store = AnnotationStore(workspace)
    items = store.items(set_id)
    store.answer(items[0]["id"], "Ana", "screenshot", "yes")
    store.answer(items[1]["id"], "Ana", "screenshot", "no", comment="fine")
    path = tmp_path / "answers.json"
    export_answers(workspace, set_id, "Ana", path)
    return path, set_id


def _answers(workspace, set_id):
    return [(a["annotator"], a["answer"]) for a in AnnotationStore(workspace).history(set_id)]


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("answer", "maybe", "item 2, field 'answer': expected one of yes, no, not_sure, got 'maybe'"),
        ("answer", 5, "field 'answer': expected one of yes, no, not_sure, got 5"),
        ("question", "why not", "field 'question': expected one of screenshot, video, representative, got 'why not'"),
        ("question", "representative", "a value task asks screenshot or video"),
        ("annotator", "  ", "field 'annotator': expected non-empty text"),
        ("created_at", 5, "field 'created_at': expected text, got 5"),
        ("created_at", "yesterday", "expected a date and time (ISO 8601), got 'yesterday'"),
        ("retracted", "no", "field 'retracted': expected true or false, got 'no'"),
        ("comment", "x" * 10_000_001, "field 'comment': text of at most 10,000 characters expected"),
        ("seconds", "slow", "field 'seconds': expected a number, got 'slow'"),
    ],
)
def test_a_crafted_answer_refuses_the_whole_file(workspace, export, tmp_path, field, value, expected):
    path, set_id = export
    doc = json.loads(path.read_text())
    before = _answers(workspace, set_id)
    doc["answers"][0]["annotator"] = "Mallory"  # a new answer that would be added if accepted
    doc["answers"][1] = {**doc["answers"][1], "annotator": "Mallory", field: value}
    bad = tmp_path / "crafted.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(AnnotationError) as err:
        import_answers(workspace, bad)
    assert str(err.value).startswith("crafted.json: field 'answers', item 2, field ")
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert _answers(workspace, set_id) == before  # nothing half-imported: the valid first answer is not in


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda d: d["set"].update(raters="three"),
            "field 'set', field 'raters': expected a whole number, got 'three'",
        ),
        (lambda d: d.update(answers={"a": 1}), "field 'answers': expected a list, got an object"),
        (lambda d: d.update(answers=[5]), "field 'answers', item 1: expected an object, got 5"),
        (lambda d: d.pop("set"), "field 'set': is missing"),
        (
            lambda d: d["items"][0].update(image_sha256=None),
            "field 'items', item 1, field 'image_sha256': expected text",
        ),
        (lambda d: d["answers"][0].pop("created_at"), "field 'answers', item 1, field 'created_at': is missing"),
        (lambda d: d.update(format="other/1"), "field 'format': expected one of vspectrum-annotations/1"),
    ],
)
def test_malformed_shapes_are_one_sentence_not_a_traceback(workspace, export, tmp_path, mutate, expected):
    path, set_id = export
    doc = json.loads(path.read_text())
    doc["set"]["id"] = "ann-other"  # a new set: nothing may be created either
    mutate(doc)
    bad = tmp_path / "shape.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(AnnotationError, match="^shape.json: ") as err:
        import_answers(workspace, bad)
    assert expected in str(err.value)
    assert [s["id"] for s in AnnotationStore(workspace).sets()] == [set_id]


@pytest.mark.parametrize("content", ["[1, 2]", "null", "{", "\u00ff\u00fe".encode("latin-1")])
def test_not_an_export_at_all(workspace, tmp_path, content):
    bad = tmp_path / "x.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(AnnotationError, match="^x.json: "):
        import_answers(workspace, bad)


def test_cli_refuses_a_crafted_file_and_the_report_is_unchanged(workspace, export, tmp_path, capsys):
    path, set_id = export
    root = str(workspace.root)
    doc = json.loads(path.read_text())
    crafted = copy.deepcopy(doc)
    crafted["answers"] = [{**a, "annotator": f"bot{n}", "answer": "maybe"} for n, a in enumerate(doc["answers"] * 3)]
    (tmp_path / "crafted.json").write_text(json.dumps(crafted))
    before = set_report(workspace, set_id)
    workspace.close()
    assert main(["-w", root, "annotate", "import", str(path), str(tmp_path / "crafted.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: crafted.json: field 'answers', item 1, field 'answer'") and "Traceback" not in err
    from vspectrum_app.library.catalog import open_workspace

    ws = open_workspace(workspace.root)
    try:
        after = set_report(ws, set_id)
        assert after["annotators"] == before["annotators"] == ["Ana"]
        assert after["overall"] == before["overall"]
    finally:
        ws.close()


def test_a_valid_export_still_round_trips(workspace, export, tmp_path):
    path, set_id = export
    doc = json.loads(path.read_text())
    for a in doc["answers"]:
        a["annotator"] = " Ben "  # stripped as the app does when answering
    other = tmp_path / "ben.json"
    other.write_text(json.dumps(doc))
    report = import_answers(workspace, other)
    assert (report.added, report.duplicates) == (2, 0)
    assert ("Ben", "yes") in _answers(workspace, set_id)
