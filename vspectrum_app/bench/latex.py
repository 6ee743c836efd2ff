"""A run's report as LaTeX tables for a paper (``bench report RUN --format latex``): booktabs
(``\\toprule``, ``\\midrule``, ``\\bottomrule``; the preamble needs ``\\usepackage{booktabs}``),
the same numbers as the report: scores with their 95 % intervals per value and model, and,
when asked, the paired model comparisons or the comparison with the paper. Text from the run
(model names) is escaped, so any name compiles."""

from __future__ import annotations

from typing import Any

from vspectrum_app.core.values import SCHWARTZ_VALUES

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def escape(text: str) -> str:
    """Text as LaTeX prints it literally (the ten special characters escaped; newlines become spaces)."""
    return "".join(_ESCAPES.get(ch, ch) for ch in " ".join(str(text).split()))


def _num(v: float | None, fmt: str = "{:.0f}") -> str:
    return "--" if v is None else fmt.format(v).replace("-", "$-$") if v < 0 else fmt.format(v)


def _ci(lo: float | None, hi: float | None, fmt: str = "{:.0f}") -> str:
    return "" if lo is None or hi is None else f" [{_num(lo, fmt)}, {_num(hi, fmt)}]"


def _p(p: float | None) -> str:
    if p is None:
        return "--"
    return "$<$0.001" if p < 0.001 else f"{p:.3f}"


def _table(columns: list[str], align: str, rows: list[list[str]], caption: str, label: str) -> str:
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{" + align + "}",
        r"\toprule",
        " & ".join(columns) + r" \\",
        r"\midrule",
        *(" & ".join(r) + r" \\" for r in rows),
        r"\bottomrule",
        r"\end{tabular}",
        r"\caption{" + caption + "}",
        r"\label{" + label + "}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def scores_table(report: dict[str, Any]) -> str:
    """Values as rows, the run's models (and text arms) as columns: score [95 % interval]."""
    columns = sorted({(s["target"], s["mode"]) for s in report["scores"]}, key=lambda c: (c[1] != "vlm", c))
    cell = {(s["target"], s["mode"], s["value"]): s for s in report["scores"]}
    values = [v for v in SCHWARTZ_VALUES if any((t, m, v) in cell for t, m in columns)]
    rows = []
    for v in values:
        row = [escape(v)]
        for t, m in columns:
            s = cell.get((t, m, v))
            row.append("--" if s is None else _num(s["score"]) + _ci(s["ci_low"], s["ci_high"]))
        rows.append(row)
    heads = ["Value"] + [escape(t + (" (text)" if m == "text" else "")) for t, m in columns]
    caption = escape(
        f"Preference scores of run {report['run_id']} with 95 % intervals ({report['methods']['interval']}). "
        f"{report['rule_text'][:1].upper()}{report['rule_text'][1:]}."
    )
    return _table(heads, "l" + "r" * len(columns), rows, caption, "tab:value-spectrum-scores")


def model_comparisons_table(report: dict[str, Any]) -> str:
    """The run's paired model comparisons (exact McNemar, Holm)."""
    rows = [
        [
            escape(c["value"]),
            escape(c["a"]),
            escape(c["b"]),
            str(c["pairs"]),
            f"{c['only_a_yes']} / {c['only_b_yes']}",
            _num(c["difference"], "{:+.0f}"),
            _p(c["p"]),
            _p(c["p_holm"]),
        ]
        for c in report["noise"]
    ]
    heads = ["Value", "Model A", "Model B", "Pairs", "A only / B only", "A$-$B", "$p$", "Holm $p$"]
    caption = escape(f"Paired model comparisons of run {report['run_id']}: {report['methods']['comparison']}.")
    return _table(heads, "lllrrrrr", rows, caption, "tab:value-spectrum-comparisons")


def paper_table(cmp: dict[str, Any]) -> str:
    """A run against a published profile (``paper.compare``)."""
    rows = [
        [
            escape(r["value"]),
            _num(r["paper"]) + _ci(r["paper_ci_low"], r["paper_ci_high"]),
            _num(r["run"]) + _ci(r["run_ci_low"], r["run_ci_high"]),
            _num(r["difference"], "{:+.0f}") + _ci(r["diff_low"], r["diff_high"], "{:+.0f}"),
            _p(r["p"]),
            _p(r["p_holm"]) + (r"$^{*}$" if r["differs"] else ""),
        ]
        for r in cmp["values"]
    ]
    pub = cmp["published"]
    rho = "n/a" if cmp["spearman"] is None else f"{cmp['spearman']:.2f}"
    mad = "n/a" if cmp["mean_abs_difference"] is None else f"{cmp['mean_abs_difference']:.1f}"
    caption = (
        escape(
            f"Run {cmp['run_id']} ({cmp['target']}) against {pub['name']} in {cmp['source']}, 95 % intervals; "
            f"test: {cmp['method']}. Spearman rho {rho}, mean absolute difference {mad} points."
        )
        + r" $^{*}$: Holm $p < 0.05$."
    )
    heads = ["Value", "Paper", "Run", "Difference", "$p$", "Holm $p$"]
    return _table(heads, "lrrrrr", rows, caption, "tab:value-spectrum-vs-paper")


def report_latex(
    report: dict[str, Any], comparison: dict[str, Any] | None = None, comparisons_only: bool = False
) -> str:
    """The scores table (or, with ``comparisons_only``, the model comparisons), and the paper
    comparison when given."""
    parts = [model_comparisons_table(report) if comparisons_only else scores_table(report)]
    if comparison is not None:
        parts.append(paper_table(comparison))
    return "\n".join(parts)
