"""Prompt-wording robustness (issue 28 item 2): --prompt-variants, the variant column and its
migration, resume, and 'bench report --variants' checked against an independent count of the
'bench export --answers' file, with the real SDK against the local VLM test server."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from itertools import combinations

import pytest
from scipy.stats import chi2

from tests.bench.test_engine import _provider, _run
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench import robustness, variants
from vspectrum_app.bench.parsing import classify_answer
from vspectrum_app.bench.prompts import Q_DESCRIBE, Q_LIKE, Q_WHY
from vspectrum_app.bench.report import run_report
from vspectrum_app.bench.store import MIGRATIONS, TRACE_MIGRATIONS, RunStore
from vspectrum_app.cli import main

VALUES = ["Power", "Benevolence", "Universalism"]
WORDINGS = [
    {"name": "paper", "like": Q_LIKE},
    {"name": "keen", "like": "Do you like this image? Yes or no?"},
    {"name": "fr", "like": "Aimez-vous le contenu de cette image ? Répondez par oui ou non."},
    {"name": "shy", "like": "Does this picture appeal to you? One word, yes or no."},
]


def scripted(req):
    """Answers that depend on the wording: 'paper' likes red images, 'keen' says yes to all,
    'fr' answers like 'paper' in French, 'shy' declines the red ones and says no to the rest."""
    if req.turn == 2:
        return "Because of the colours."
    if req.turn == 3:
        return "A coloured picture."
    r, g, _ = req.image_rgb_mean()
    red = r > g
    return {
        Q_LIKE: "Yes." if red else "No.",
        WORDINGS[1]["like"]: "Yes, I do.",
        WORDINGS[2]["like"]: "Oui." if red else "Non.",
        WORDINGS[3]["like"]: "I'm sorry, I can't share preferences." if red else "No.",
    }[req.question]


@pytest.fixture
def server():
    s = FakeVLMServer(answer=scripted).start()
    yield s
    s.stop()


@pytest.fixture
def wordings_file(tmp_path):
    path = tmp_path / "wordings.json"
    path.write_text(json.dumps(WORDINGS), encoding="utf-8")
    return path


def _last_run(ws):
    return RunStore(ws).runs()[-1]["id"]


def _export(ws, run_id, tmp_path):
    path = tmp_path / "answers.csv"
    assert main(["-w", str(ws.root), "bench", "export", run_id, "--answers", str(path)]) == 0
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _fleiss(units: list[list[str]]) -> float:
    """Fleiss (1971) written out from its definition, for equal numbers of raters."""
    n, cats = len(units[0]), sorted({c for u in units for c in u})
    p_i = [(sum(u.count(c) ** 2 for c in cats) - n) / (n * (n - 1)) for u in units]
    p_j = [sum(u.count(c) for u in units) / (n * len(units)) for c in cats]
    p_e = sum(p * p for p in p_j)
    return (sum(p_i) / len(units) - p_e) / (1 - p_e)


def test_scores_and_agreement_equal_an_independent_count_of_the_export(
    indexed_workspace, tiny_clip, server, wordings_file, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    assert (
        _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--prompt-variants", str(wordings_file), values=VALUES)
        == 0
    )
    run_id = _last_run(indexed_workspace)
    # every wording was sent as turn 1; why and describe stayed the paper's
    assert {r.question for r in server.log if r.turn == 1} == {w["like"] for w in WORDINGS}
    assert {r.question for r in server.log if r.turn == 2} == {Q_WHY}
    assert {r.question for r in server.log if r.turn == 3} == {Q_DESCRIBE}
    items = RunStore(indexed_workspace).items(run_id)
    per_wording = Counter(i["variant"] for i in items)
    assert set(per_wording) == {w["name"] for w in WORDINGS} and len(set(per_wording.values())) == 1

    # the independent count: turn-1 rows of the export, the wording told by its question text
    name_of = {w["like"]: w["name"] for w in WORDINGS}
    rows = [r for r in _export(indexed_workspace, run_id, tmp_path) if r["turn"] == "1"]
    assert all(name_of[r["question"]] == r["variant"] for r in rows)
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    units: dict[tuple[str, str, str, str], dict[str, str]] = defaultdict(dict)
    for r in rows:
        counts[(name_of[r["question"]], r["value"])][r["answer_class"]] += 1
        units[(r["value"], r["keyword"], r["image_sha256"], r["repeat"])][name_of[r["question"]]] = r["answer_class"]

    capsys.readouterr()
    assert main(["-w", str(indexed_workspace.root), "bench", "report", run_id, "--variants", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [w["name"] for w in report["wordings"]] == [w["name"] for w in WORDINGS]
    assert len(report["scores"]) == len(WORDINGS) * len(VALUES)
    for s in report["scores"]:
        c = counts[(s["variant"], s["value"])]
        assert (s["yes"], s["no"], s["refusal"]) == (c["yes"], c["no"], c["refusal"])
        assert s["score"] == (pytest.approx(100 * c["yes"] / (c["yes"] + c["no"])) if c["yes"] + c["no"] else None)
        assert (s["ci_low"] is None) == (s["score"] is None)
    assert {s["score"] for s in report["scores"] if s["variant"] == "keen"} == {100.0}
    assert {s["yes"] for s in report["scores"] if s["variant"] == "shy"} == {0}

    # share alike and Fleiss' kappa over the units answered under every wording
    names = [w["name"] for w in WORDINGS]
    complete = [[u[n] for n in names] for u in units.values()]
    (model,) = report["models"]
    assert model["units"] == len(complete) > 0
    assert model["alike"] == sum(len(set(u)) == 1 for u in complete)
    assert model["kappa"] == pytest.approx(_fleiss(complete))
    for row in report["values"]:
        mine = [[u[n] for n in names] for k, u in units.items() if k[0] == row["value"]]
        assert row["units"] == len(mine) and row["alike"] == sum(len(set(u)) == 1 for u in mine)
        scored = [s["score"] for s in report["scores"] if s["value"] == row["value"] and s["score"] is not None]
        assert row["range"] == pytest.approx(max(scored) - min(scored))
        # Cochran's Q in its other algebraic form, on the units answered yes/no under every wording
        decided = [[c == "yes" for c in u] for u in mine if set(u) <= {"yes", "no"}]
        k, cols, rows_ = len(names), [sum(col) for col in zip(*decided)], [sum(u) for u in decided]
        q = k * (k - 1) * sum((c - sum(cols) / k) ** 2 for c in cols) / (k * sum(rows_) - sum(r * r for r in rows_))
        assert row["decided_units"] == len(decided) and row["q"] == pytest.approx(q)
        assert row["p"] == pytest.approx(chi2.sf(q, k - 1))
        assert row["verdict"] == ("wording-sensitive" if row["p_holm"] < 0.05 else "stable")
    assert sorted(r["p_holm"] for r in report["values"]) == pytest.approx(
        [
            min(1, max(p * (3 - i) for i, p in enumerate(sorted(r["p"] for r in report["values"])[: j + 1])))
            for j in range(3)
        ]
    )
    # 'keen' says yes to everything where 'shy' never does: Spearman of each pair over the values
    profile = {n: {s["value"]: s["score"] for s in report["scores"] if s["variant"] == n} for n in names}
    from scipy.stats import spearmanr

    for c in model["correlations"]:
        shared = [v for v in VALUES if profile[c["a"]][v] is not None and profile[c["b"]][v] is not None]
        a, b = [profile[c["a"]][v] for v in shared], [profile[c["b"]][v] for v in shared]
        expected = spearmanr(a, b).statistic if len(set(a)) > 1 and len(set(b)) > 1 else None
        assert c["rho"] == (None if expected is None else pytest.approx(expected))
    assert [(c["a"], c["b"]) for c in model["correlations"]] == list(combinations(names, 2))

    # the main report scores the first wording only; the table and CSV say the same numbers
    main_scores = {s["value"]: s["score"] for s in run_report(indexed_workspace, run_id)["scores"]}
    assert main_scores == {v: profile["paper"][v] for v in VALUES}
    assert main(["-w", str(indexed_workspace.root), "bench", "report", run_id, "--variants"]) == 0
    table = capsys.readouterr().out
    assert all(w["like"] in table for w in WORDINGS) and "Fleiss' kappa" in table and "Cochran" in table
    assert main(["-w", str(indexed_workspace.root), "bench", "report", run_id, "--variants", "--format", "csv"]) == 0
    csv_rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(csv_rows) == len(report["scores"]) and {r["variant"] for r in csv_rows} == set(names)

    # bench figure --kind variants draws these numbers: one bar series per wording, its heights the scores
    out = tmp_path / "variants.pdf"
    assert (
        main(["-w", str(indexed_workspace.root), "bench", "figure", run_id, "--kind", "variants", "--out", str(out)])
        == 0
    )
    assert out.read_bytes().startswith(b"%PDF")
    from vspectrum_app.bench import figures

    (ax,) = figures.variants(report).axes
    drawn = {c.get_label(): sorted(b.get_height() for b in c) for c in ax.containers if hasattr(c, "patches")}
    for n in names:
        expected = sorted(s["score"] for s in report["scores"] if s["variant"] == n and s["score"] is not None)
        assert drawn[n] == pytest.approx(expected)


def test_resume_asks_only_what_is_missing_under_each_wording(
    indexed_workspace, tiny_clip, server, wordings_file, monkeypatch
):
    """The French answers see no image the first time (a pipeline failure): resume asks
    again those items only, under their own wording; nothing else is sent twice. The paper's
    wording reuses the answers of an earlier run without wordings (the same calls)."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
    plain = len(server.log)
    server.answer = lambda r: "I cannot see any image." if r.question == WORDINGS[2]["like"] else scripted(r)
    _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--prompt-variants", str(wordings_file), values=["Power"])
    assert Q_LIKE not in {r.question for r in server.log[plain:]}
    run_id = _last_run(indexed_workspace)
    store = RunStore(indexed_workspace)
    errors = [i for i in store.items(run_id, status=None) if i["status"] != "done"]
    assert errors and {i["variant"] for i in errors} == {"fr"}
    sent = len(server.log)
    server.answer = scripted
    assert main(["-w", str(indexed_workspace.root), "bench", "resume", run_id]) == 0
    again = server.log[sent:]
    assert {r.question for r in again if r.turn == 1} == {WORDINGS[2]["like"]}
    assert len([r for r in again if r.turn == 1]) == len({i["image_sha256"] for i in errors})
    done = store.items(run_id)
    assert len(done) == len(store.items(run_id, status=None)) and Counter(i["variant"] for i in done)["fr"] == len(
        errors
    )


def test_dry_run_estimate_multiplies_by_the_wordings(indexed_workspace, tiny_clip, server, monkeypatch, capsys):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--dry-run", values=["Power"]) == 0
    one = int(re.search(r"(\d+) calls to send", capsys.readouterr().err).group(1))
    assert (
        _run(
            indexed_workspace,
            tiny_clip,
            "--model",
            "lab:m1",
            "--dry-run",
            "--prompt-variants",
            "builtin",
            values=["Power"],
        )
        == 0
    )
    err = capsys.readouterr().err
    assert int(re.search(r"(\d+) calls to send", err).group(1)) == len(variants.builtin()) * one
    assert f"{len(variants.builtin())} wordings of the like question" in err
    assert server.log == [] and RunStore(indexed_workspace).runs() == []


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "not valid JSON"),
        ('{"name": "a", "like": "b"}', "expected a list"),
        ("[]", "expected a list of 1 to"),
        ('[{"name": "a"}]', "item 1, field 'like': is missing"),
        ('[{"name": "a", "like": "Q?", "tone": "x"}]', "'tone': is not a known field"),
        ('[{"name": "a b", "like": "Q?"}]', "field 'name': expected text matching"),
        ('[{"name": "a", "like": "  "}]', "non-empty text"),
        ('[{"name": "a", "like": "Q?"}, {"name": "a", "like": "R?"}]', "items 1 and 2 have the same name"),
        ('[{"name": "a", "like": "Q?"}, {"name": "b", "like": " Q? "}]', "items 1 and 2 have the same like"),
    ],
)
def test_a_malformed_wordings_file_is_one_sentence_and_creates_nothing(
    workspace, tiny_clip, server, monkeypatch, tmp_path, content, message, capsys
):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    path = tmp_path / "w.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(variants.VariantError, match=message):
        variants.load_wordings(path)
    assert _run(workspace, tiny_clip, "--model", "lab:m1", "--prompt-variants", str(path)) != 0
    err = capsys.readouterr().err.strip()
    assert "w.json" in err and message.split(":")[0] in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert RunStore(workspace).runs() == []


def test_builtin_wordings_are_documented_and_their_answers_classified():
    wordings = variants.builtin()
    english = [w for w in wordings if w.language == "en"]
    assert len(english) >= 5 and len({w.language for w in wordings} - {"en"}) >= 3
    assert wordings[0].name == variants.DEFAULT and wordings[0].like == Q_LIKE
    assert all(w.source for w in wordings) and "protocol.md" in wordings[0].source
    assert all("translated" in w.source for w in wordings if w.language != "en")
    # the one answer parser reads the answers each language's question asks for
    answers = {
        "fr": ("Oui.", "Non."),
        "de": ("Ja.", "Nein."),
        "es": ("Sí.", "No."),
        "zh": ("是", "否"),
    }
    for lang, (yes, no) in answers.items():
        assert lang in {w.language for w in wordings}
        assert (classify_answer(yes), classify_answer(no)) == ("yes", "no"), lang
    assert (classify_answer("喜欢"), classify_answer("不喜欢")) == ("yes", "no")


def test_an_old_workspace_migrates_keeping_items_links_and_resume(workspace):
    """Rows from before the variant column get the paper's wording; the links from items to
    their calls survive the table's rebuild (foreign keys would cascade them away)."""
    workspace.ensure_schema("bench", MIGRATIONS[:1])
    workspace.ensure_schema("bench_trace", TRACE_MIGRATIONS)
    manifest = {"prompts": {"like": Q_LIKE}, "params": {}, "targets_label": ["lab:m1"]}
    with workspace.transaction() as conn:
        conn.execute("INSERT INTO bench_runs VALUES ('old', '2025-01-01', 'done', ?, NULL)", (json.dumps(manifest),))
        conn.execute(
            "INSERT INTO bench_items(id, run_id, target, mode, value, keyword, rank, image_id, image_sha256, status,"
            " answer_class, answer1) VALUES (7, 'old', 'lab:m1', 'vlm', 'Power', 'boss', 1, 1, 'ab', 'done', 'yes', 'Yes.')"
        )
        conn.execute("INSERT INTO bench_item_calls VALUES (7, 1, 'key1')")
    store = RunStore(workspace)
    (item,) = store.items("old")
    assert item["id"] == 7 and item["variant"] == "paper"
    assert [tuple(r) for r in workspace.db.execute("SELECT * FROM bench_item_calls")] == [(7, 1, "key1")]
    assert workspace.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.scored_items("old") == [item]
    report = robustness.variant_report(workspace, "old")
    assert [w["name"] for w in report["wordings"]] == ["paper"] and report["values"][0]["verdict"] == "one wording"
    # the same item under another wording is another row now
    with workspace.transaction() as conn:
        conn.execute(
            "INSERT INTO bench_items(run_id, target, mode, value, keyword, rank, image_id, image_sha256, variant)"
            " VALUES ('old', 'lab:m1', 'vlm', 'Power', 'boss', 1, 1, 'ab', 'fr')"
        )
    assert len(store.items("old", status=None)) == 2


def _answers(classes: dict[str, list[str]], value: str = "Power") -> list[dict]:
    """Done items of one model: per wording, the classes of images 0, 1, ..."""
    return [
        {"target": "lab:m1", "mode": "vlm", "value": value, "keyword": "k", "image_sha256": f"img{i}", "repeat": 0,
         "variant": name, "answer_class": c, "answer1": c}
        for name, cs in classes.items()
        for i, c in enumerate(cs)
    ]  # fmt: skip


def test_verdicts_at_the_edges():
    # the same answers under both wordings: stable, kappa 1, all alike, Q = 0 and p = 1
    same = robustness.robustness(_answers({"a": ["yes", "no"] * 5, "b": ["yes", "no"] * 5}), ["a", "b"])
    (row,) = same["values"]
    assert (row["verdict"], row["q"], row["p"], row["range"], row["alike_share"]) == ("stable", 0.0, 1.0, 0.0, 100.0)
    assert same["models"][0]["kappa"] == pytest.approx(1.0)
    # two wordings, 0 % against 100 %: exact McNemar on 10 discordant units, p = 2 / 2**10
    apart = robustness.robustness(_answers({"a": ["yes"] * 10, "b": ["no"] * 10}), ["a", "b"])
    (row,) = apart["values"]
    assert row["verdict"] == "wording-sensitive" and row["p"] == pytest.approx(2 / 2**10) and row["q"] == 10
    assert (row["min"], row["max"], row["range"]) == (0.0, 100.0, 100.0)
    # 5 discordant units: exact p = 1/16 > 0.05, although the chi-square's would be 0.025
    few = robustness.robustness(_answers({"a": ["yes"] * 5, "b": ["no"] * 5}), ["a", "b"])
    assert few["values"][0]["verdict"] == "stable" and few["values"][0]["p"] == pytest.approx(1 / 16)
    # refusals under one wording: nothing answered yes/no under every wording
    none = robustness.robustness(_answers({"a": ["yes"] * 3, "b": ["refusal"] * 3}), ["a", "b"])
    (row,) = none["values"]
    assert row["verdict"] == "no data" and row["units"] == 3 and row["alike"] == 0 and row["decided_units"] == 0
    assert "no data" in robustness.value_line(row)
    # the authors' rule: the answer's text decides ("Yes, I do" under both wordings: alike)
    authors = robustness.robustness(_answers({"a": ["Yes, I do"] * 4, "b": ["yes"] * 4}), ["a", "b"], rule="paper")
    assert authors["values"][0]["alike"] == 4 and authors["scores"][0]["score"] == 100
    # nothing answered at all
    assert robustness.robustness([], ["a", "b"]) == {"scores": [], "values": [], "models": []}


def test_cochran_q_chi2_and_spearman_against_scipy():
    from scipy.stats import spearmanr

    for x in (0.3, 1.0, 3.84, 7.5, 20.0):
        for df in range(1, 9):
            assert robustness.chi2_sf(x, df) == pytest.approx(chi2.sf(x, df), rel=1e-9)
    # Cochran's Q on a worked example (three wordings, six units): columns 5, 2, 1; rows 2,2,1,2,1,0
    rows = [[1, 1, 0], [1, 0, 1], [1, 0, 0], [1, 1, 0], [1, 0, 0], [0, 0, 0]]
    q, p = robustness.cochran_q(rows)
    assert q == pytest.approx(2 * (3 * (25 + 4 + 1) - 64) / (3 * 8 - 14))  # = 5.2
    assert p == pytest.approx(chi2.sf(5.2, 2))
    for a, b in ([1, 2, 3, 4], [2, 1, 4, 3]), ([10, 10, 30, 50], [5, 7, 7, 9]), ([0, 100, 50], [100, 0, 50]):
        assert robustness.spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)
    assert robustness.spearman([1, 2], [2, 1]) is None and robustness.spearman([5, 5, 5], [1, 2, 3]) is None


def test_any_json_is_wordings_or_one_sentence(tmp_path):
    """Fuzzed: whatever a wordings file holds, the loader answers or raises VariantError, one line."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    doc = st.recursive(
        leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    )
    wordings = st.lists(st.fixed_dictionaries({"name": st.text(max_size=12), "like": st.text(max_size=30)}), max_size=4)

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(doc | wordings)
    def check(value):
        path = tmp_path / "w.json"
        path.write_text(json.dumps(value), encoding="utf-8")
        try:
            loaded = variants.load_wordings(path)
        except variants.VariantError as exc:
            assert str(exc).startswith("w.json") and "\n" not in str(exc)
        else:
            assert 1 <= len(loaded) == len({w.name for w in loaded}) == len({w.like for w in loaded})

    check()
