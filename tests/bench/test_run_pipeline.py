"""Run-pipeline defects of issue 13 (cache key, policy blocks, modality comparison), with the
real SDKs against local test servers."""

from __future__ import annotations

import json

import pytest

from tests.bench.test_engine import _provider, _run, reddish
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench.intervals import holm, mcnemar_exact
from vspectrum_app.bench.modality import modality_comparison
from vspectrum_app.bench.report import run_report
from vspectrum_app.bench.store import RunStore


@pytest.fixture
def server():
    s = FakeVLMServer(answer=reddish).start()
    yield s
    s.stop()


def _last_run(ws):
    return RunStore(ws).runs()[-1]["id"]


def test_repointed_provider_does_not_return_the_old_servers_answers(indexed_workspace, tiny_clip, monkeypatch):
    """Item 10: the cache key holds the endpoint (and the provider's kind)."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    yes_server = FakeVLMServer(answer=lambda r: "Yes." if r.turn == 1 else "ok").start()
    no_server = FakeVLMServer(answer=lambda r: "No." if r.turn == 1 else "ok").start()
    try:
        _provider(yes_server)
        assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
        first = run_report(indexed_workspace, _last_run(indexed_workspace))["scores"][0]
        _provider(no_server)  # the same name, another server
        assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
        second = run_report(indexed_workspace, _last_run(indexed_workspace))["scores"][0]
        assert first["score"] == 100 and second["score"] == 0
        assert len(no_server.log) == len(yes_server.log) > 0
        # another kind at the same address is another API too
        _provider(yes_server, kind="anthropic")
        sent = len(yes_server.log)
        assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
        assert len(yes_server.log) > sent and {r.api for r in yes_server.log[sent:]} == {"anthropic"}
        logged = json.loads(
            indexed_workspace.db.execute("SELECT request_json FROM bench_calls ORDER BY id DESC LIMIT 1").fetchone()[0]
        )
        assert logged["kind"] == "anthropic" and logged["base_url"] == yes_server.url
    finally:
        yes_server.stop()
        no_server.stop()


@pytest.mark.parametrize("blocked_turn", [2, 3])
def test_policy_block_on_a_later_question_keeps_the_first_answer(
    indexed_workspace, tiny_clip, server, monkeypatch, blocked_turn
):
    """Item 12: a content-policy block (HTTP 400) on "why" or "describe" keeps answer 1."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    server.fault_rule = lambda req: ("policy",) if req.turn == blocked_turn else None
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
    items = RunStore(indexed_workspace).items(_last_run(indexed_workspace), status=None)
    assert items and all(i["status"] == "done" for i in items)
    assert {i["answer_class"] for i in items} <= {"yes", "no"}
    assert all(i["answer1"] in ("Yes.", "No.") for i in items)
    if blocked_turn == 3:
        assert all(i["answer2"] == "Because of the colours." and i["answer3"] is None for i in items)
    else:
        assert all(i["answer2"] is None for i in items)
    assert any(r.status == 400 for r in server.log)


def test_text_arm_uses_the_edited_like_question_and_no_description_is_no_refusal(
    indexed_workspace, tiny_clip, server, monkeypatch, tmp_path
):
    """Item 9: one source of truth for the question; a describer's refusal is "no description"."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    edited = "Is this image to your taste? Answer yes or no."
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps({"like": edited}))
    refused_images = set()

    def describer_refuses_some(req):
        # the describer declines every other image (an API refusal or a polite one)
        if req.model == "describer" and req.image is not None and req.image_rgb_mean()[1] > 100:
            refused_images.add(req.image)
            return ("refusal",) if len(refused_images) % 2 else ("latency", 0)
        return None

    server.fault_rule = describer_refuses_some
    original = server.answer
    server.answer = lambda r: (
        "I'm sorry, I can't describe this image."
        if r.model == "describer" and r.image in refused_images
        else original(r)
    )
    assert (
        _run(
            indexed_workspace,
            tiny_clip,
            "--model",
            "lab:m1",
            "--describe-with",
            "lab:describer",
            "--text-model",
            "lab:textonly",
            "--prompts",
            str(prompts),
            values=["Power"],
        )
        == 0
    )
    run_id = _last_run(indexed_workspace)
    text_calls = [r for r in server.log if r.model == "textonly" and r.turn == 1]
    assert text_calls and all(r.question.endswith("\n\n" + edited) for r in text_calls)
    assert text_calls[0].question == f"Here is a description of an image:\n\nA coloured picture.\n\n{edited}"
    vlm_first = [r for r in server.log if r.model == "m1" and r.image is not None and r.turn == 1]
    assert all(r.question == edited for r in vlm_first)
    items = RunStore(indexed_workspace).items(run_id, status=None)
    undescribed = {i["image_sha256"] for i in items if i["answer_class"] == "no_description"}
    assert refused_images and len(undescribed) == len(refused_images)
    assert all(i["mode"] == "text" for i in items if i["answer_class"] == "no_description")
    assert not any(i["answer_class"] == "refusal" for i in items)
    # the text models were never asked about an image without a description
    assert all(
        "A coloured picture." in r.question
        for r in server.log
        if r.model in ("m1", "textonly") and r.image is None and r.turn == 1
    )
    described = [i for i in items if i["mode"] == "text" and i["image_sha256"] not in undescribed]
    assert len(described) == 2 * (10 - len(undescribed)) and all(i["answer_class"] == "no" for i in described)
    report = run_report(indexed_workspace, run_id)
    text_score = next(s for s in report["scores"] if s["target"] == "lab:textonly")
    assert text_score["n"] == 10 - len(undescribed) and text_score["refusal"] == 0  # left out, not refused
    rows = {(r["target"], r["value"]): r for r in report["modality"]}
    row = rows[("lab:m1", "Power")]
    assert row["no_description"] == len(
        [i for i in items if i["target"] == "lab:m1" and i["mode"] == "text" and i["answer_class"] == "no_description"]
    )
    assert row["pairs"] == 10 - row["no_description"]
    # reddish says yes to red images with the image and no from text: all discordant pairs are b
    assert row["c"] == 0 and row["b"] == round(row["image_score"] * row["pairs"] / 100)


def test_a_bad_prompts_file_is_one_clear_error(indexed_workspace, tiny_clip, server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    prompts = tmp_path / "prompts.json"
    for doc, message in [
        ({"text_only": "Described: {description}. Like it?"}, "must contain {description} and {question}"),
        ({"lkie": "x"}, "'lkie': is not a known field"),
        ({"text_only": "{description} {question} {x}"}, "uses {x}, which is not a field"),
    ]:
        prompts.write_text(json.dumps(doc))
        assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--prompts", str(prompts)) != 0
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    assert server.log == [] and RunStore(indexed_workspace).runs() == []


def test_mcnemar_and_holm_against_worked_examples():
    # the example: 4 discordant pairs all one way: p = 2 * (1/2)^4 = 0.125
    assert mcnemar_exact(4, 0) == pytest.approx(0.125)
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(3, 3) == 1.0
    # b=1, c=9: 2 * (1 + 10) / 1024 (scipy.stats.binomtest(1, 10).pvalue = 0.021484375)
    assert mcnemar_exact(1, 9) == pytest.approx(0.021484375)
    # Holm: sorted 0.01, 0.02, 0.04 -> 0.03, 0.04, 0.04 (monotone)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([]) == []


def test_pairs_exclude_undecided_and_undescribed_items():
    def item(mode, kw, cls):
        return {
            "target": "p:m",
            "mode": mode,
            "value": "Power",
            "keyword": kw,
            "image_sha256": kw,
            "repeat": 0,
            "answer_class": cls,
        }

    answers = [
        item("vlm", "a", "yes"),
        item("text", "a", "no"),
        item("vlm", "b", "yes"),
        item("text", "b", "no_description"),
        item("vlm", "c", "refusal"),
        item("text", "c", "yes"),
        item("vlm", "d", "no"),
        item("text", "d", "no"),
    ]
    (row,) = modality_comparison(answers)
    assert (row["pairs"], row["b"], row["c"], row["both_no"], row["no_description"]) == (2, 1, 0, 1, 1)
    assert row["image_score"] == 50 and row["text_score"] == 0 and row["p"] == 1.0


def test_retrieval_shortfall_is_said_before_sending_recorded_and_strict_refuses(
    indexed_workspace, tiny_clip, server, monkeypatch, capsys
):
    """Item 11: too few images for 10 keywords x k: the counts per keyword come first."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    images = indexed_workspace.db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    k = images // 10 + 2  # more than the library can give every keyword
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--dry-run", values=["Power"], k=k) == 0
    err = capsys.readouterr().err
    assert f"images per keyword (wanted {k} each):" in err
    line = next(x for x in err.splitlines() if x.strip().startswith("Power:"))
    assert f"{images}/{10 * k} items SHORT" in line and line.rstrip().endswith(" 0")  # the last keyword got nothing
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--strict", values=["Power"], k=k) != 0
    err = capsys.readouterr().err
    assert "--strict" in err and "nothing was sent" in err and "Traceback" not in err
    assert server.log == [] and RunStore(indexed_workspace).runs() == []
    # without --strict the run goes ahead and its manifest keeps the counts
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"], k=k) == 0
    manifest = RunStore(indexed_workspace).manifest(_last_run(indexed_workspace))
    counts = manifest["retrieval"]["Power"]
    assert len(counts) == 10 and sum(counts.values()) == images == manifest["items"]
    assert manifest["shortfall"]["Power"] == {kw: n for kw, n in counts.items() if n < k}
    # enough images: nothing short, --strict runs
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--strict", values=["Power"], k=1) == 0
    assert RunStore(indexed_workspace).manifest(_last_run(indexed_workspace))["shortfall"] == {}


def test_export_lists_every_call_behind_a_run_even_cached_ones(
    indexed_workspace, tiny_clip, server, monkeypatch, tmp_path, capsys
):
    """Item 16: ``bench export RUN --answers FILE``, CSV (formulas neutralised) or JSONL."""
    import csv

    from vspectrum_app.bench.trace import CALL_COLUMNS, answers_behind_cell
    from vspectrum_app.cli import main

    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    server.answer = lambda r: '=HYPERLINK("x")' if r.question.startswith("Why") else reddish(r)
    args = ["--model", "lab:m1", "--describe-with", "lab:describer", "--temperature", "0.5"]
    assert _run(indexed_workspace, tiny_clip, *args, values=["Power"]) == 0
    sent = len(server.log)
    assert _run(indexed_workspace, tiny_clip, *args, values=["Power"]) == 0
    assert len(server.log) == sent  # the second run was answered from the workspace
    run_id = _last_run(indexed_workspace)
    ws_arg = ["-w", str(indexed_workspace.root)]
    jsonl, table = tmp_path / "calls.jsonl", tmp_path / "calls.csv"
    assert main([*ws_arg, "bench", "export", run_id, "--answers", str(jsonl)]) == 0
    assert main([*ws_arg, "bench", "export", run_id, "--answers", str(table)]) == 0
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    items = RunStore(indexed_workspace).items(run_id)
    vlm_items = [i for i in items if i["mode"] == "vlm"]
    text_items = [i for i in items if i["mode"] == "text"]
    # three turns per image item; describe + like + why per text item
    assert len(rows) == 3 * len(vlm_items) + 3 * len(text_items)
    assert {r["run_id"] for r in rows} == {run_id} and all(r["sent_by_run"] != run_id for r in rows)
    first = next(r for r in rows if r["mode"] == "vlm" and r["turn"] == 1)
    item = next(i for i in items if i["id"] == first["item_id"])
    assert first["question"].startswith("Do you like") and first["response_text"] == item["answer1"]
    assert first["answer_class"] == item["answer_class"] and first["parser_version"]
    assert first["image_sha256"] == item["image_sha256"] and first["image_path"].endswith(".jpg")
    assert first["kind"] == "openai-compatible" and first["base_url"] == server.openai_base_url
    assert json.loads(first["params"])["temperature"] == 0.5 and first["model"] == "m1"
    assert first["input_tokens"] == 100 and first["latency_s"] > 0
    text_first = next(r for r in rows if r["mode"] == "text" and r["turn"] == 1)
    assert text_first["image_sha256"] is None and "A coloured picture." in text_first["question"]
    assert any(r["mode"] == "text" and r["turn"] == 0 and r["image_sha256"] for r in rows)
    with table.open(newline="") as f:
        reader = csv.reader(f)
        assert tuple(next(reader)) == CALL_COLUMNS
        body = list(reader)
    assert len(body) == len(rows)
    why = [r[CALL_COLUMNS.index("response_text")] for r in body if r[CALL_COLUMNS.index("turn")] == "2"]
    assert why and all(w == '\'=HYPERLINK("x")' for w in why)
    assert main([*ws_arg, "bench", "export", run_id, "--answers", str(tmp_path / "calls.xlsx")]) == 1
    assert "give a file ending in .csv or .jsonl" in capsys.readouterr().err

    # the drill-down behind one score cell, filterable by class
    cell = answers_behind_cell(indexed_workspace, run_id, "lab:m1", "Power")
    assert len(cell) == len(vlm_items) and {c["keyword"] for c in cell} == {i["keyword"] for i in vlm_items}
    yes = answers_behind_cell(indexed_workspace, run_id, "lab:m1", "Power", answer_class="yes")
    assert yes and all(c["answer_class"] == "yes" and c["answer"] == "Yes." for c in yes)
    assert len(yes) == sum(i["answer_class"] == "yes" for i in vlm_items)
    c = cell[0]
    assert c["why"] == '=HYPERLINK("x")' and c["describe"] == "A coloured picture."
    assert c["thumbnail"].endswith(".jpg") and [t["turn"] for t in c["turns"]] == [1, 2, 3]
    assert c["latency_s"] > 0
    text_cell = answers_behind_cell(indexed_workspace, run_id, "lab:m1", "Power", mode="text")
    assert [t["turn"] for t in text_cell[0]["turns"]] == [0, 1, 2]


def test_acquiescence_probe_asks_the_reversed_question_on_a_sample(
    indexed_workspace, tiny_clip, server, monkeypatch, tmp_path
):
    """Item 14b: opt-in; the reversed text is editable and recorded; consistency and yes-to-both."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    # a yes-sayer to the reversed question: consistent exactly where it disliked the image
    server.answer = lambda r: "Yes." if r.question.startswith("Do you hate") else reddish(r)
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps({"reversed": "Do you hate this image? Yes or no."}))
    assert (
        _run(
            indexed_workspace,
            tiny_clip,
            "--model",
            "lab:m1",
            "--acquiescence-probe",
            "0.3",
            "--prompts",
            str(prompts),
            values=["Power", "Hedonism"],
        )
        == 0
    )
    run_id = _last_run(indexed_workspace)
    manifest = RunStore(indexed_workspace).manifest(run_id)
    assert manifest["acquiescence_probe"] == 0.3 and manifest["prompts"]["reversed"].startswith("Do you hate")
    items = RunStore(indexed_workspace).items(run_id)
    probes = [i for i in items if i["mode"] == "probe"]
    assert len(probes) == 2 * 3  # ceil(0.3 x 10) per value
    reversed_calls = [r for r in server.log if r.question.startswith("Do you hate")]
    assert len(reversed_calls) == len({p["image_sha256"] for p in probes}) and all(r.image for r in reversed_calls)
    report = run_report(indexed_workspace, run_id)
    assert {s["mode"] for s in report["scores"]} == {"vlm"}  # the probe is not a score column
    assert report["progress"]["done"] == report["progress"]["total"]  # ... but a finished run is finished
    (row,) = report["acquiescence"]
    like = {(i["value"], i["keyword"], i["image_sha256"]): i["answer_class"] for i in items if i["mode"] == "vlm"}
    liked = sum(like[(p["value"], p["keyword"], p["image_sha256"])] == "yes" for p in probes)
    assert (row["pairs"], row["yes_to_both"], row["consistent"]) == (6, liked, 6 - liked)
    # without the option nothing is probed
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
    assert not [i for i in RunStore(indexed_workspace).items(_last_run(indexed_workspace)) if i["mode"] == "probe"]
    assert run_report(indexed_workspace, _last_run(indexed_workspace))["acquiescence"] == []


def test_probe_rate_interval_against_worked_examples():
    from scipy.stats import binomtest

    from vspectrum_app.bench.acquiescence import rate_interval

    # 50/50: by hand (2n + z^2 - 1 - z sqrt(z^2 + 2 - 1/n)) / (2 (n + z^2)) = 91.11 %;
    # 0/10: (z^2 + 1 + z sqrt(z^2 + 2 - 1/n)) / (2 (n + z^2)) = 34.45 %
    assert rate_interval(50, 50) == pytest.approx((91.112, 100.0), abs=1e-3)
    assert rate_interval(0, 10) == pytest.approx((0.0, 34.454), abs=1e-3)
    ci = binomtest(5, 10).proportion_ci(method="wilsoncc")  # scipy's, an independent oracle
    assert rate_interval(5, 10) == pytest.approx((100 * ci.low, 100 * ci.high))
    assert rate_interval(0, 0) is None


def test_policy_block_on_why_in_the_text_arm_keeps_the_first_answer(indexed_workspace, tiny_clip, server, monkeypatch):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    server.fault_rule = lambda req: ("policy",) if req.model == "textonly" and req.turn == 2 else None
    assert (
        _run(
            indexed_workspace,
            tiny_clip,
            "--model",
            "lab:m1",
            "--describe-with",
            "lab:describer",
            "--text-model",
            "lab:textonly",
            values=["Power"],
        )
        == 0
    )
    items = [
        i
        for i in RunStore(indexed_workspace).items(_last_run(indexed_workspace), status=None)
        if i["target"] == "lab:textonly"
    ]
    assert len(items) == 10 and all(i["status"] == "done" and i["answer_class"] == "no" for i in items)
    assert all(i["answer2"] is None and i["answer3"] == "A coloured picture." for i in items)
