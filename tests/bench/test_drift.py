"""Model drift: two runs paired by image, exact McNemar per value (scipy as the oracle)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from scipy import stats

from tests.plugins.bench_runs import make_run
from vspectrum_app.bench.drift import compare_runs
from vspectrum_app.cli import main
from vspectrum_app.core.errors import UserError

BEFORE = {"Power": ["no"] * 30 + ["yes"] * 20, "Security": ["yes"] * 25 + ["no"] * 25}
AFTER = {
    "Power": ["yes"] * 30 + ["yes"] * 20,  # 30 images turned from no to yes
    "Security": ["no", "no"] + ["yes"] * 23 + ["yes", "yes"] + ["no"] * 23,  # 2 each way: the same share
}


def test_a_value_that_moved_is_flagged_and_one_that_did_not_is_not(workspace):
    a = make_run(workspace, BEFORE, target="openai:gpt-4o")
    b = make_run(workspace, AFTER, target="openai:gpt-4o")
    d = compare_runs(workspace, a, b)
    rows = {r["value"]: r for r in d["values"]}
    power, security = rows["Power"], rows["Security"]
    assert (power["pairs"], power["only_a_yes"], power["only_b_yes"]) == (50, 0, 30)
    assert power["difference"] == pytest.approx(60.0)  # B - A on the shared images
    assert power["p"] == pytest.approx(stats.binomtest(0, 30, 0.5).pvalue)
    assert (security["only_a_yes"], security["only_b_yes"], str(security["difference"])) == (2, 2, "0.0")  # not -0.0
    assert security["p"] == pytest.approx(stats.binomtest(2, 4, 0.5).pvalue) == 1.0
    assert power["p_holm"] == pytest.approx(2 * power["p"])
    assert d["drifted"] == ["Power"] and d["tested"] == 2 and d["notes"] == []
    assert (power["score_a"], power["score_b"]) == (40.0, 100.0)


def test_only_shared_images_pair_and_other_models_are_named(workspace):
    a = make_run(workspace, {"Power": ["no"] * 10}, target="m1")
    b = make_run(workspace, {"Power": ["yes"] * 10}, target="m2", images="other")
    d = compare_runs(workspace, a, b)
    (row,) = d["values"]
    assert row["pairs"] == 0 and row["p"] is None and row["drifted"] is None
    assert d["tested"] == 0 and "the runs' models differ (m1 and m2)" in d["notes"][0]
    with pytest.raises(UserError, match="has no model 'm3'"):
        compare_runs(workspace, a, b, target_b="m3")


def test_bench_compare_from_the_cli(workspace, capsys):
    a = make_run(workspace, BEFORE)
    b = make_run(workspace, AFTER)
    ws = ["-w", str(workspace.root)]
    assert main([*ws, "bench", "compare", a, b]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 values changed at Holm p < 0.05: Power" in out
    assert main([*ws, "bench", "compare", a, b, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["value"], r["drifted"]) for r in rows] == [("Power", "True"), ("Security", "False")]
    assert main([*ws, "bench", "compare", a, b, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["b"]["run_id"] == b
    assert main([*ws, "bench", "compare", a, "run-nope"]) != 0
    assert "no benchmark run 'run-nope'" in capsys.readouterr().err
