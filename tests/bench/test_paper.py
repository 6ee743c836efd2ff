"""The paper's published tables (resources/paper/) against the paper's own text, and a run
compared with a published profile: worked numbers with scipy as the oracle."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest
from scipy import stats

from tests.plugins.bench_runs import make_run, shares
from vspectrum_app.bench import paper
from vspectrum_app.bench.report import run_report
from vspectrum_app.cli import main
from vspectrum_app.core.errors import UserError
from vspectrum_app.core.paths import resources_dir
from vspectrum_app.core.schema import SchemaError, read_json
from vspectrum_app.core.values import SCHWARTZ_VALUES, canonical_value

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "value-spectrum-paper.md"
pytestmark = pytest.mark.skipif(not SEED.exists(), reason="the paper's text (../shared/seeds) is not here")


def _seed_tables() -> dict[int, dict]:
    """Every tab-separated table of the seed, by the number of the caption that names it
    ("Table N: ..."): the nearest caption before the block for the appendix tables printed
    under their caption (3-8), the nearest after it for those printed above (1, 9, 10)."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    captions = {}
    for i, line in enumerate(lines):
        m = re.match(r"\s*Table (\d+):\s*(.*)", line)
        if m:
            captions[i] = (int(m.group(1)), m.group(2).strip())
    blocks, current = [], []
    for i, line in enumerate(lines):
        if "\t" in line:
            current.append((i, line))
        elif current:
            blocks.append(current)
            current = []
    out = {}
    for block in blocks:
        start, end = block[0][0], block[-1][0]
        header = block[0][1].split("\t")
        after = min((i for i in captions if i > end), default=None)
        before = max((i for i in captions if i < start), default=None)
        # an appendix table sits right under its caption; the others end right above theirs
        near = before if header[0] == "Dimension" else after
        number, caption = captions[near]
        rows = [re.sub(r"</?b>", "", line).split("\t") for _, line in block[1:]]
        out[number] = {"header": header, "rows": rows, "caption": caption.replace("**", "")}
    return out


def test_every_bundled_table_equals_the_paper_text():
    seed = _seed_tables()
    assert sorted(seed) == sorted((*paper.TABLES, 2))  # Table 2 (the data set's cultures) is not bundled
    for number in paper.TABLES:
        doc, text = paper.load(number), seed[number]
        assert doc["source"] == {
            "title": doc["source"]["title"],
            "arxiv": "2411.11479",
            "table": number,
            "caption": text["caption"],
        }
        if number == 1:  # Model, Open-source, Parameters, then the ten values
            assert [canonical_value(h) for h in text["header"][3:]] == doc["columns"]
            for row, cells in zip(doc["rows"], text["rows"], strict=True):
                assert row["name"] == cells[0]
                assert row["open_source"] == {"✓": True, "✗": False}[cells[1]]
                assert row["parameters"] == (None if cells[2] == "–" else cells[2])
                assert row["cells"] == [float(c) for c in cells[3:]]
        elif number == 10:  # Setting (blank below its first row), Model, the ten values
            assert [canonical_value(h) for h in text["header"][2:]] == doc["columns"]
            setting = None
            for row, cells in zip(doc["rows"], text["rows"], strict=True):
                setting = cells[0].strip() or setting
                assert (row["group"], row["name"]) == (setting, cells[1].strip())
                assert row["cells"] == [float(c) for c in cells[2:]]
        else:  # a name column, then numbers
            assert doc["columns"] == [h.strip() for h in text["header"][1:]]
            for row, cells in zip(doc["rows"], text["rows"], strict=True):
                assert row["name"] == cells[0]
                assert row["cells"] == [float(c) for c in cells[1:]]
        assert len(doc["rows"]) == len(text["rows"])


def test_a_damaged_table_is_one_sentence(tmp_path):
    doc = json.loads((resources_dir() / "paper" / "table1.json").read_text(encoding="utf-8"))
    doc["rows"][2]["cells"] = doc["rows"][2]["cells"][:9]
    (tmp_path / "table1.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"^table1.json: row 3 \(Claude 3.5 Sonnet\) has 9 cells for 10 columns$"):
        read_json(tmp_path / "table1.json", paper._SPEC)
    doc = json.loads((resources_dir() / "paper" / "table10.json").read_text(encoding="utf-8"))
    doc["rows"][0]["cells"][4] = 101
    (tmp_path / "table10.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SchemaError, match="outside 0-100"):
        read_json(tmp_path / "table10.json", paper._SPEC)


def test_bench_paper_prints_every_table(capsys):
    assert main(["bench", "paper", "--table", "1", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["name"] for r in rows][:2] == ["GPT-4o", "Deepseek-VL2"]
    assert (rows[1]["open_source"], rows[1]["parameters"], rows[1]["Benevolence"]) == ("True", "27B", "82")
    assert main(["bench", "paper", "--table", "9", "--format", "json"]) == 0
    table9 = json.loads(capsys.readouterr().out)
    assert table9["rows"][-1] == {
        "name": "Average",
        "group": None,
        "cells": [90.6, 87.6, 8.4, 8.3, 1.0, 5.58],
        "key": "Average",
    }
    assert main(["bench", "paper"]) == 0
    out = capsys.readouterr().out
    assert all(f"Table {n} (arXiv 2411.11479)" in out for n in paper.TABLES)
    assert "Table 1 gives 56-90 over the ten values, Table 10 (direct VLM answers) 90-100" in out


def test_bench_paper_unknown_table_is_one_sentence(capsys):
    assert main(["bench", "paper", "--table", "11"]) != 0
    assert "no bundled table 11" in capsys.readouterr().err


def test_published_profile_lookup():
    assert paper.profile("gpt 4o")["scores"]["Stimulation"] == 56
    assert paper.profile("GPT-4o", 10)["scores"]["Stimulation"] == 98
    assert paper.profile("GPT-4o_text (Claude 3.5 Sonnet image description + LLMs)", 10)["scores"]["Power"] == 100
    with pytest.raises(UserError, match="matches several rows in the paper's Table 10"):
        paper.profile("GPT-4o_text", 10)
    with pytest.raises(UserError, match="'GPT-5' is not in the paper's Table 1; its rows: GPT-4o, Deepseek-VL2"):
        paper.profile("GPT-5")


GPT4O = dict(zip(paper.load(1)["columns"], paper.load(1)["rows"][0]["cells"]))


def _score_ci(k: float, n: int) -> tuple[float, float]:
    """The app's score interval by scipy: Wilson with continuity correction."""
    ci = stats.binomtest(int(k), n).proportion_ci(method="wilsoncc")
    return ci.low, ci.high


def test_a_run_equal_to_the_paper_flags_nothing(workspace):
    run_id = make_run(workspace, shares(GPT4O))
    cmp = paper.compare(run_report(workspace, run_id), "GPT-4o")
    assert cmp["differ"] == [] and cmp["measured"] == 10
    assert all(r["difference"] == 0 and r["p"] == 1.0 and r["p_holm"] == 1.0 for r in cmp["values"])
    assert cmp["spearman"] == pytest.approx(1.0) and cmp["mean_abs_difference"] == 0
    assert "Table 1 gives 56-90" in cmp["notes"][0]


def test_a_run_far_off_on_one_value_flags_that_value_only(workspace):
    scores = dict(GPT4O, Stimulation=100.0, Power=70.0)  # 56 -> 100 is far; 80 -> 70 is within noise
    run_id = make_run(workspace, shares(scores))
    cmp = paper.compare(run_report(workspace, run_id), "GPT-4o")
    assert cmp["differ"] == ["Stimulation"]
    rows = {r["value"]: r for r in cmp["values"]}
    stim = rows["Stimulation"]
    # the pooled two-proportion z test is the chi-square test of the 2 x 2 table, uncorrected
    oracle = stats.chi2_contingency([[28, 22], [50, 0]], correction=False).pvalue
    assert stim["p"] == pytest.approx(oracle, rel=1e-9)
    assert stim["p_holm"] == pytest.approx(10 * oracle, rel=1e-9)  # the smallest of ten: Holm's first step
    power = rows["Power"]
    assert power["p"] == pytest.approx(stats.chi2_contingency([[40, 10], [35, 15]], correction=False).pvalue)
    assert not power["differs"]
    # Newcombe's hybrid score interval from the two score intervals (one answer per image)
    l1, u1 = _score_ci(28, 50)
    l2, u2 = _score_ci(50, 50)
    assert stim["diff_low"] == pytest.approx(100 * (0.44 - math.sqrt((1 - l2) ** 2 + (u1 - 0.56) ** 2)), abs=1e-6)
    assert stim["diff_high"] == pytest.approx(100 * (0.44 + math.sqrt((u2 - 1) ** 2 + (0.56 - l1) ** 2)), abs=1e-6)
    assert (stim["paper_ci_low"], stim["paper_ci_high"]) == pytest.approx((100 * l1, 100 * u1))
    run = [scores[v] for v in SCHWARTZ_VALUES]
    pub = [GPT4O[v] for v in SCHWARTZ_VALUES]
    assert cmp["spearman"] == pytest.approx(stats.spearmanr(pub, run).statistic)
    assert cmp["mean_abs_difference"] == pytest.approx((44 + 10) / 10)


def test_repeats_count_through_the_design_effect(workspace):
    """Each image asked twice, its answers alike: 100 answers carry the information of 50 images,
    so the test uses the run's effective n (50), not 100, and gives the one-answer p."""
    run_id = make_run(workspace, shares(dict(GPT4O, Stimulation=100.0)), repeats=2)
    cmp = paper.compare(run_report(workspace, run_id), "GPT-4o")
    stim = next(r for r in cmp["values"] if r["value"] == "Stimulation")
    assert stim["run_n_eff"] == pytest.approx(50)
    assert stim["p"] == pytest.approx(stats.chi2_contingency([[28, 22], [50, 0]], correction=False).pvalue)
    naive = stats.chi2_contingency([[28, 22], [100, 0]], correction=False).pvalue
    assert stim["p"] > 10 * naive  # counting repeats as images would overstate the evidence
    assert cmp["differ"] == ["Stimulation"]


def test_edges_and_unmeasured_values(workspace):
    assert paper.two_proportion_p(1.0, 50, 1.0, 50) == 1.0  # both 100 %: no difference
    assert paper.two_proportion_p(0.0, 50, 0.0, 12.5) == 1.0
    assert paper.two_proportion_p(1.0, 50, 0.9, 50) == pytest.approx(
        stats.chi2_contingency([[50, 0], [45, 5]], correction=False).pvalue
    )
    assert paper.spearman([1, 2], [2, 1]) is None and paper.spearman([1, 1, 1], [1, 2, 3]) is None
    run_id = make_run(workspace, {"Power": ["yes"] * 50, "Security": ["refusal"] * 3})
    cmp = paper.compare(run_report(workspace, run_id), "GPT-4o", table=10)
    rows = {r["value"]: r for r in cmp["values"]}
    assert rows["Power"]["p"] == 1.0 and rows["Power"]["differs"] is False  # 100 against 100
    assert rows["Security"]["run"] is None and rows["Security"]["p"] is None and rows["Security"]["differs"] is None
    assert cmp["measured"] == 1 and cmp["spearman"] is None


def test_report_against_paper_from_the_cli(workspace, capsys):
    run_id = make_run(workspace, shares(dict(GPT4O, Stimulation=100.0)))
    ws = ["-w", str(workspace.root)]
    assert main([*ws, "bench", "report", run_id, "--against-paper", "gpt-4o"]) == 0
    out = capsys.readouterr().out
    assert "1 of 10 values differ from the paper at Holm p < 0.05: Stimulation" in out
    assert "note: the paper's own tables disagree on GPT-4o: Table 1 gives 56-90" in out
    assert main([*ws, "bench", "report", run_id, "--against-paper", "GPT-4o", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["value"] for r in rows if r["differs"] == "True"] == ["Stimulation"]
    assert main([*ws, "bench", "report", run_id, "--against-paper", "GPT-4o", "--table", "10", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == "arXiv 2411.11479, Table 10" and data["published"]["key"] == "GPT-4o"
    assert main([*ws, "bench", "report", run_id, "--against-paper", "GPT-9"]) != 0
    assert "'GPT-9' is not in the paper's Table 1" in capsys.readouterr().err
