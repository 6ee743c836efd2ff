"""Reports end to end: answers that saw no image, parser versions and reclassification,
the paper-style switch, counts in every table."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.bench.test_engine import _provider, _run, reddish
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench.parsing import PARSER_VERSION
from vspectrum_app.bench.report import parser_warning, run_report, to_csv, to_table
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main


def test_no_image_is_an_error_that_resume_asks_again(indexed_workspace, tiny_clip, monkeypatch, capsys):
    """The first time each image is asked, the 'model' says it saw none (an attachment lost on
    the way); the run stops with those items as errors, the report counts them apart from
    the scores, and resume sends them again instead of replaying the cached text."""
    asked: set = set()

    def flaky(req):
        if req.turn == 1 and req.image is not None and req.image not in asked:
            asked.add(req.image)
            return "I cannot see any image in your message."
        return reddish(req)

    server = FakeVLMServer(answer=flaky).start()
    try:
        monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
        _provider(server)
        assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 1  # not done
        store = RunStore(indexed_workspace)
        run_id = store.runs()[-1]["id"]
        items = store.items(run_id, status=None)
        assert {(i["status"], i["answer_class"]) for i in items} == {("error", "no_image")}
        report = run_report(indexed_workspace, run_id)
        assert report["progress"]["no_image"] == len(items) == report["progress"]["errors"]
        cell = report["scores"][0]
        assert (cell["n"], cell["no_image"], cell["score"]) == (0, len(items), None)
        assert "saw no image" in to_table(report)
        sent = len(server.log)
        assert main(["-w", str(indexed_workspace.root), "bench", "resume", run_id]) == 0
        assert len(server.log) > sent  # asked again, not answered from the cache
        items = store.items(run_id, status=None)
        assert all(i["status"] == "done" and i["answer_class"] in ("yes", "no") for i in items)
        assert run_report(indexed_workspace, run_id)["progress"]["no_image"] == 0
    finally:
        server.stop()


def _old_run(ws, answers: list[tuple[str, str]]) -> str:
    """A run classified by an older parser: manifest without a parser version, stored classes."""
    store = RunStore(ws)
    items = [
        {
            "target": "lab:m1",
            "mode": "vlm",
            "value": "Power",
            "keyword": "k",
            "rank": i,
            "image_id": i,
            "image_sha256": f"sha{i}",
            "repeat": 0,
        }
        for i in range(len(answers))
    ]
    run_id = store.create_run({"seed": 0}, items)
    manifest = store.manifest(run_id)
    del manifest["parser_version"]
    with ws.transaction() as conn:
        conn.execute("UPDATE bench_runs SET manifest_json = ? WHERE id = ?", (json.dumps(manifest), run_id))
    rows = store.items(run_id, status=None)
    store.finish_items([(r["id"], cls, [text, "why", "what"]) for r, (text, cls) in zip(rows, answers)])
    return run_id


def test_new_runs_record_the_parser_version(workspace):
    store = RunStore(workspace)
    run_id = store.create_run({"seed": 0}, [])
    assert store.manifest(run_id)["parser_version"] == PARSER_VERSION
    assert run_report(workspace, run_id)["parser"] == {"run": PARSER_VERSION, "current": PARSER_VERSION, "stale": False}


def test_reclassify_lists_and_applies_changes(workspace, capsys):
    run_id = _old_run(
        workspace,
        [
            ("Not sure", "yes"),
            ("Yes.", "yes"),
            ("Sorry, no.", "refusal"),
            ("I cannot see any image.", "refusal"),
            ("No", "no"),
        ],
    )
    report = run_report(workspace, run_id)
    assert report["parser"]["stale"] and report["parser"]["run"] == 1
    assert "reclassify" in to_table(report) and parser_warning([report])
    ws = str(workspace.root)
    assert main(["-w", ws, "bench", "reclassify", run_id, "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "yes -> unparsed" in out.out and "refusal -> no" in out.out and "refusal -> no_image" in out.out
    assert "3 classes would change" in out.err
    assert RunStore(workspace).items(run_id)[0]["answer_class"] == "yes"  # nothing written
    assert main(["-w", ws, "bench", "reclassify", run_id, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [(c["old"], c["new"]) for c in result["changes"]] == [
        ("yes", "unparsed"),
        ("refusal", "no"),
        ("refusal", "no_image"),
    ]
    store = RunStore(workspace)
    manifest = store.manifest(run_id)
    assert manifest["parser_version"] == PARSER_VERSION and manifest["reclassified"][0]["changed"] == 3
    items = {i["answer1"]: i for i in store.items(run_id, status=None)}
    assert items["I cannot see any image."]["status"] == "error"  # resume asks it again
    report = run_report(workspace, run_id)
    assert not report["parser"]["stale"] and parser_warning([report]) is None
    cell = report["scores"][0]
    assert (cell["n"], cell["yes"], cell["no"], cell["unparsed"], cell["no_image"]) == (4, 1, 2, 1, 1)
    assert main(["-w", ws, "bench", "reclassify", run_id]) == 0
    assert "0 classes changed" in capsys.readouterr().err


def test_api_refusals_survive_reclassification(workspace):
    run_id = _old_run(workspace, [(None, "refusal"), ("Yes", "yes")])
    assert RunStore(workspace).reclassify(run_id) == []


def test_mixed_parser_versions_are_flagged(workspace):
    old = run_report(workspace, _old_run(workspace, [("Yes", "yes")]))
    new = run_report(workspace, RunStore(workspace).create_run({"seed": 0}, []))
    warning = parser_warning([old, new])
    assert warning and old["run_id"] in warning and new["run_id"] not in warning


def test_paper_style_switch_and_counts_in_every_table(workspace, capsys):
    run_id = _old_run(
        workspace, [("Yes.", "yes"), ("eyes", "unparsed"), ("No", "no"), ("I'm sorry, I can't help", "refusal")]
    )
    RunStore(workspace).reclassify(run_id)
    ws = str(workspace.root)
    assert main(["-w", ws, "bench", "report", run_id, "--format", "csv"]) == 0
    ours = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))[0]
    assert {k: ours[k] for k in ("rule", "n", "yes", "no", "refusal", "unparsed", "no_image", "score")} == {
        "rule": "ours",
        "n": "4",
        "yes": "1",
        "no": "1",
        "refusal": "1",
        "unparsed": "1",
        "no_image": "0",
        "score": "50.0",
    }
    assert main(["-w", ws, "bench", "report", run_id, "--format", "csv", "--paper-style"]) == 0
    paper = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))[0]
    assert {k: paper[k] for k in ("rule", "n", "yes", "no", "refusal", "unparsed", "score")} == {
        "rule": "paper",
        "n": "4",
        "yes": "2",
        "no": "2",
        "refusal": "0",
        "unparsed": "0",
        "score": "50.0",
    }
    assert main(["-w", ws, "bench", "report", run_id, "--paper-style"]) == 0
    table = capsys.readouterr().out
    assert "paper-style score = 100 x (answers containing 'yes'" in table
    assert "n  yes   no  ref  unp" in table and "Wilson" in table
    assert (
        to_csv(run_report(workspace, run_id))
        .splitlines()[0]
        .startswith("run_id,target,mode,value,n,yes,no,refusal,unparsed")
    )


def test_comparisons_csv_from_the_cli(workspace, capsys):
    store = RunStore(workspace)
    items = [
        {
            "target": t,
            "mode": "vlm",
            "value": "Power",
            "keyword": "k",
            "rank": i,
            "image_id": i,
            "image_sha256": f"sha{i}",
            "repeat": 0,
        }
        for t in ("lab:a", "lab:b")
        for i in range(50)
    ]
    run_id = store.create_run({"seed": 0}, items)
    rows = store.items(run_id, status=None)
    # 50/50 against 46/50: the 4 disagreements on shared images give exact McNemar p = 0.125
    store.finish_items(
        [
            (
                r["id"],
                "no" if r["target"] == "lab:b" and r["rank"] < 4 else "yes",
                ["No" if r["target"] == "lab:b" and r["rank"] < 4 else "Yes"],
            )
            for r in rows
        ]
    )
    assert main(["-w", str(workspace.root), "bench", "report", run_id, "--comparisons", "--format", "csv"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["a"], row["b"], row["pairs"], row["only_a_yes"], row["only_b_yes"]) == (
        "lab:a",
        "lab:b",
        "50",
        "4",
        "0",
    )
    assert float(row["p"]) == pytest.approx(0.125) and row["within_noise"] == "True"
    assert main(["-w", str(workspace.root), "bench", "report", run_id]) == 0
    assert "1 of 1 value x model pairs: no difference at Holm p < 0.05" in capsys.readouterr().out


def _cell(value, score, low, high, mode="vlm", target="m"):
    return {
        "run_id": "r",
        "target": target,
        "mode": mode,
        "value": value,
        "score": score,
        "ci_low": low,
        "ci_high": high,
    }


def test_fig6_value_means_worked_example():
    """Fig. 6 by hand: the mean of the scored cells and the mean of their bounds; a cell without a
    score is left out, a scored cell without an interval leaves the value without one, text-mode
    cells are another figure, and a value whose cells all lack a score keeps its place, empty."""
    from vspectrum_app.bench.report import value_means

    scores = [
        _cell("Power", 80.0, 70.0, 88.0, target="a"),
        _cell("Power", 40.0, 30.0, 52.0, target="b"),
        _cell("Power", None, None, None, target="c"),  # no clear answer at all
        _cell("Hedonism", 50.0, 40.0, 60.0, target="a"),
        _cell("Hedonism", 70.0, None, None, target="b"),
        _cell("Achievement", 10.0, 5.0, 20.0, mode="text"),
        _cell("Security", None, None, None),
        _cell("Universalism", 100.0, 91.1, 100.0, target="a"),
        _cell("Universalism", 0.0, 0.0, 8.9, target="b"),
    ]
    rows = {r["value"]: r for r in value_means(scores)}
    assert list(rows) == ["Universalism", "Power", "Hedonism", "Security"]  # the order of SCHWARTZ_VALUES
    assert rows["Power"] == {"value": "Power", "models": 2, "mean": 60.0, "ci_low": 50.0, "ci_high": 70.0}
    assert rows["Hedonism"] == {"value": "Hedonism", "models": 2, "mean": 60.0, "ci_low": None, "ci_high": None}
    assert rows["Security"] == {"value": "Security", "models": 0, "mean": None, "ci_low": None, "ci_high": None}
    assert rows["Universalism"]["mean"] == 50.0  # 0 % and 100 % average like any other score
    assert (rows["Universalism"]["ci_low"], rows["Universalism"]["ci_high"]) == pytest.approx(
        ((91.1 + 0) / 2, (100 + 8.9) / 2)
    )
    assert [r["value"] for r in value_means(scores, mode="text")] == ["Achievement"]
    assert value_means([]) == []


def test_reclassify_rereads_version_2_answers_with_the_one_classifier(workspace):
    """Answers the version-2 parser misread (issue 26) change class on reclassify."""
    run_id = _old_run(
        workspace,
        [
            ("不确定", "no"),
            ("不错", "no"),
            ("Yes.\n\nNo.", "yes"),
            ("No doubt!", "no"),
            ("I'd rather not answer that.", "unparsed"),
        ],
    )
    store = RunStore(workspace)
    manifest = store.manifest(run_id)
    with workspace.transaction() as conn:
        conn.execute(
            "UPDATE bench_runs SET manifest_json = ? WHERE id = ?",
            (json.dumps({**manifest, "parser_version": 2}), run_id),
        )
    assert run_report(workspace, run_id)["parser"] == {"run": 2, "current": PARSER_VERSION, "stale": True}
    changes = {(c["old"], c["new"]) for c in store.reclassify(run_id)}
    assert changes == {("no", "unparsed"), ("no", "yes"), ("yes", "unparsed"), ("unparsed", "refusal")}
    assert [i["answer_class"] for i in store.items(run_id, status=None)] == [
        "unparsed",
        "yes",
        "unparsed",
        "yes",
        "refusal",
    ]


@pytest.mark.parametrize(
    "yes, no, unparsed, low, high",
    [(3, 1, 1, 60.0, 80.0), (5, 5, 0, 50.0, 50.0), (0, 0, 4, 0.0, 100.0), (0, 3, 1, 0.0, 25.0), (2, 0, 2, 50.0, 100.0)],
)
def test_unparsed_bounds(yes, no, unparsed, low, high):
    from vspectrum_app.bench.report import unparsed_bounds

    b = unparsed_bounds(yes, no, unparsed)
    assert (b["score_if_unparsed_no"], b["score_if_unparsed_yes"]) == (pytest.approx(low), pytest.approx(high))
    if yes + no:
        assert low <= 100 * yes / (yes + no) <= high  # the score lies between


def test_unparsed_bounds_of_an_empty_cell():
    from vspectrum_app.bench.report import unparsed_bounds

    assert unparsed_bounds(0, 0, 0) == {"score_if_unparsed_no": None, "score_if_unparsed_yes": None}


def test_unparsed_answers_are_visible_in_the_table_csv_and_json(workspace):
    run_id = _old_run(workspace, [("Yes", "yes")] * 3 + [("No", "no"), ("Maybe", "unparsed")])
    report = run_report(workspace, run_id)
    cell = report["scores"][0]
    assert (cell["unparsed"], cell["score"], cell["score_if_unparsed_no"], cell["score_if_unparsed_yes"]) == (
        1,
        75.0,
        60.0,
        80.0,
    )
    row = next(csv.DictReader(io.StringIO(to_csv(report))))
    assert (row["unparsed"], row["score_if_unparsed_no"], row["score_if_unparsed_yes"]) == ("1", "60.0", "80.0")
    table = to_table(report)
    assert "if unparsed no-yes" in table and "60-80" in table


def test_exports_keep_small_p_values():
    """An exact McNemar p of 2e-9 was written as 0.0 (rounded to 4 decimals)."""
    from vspectrum_app.bench.report import comparisons_csv

    report = {
        "noise": [
            {
                "value": "Power",
                "a": "a",
                "b": "b",
                "pairs": 30,
                "only_a_yes": 30,
                "only_b_yes": 0,
                "difference": 100.0,
                "p": 2 * 0.5**30,
                "p_holm": 2.2e-9,
                "within_noise": False,
            }
        ],
        "scores": [{"score": 1 / 3, "ci_low": 1e-7, "design_effect": 1.2345678}],
    }
    row = next(csv.DictReader(io.StringIO(comparisons_csv(report))))
    assert float(row["p"]) == 2 * 0.5**30 and float(row["p_holm"]) == 2.2e-9
    row = next(csv.DictReader(io.StringIO(to_csv(report))))
    assert float(row["score"]) == 1 / 3 and float(row["ci_low"]) == 1e-7 and float(row["design_effect"]) == 1.2345678
