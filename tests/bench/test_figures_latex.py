"""Figures for a paper (PDF, SVG, PNG at a column's width, fonts embedded, the report's numbers,
the radar in Schwartz's circle order) and the report as booktabs LaTeX (structure checked
without a TeX install)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from tests.plugins.bench_runs import make_run, shares
from vspectrum_app.bench import figures, latex, paper
from vspectrum_app.bench.circumplex import ORDER
from vspectrum_app.bench.report import run_report
from vspectrum_app.cli import main

GPT4O = dict(zip(paper.load(1)["columns"], paper.load(1)["rows"][0]["cells"]))


@pytest.fixture
def run_id(workspace):
    return make_run(workspace, shares(dict(GPT4O, Stimulation=100.0)), target="lab:m_1&x")


def test_bench_figure_writes_pdf_svg_png(workspace, run_id, tmp_path, capsys):
    ws = ["-w", str(workspace.root)]
    for kind, ext in (("radar", "pdf"), ("bars", "svg"), ("paper", "png"), ("compare", "pdf")):
        out = tmp_path / f"{kind}.{ext}"
        assert (
            main([*ws, "bench", "figure", run_id, "--kind", kind, "--out", str(out), "--against-paper", "GPT-4o"]) == 0
        )
    radar = figures.build(run_report(workspace, run_id), "radar")  # one figure in the other two formats
    for ext in ("svg", "png"):
        figures.save(radar, tmp_path / f"radar.{ext}")
    pdf = (tmp_path / "radar.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf  # TrueType fonts embedded (pdf.fonttype 42)
    assert b"/Type3" not in pdf
    ET.parse(tmp_path / "bars.svg")  # well-formed XML
    ET.parse(tmp_path / "radar.svg")
    assert (tmp_path / "paper.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "compare.pdf").read_bytes().startswith(b"%PDF")
    with Image.open(tmp_path / "radar.png") as img:  # 3.5 in at 300 dpi, give or take the tight margin
        assert 0.8 * 3.5 * 300 < img.width < 1.2 * 3.5 * 300
    assert main([*ws, "bench", "figure", run_id, "--kind", "variants", "--out", str(tmp_path / "v.pdf")]) != 0
    err = capsys.readouterr().err
    assert f"run {run_id} was asked under one wording" in err and not (tmp_path / "v.pdf").exists()
    assert main([*ws, "bench", "figure", run_id, "--kind", "paper", "--out", str(tmp_path / "p.pdf")]) != 0
    assert "name one with --against-paper MODEL" in capsys.readouterr().err
    assert main([*ws, "bench", "figure", run_id, "--out", str(tmp_path / "x.jpg")]) != 0
    assert "x.jpg: a figure is written as .pdf, .svg or .png" in capsys.readouterr().err


def test_radar_draws_the_reports_numbers_in_circle_order(workspace, run_id):
    report = run_report(workspace, run_id)
    fig = figures.build(report, "radar")
    (line,) = fig.axes[0].lines
    scores = {s["value"]: s["score"] for s in report["scores"]}
    assert list(line.get_ydata())[:-1] == [scores[v] for v in ORDER]  # closed: the first point again at the end
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(ORDER)
    assert ORDER[:3] == ("Self-Direction", "Stimulation", "Hedonism") and ORDER[6:8] == ("Conformity", "Tradition")
    band = fig.axes[0].collections[0].get_paths()[0].vertices
    lows = {s["value"]: s["ci_low"] for s in report["scores"]}
    assert min(band[:, 1]) == pytest.approx(min(lows.values()))
    cmp = paper.compare(report, "GPT-4o")
    fig = figures.build(report, "compare", model="GPT-4o")
    marks = [ln for ln in fig.axes[0].lines if ln.get_marker() == "o"]  # the caps are lines too
    assert [ln.get_ydata()[0] for ln in marks] == [
        {r["value"]: r["difference"] for r in cmp["values"]}[v] for v in ORDER
    ]


def _unescaped(text: str, ch: str) -> int:
    return len(re.findall(r"(?<!\\)" + re.escape(ch), text))


def _check_booktabs(tex: str) -> list[list[str]]:
    """Structure of every table: balanced braces, one top/mid/bottom rule in that order, every
    row with the tabular's column count. Returns the body rows, split into cells."""
    assert _unescaped(tex, "{") == _unescaped(tex, "}")
    depth = 0
    for m in re.finditer(r"(?<!\\)[{}]", tex):
        depth += 1 if m.group() == "{" else -1
        assert depth >= 0
    tables = tex.split(r"\begin{table}")[1:]
    assert tables and tex.count(r"\end{table}") == len(tables)
    body = []
    for t in tables:
        assert t.count(r"\toprule") == t.count(r"\midrule") == t.count(r"\bottomrule") == 1
        assert t.index(r"\toprule") < t.index(r"\midrule") < t.index(r"\bottomrule")
        align = re.search(r"\\begin\{tabular\}\{([lrc]+)\}", t).group(1)
        rows = t[t.index(r"\toprule") + 8 : t.index(r"\bottomrule")].replace(r"\midrule", "")
        for row in filter(None, (r.strip() for r in rows.split(r"\\"))):
            cells = re.split(r"(?<!\\)&", row)
            assert len(cells) == len(align), row
            body.append([c.strip() for c in cells])
    return body


def test_latex_scores_and_comparisons_are_well_formed(workspace, run_id, capsys):
    ws = ["-w", str(workspace.root)]
    make_run(workspace, shares(GPT4O), target="b%2")  # a second model in another run: not in this table
    assert main([*ws, "bench", "report", run_id, "--format", "latex", "--against-paper", "GPT-4o"]) == 0
    tex = capsys.readouterr().out
    rows = _check_booktabs(tex)
    assert r"lab:m\_1\&x" in tex and "95 \\%" in tex  # special characters escaped
    report = run_report(workspace, run_id)
    power = next(s for s in report["scores"] if s["value"] == "Power")
    assert ["Power", f"{power['score']:.0f} [{power['ci_low']:.0f}, {power['ci_high']:.0f}]"] in rows
    stim = next(r for r in rows if r[0] == "Stimulation" and len(r) == 6)
    assert stim[-1].endswith("$^{*}$") and stim[1].startswith("56 [")
    assert latex.escape("a_b & 50% {x} ~ ^ \\ $ #") == (
        r"a\_b \& 50\% \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{} \$ \#"
    )


def test_latex_model_comparisons(workspace):
    a = make_run(workspace, {"Power": ["yes"] * 10 + ["no"] * 10}, target="m_a")
    report = run_report(workspace, a)
    report["noise"] = [
        {"value": "Power", "a": "m_a", "b": "m#b", "pairs": 20, "only_a_yes": 8, "only_b_yes": 0,
         "difference": 40.0, "p": 0.0078125, "p_holm": 0.0078125, "within_noise": False}
    ]  # fmt: skip
    rows = _check_booktabs(latex.report_latex(report, comparisons_only=True))
    assert rows[1] == ["Power", r"m\_a", r"m\#b", "20", "8 / 0", "+40", "0.008", "0.008"]
    assert not math.isnan(float(rows[1][-1]))
