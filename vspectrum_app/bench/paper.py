"""The paper's published tables (Li et al., arXiv 2411.11479), bundled as data files under
``resources/paper/table<N>.json``, and a run compared with one of its published profiles.

Tables: 1 (eight VLMs x ten values), 10 (direct VLM answers and description + LLM settings),
9 (human annotation) and 3-8 (persona sessions). Each file carries its source (title, arXiv
id, table number, caption); tests/bench/test_paper.py checks every number against the paper's
text in the seeds. Files are read through the schema layer (core/schema.py).

The comparison (docs/benchmark.md, "Against the paper"): a published score is itself a
proportion from 50 images (Table 10 says so; Table 1's scores are all even, as 50 images
give), so per value two estimates are compared, not an estimate with a constant: the pooled
two-proportion z test (the score test, which stays defined at 0 and 100 %) on n = 50 for the
paper and the run's effective n (answers / design effect of its per-image repeats); the
difference's 95 % interval is Newcombe's hybrid score interval (MOVER), from the paper's
score interval (Wilson with continuity correction, n = 50) and the run's own reported interval. p-values are Holm-adjusted over the values.
Over the profile: Spearman's rank correlation and the mean absolute difference.
"""

from __future__ import annotations

import math
import re
import statistics
from functools import lru_cache
from typing import Any

from vspectrum_app.bench.intervals import METHOD, holm, mover_interval, score_interval
from vspectrum_app.core.csvfile import to_text
from vspectrum_app.core.errors import UserError
from vspectrum_app.core.paths import resources_dir
from vspectrum_app.core.schema import Bool, Int, List, Num, Obj, Optional, SchemaError, Str, read_json
from vspectrum_app.core.values import SCHWARTZ_VALUES
from vspectrum_app.bench.ranks import spearman

TABLES = (1, 3, 4, 5, 6, 7, 8, 9, 10)
SCORE_TABLES = (1, 10)  # the tables with a score per value: what a run is compared with
VLM_GROUP = "VLM_answer"  # Table 10's rows of direct answers to the image
ALPHA = 0.05
PAPER = "arXiv 2411.11479"
TEST_METHOD = (
    "pooled two-proportion z test (n = 50 per value for the paper, the run's effective n), "
    f"Holm-adjusted over the values; difference interval: Newcombe's hybrid score interval from {METHOD}"
)


def _rows_fit(doc: dict[str, Any]) -> str | None:
    """Every row has one cell per column; a score table's columns are the ten values."""
    width = len(doc["columns"])
    for i, row in enumerate(doc["rows"]):
        if len(row["cells"]) != width:
            return f"row {i + 1} ({row['name']}) has {len(row['cells'])} cells for {width} columns"
    if doc["kind"] == "value_scores":
        if sorted(doc["columns"]) != sorted(SCHWARTZ_VALUES):
            return "a table of value scores needs the ten values as its columns, each once"
        if doc.get("n_per_value") is None:
            return "a table of value scores needs n_per_value"
        if any(not 0 <= c <= 100 for row in doc["rows"] for c in row["cells"]):
            return "a score is outside 0-100"
    return None


_ROW = Obj(
    {
        "name": Str(max_len=200, non_empty=True),
        "group": Optional(Str(max_len=200, non_empty=True)),
        "cells": List(Num(min=-1000, max=1000), min_items=1, max_items=20),
        "open_source": Optional(Bool()),
        "parameters": Optional(Str(max_len=20)),
    },
    required=("name", "group", "cells"),
)
_SPEC = Obj(
    {
        "source": Obj(
            {
                "title": Str(max_len=300, non_empty=True),
                "arxiv": Str(pattern=r"\d{4}\.\d{4,5}"),
                "table": Int(min=1, max=99),
                "caption": Str(max_len=1000, non_empty=True),
            },
            required=("title", "arxiv", "table", "caption"),
        ),
        "kind": Str(choices=("value_scores", "persona", "annotation")),
        "n_per_value": Optional(Int(min=1)),
        "columns": List(Str(max_len=100, non_empty=True), min_items=1, max_items=20),
        "rows": List(_ROW, min_items=1, max_items=100),
    },
    required=("source", "kind", "columns", "rows"),
    rule=_rows_fit,
)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@lru_cache(maxsize=None)
def _load(number: int) -> dict[str, Any]:
    path = resources_dir() / "paper" / f"table{number}.json"
    try:
        doc: dict[str, Any] = read_json(path, _SPEC)
    except SchemaError as exc:
        raise UserError(f"the bundled paper table is damaged: {exc}") from None
    if doc["source"]["table"] != number:
        raise UserError(f"{path.name}: says it is table {doc['source']['table']}, not {number}")
    names = [r["name"] for r in doc["rows"]]
    for row in doc["rows"]:
        # a name printed twice (Table 10's "GPT-4o_text" in three settings) is keyed with its setting
        row["key"] = row["name"] if names.count(row["name"]) == 1 else f"{row['name']} ({row['group']})"
    return doc


def load(number: int) -> dict[str, Any]:
    """One published table: ``source``, ``kind``, ``columns``, ``rows`` (name, group, cells,
    key; Table 1 also open_source and parameters) and, for score tables, ``n_per_value``."""
    if number not in TABLES:
        raise UserError(f"the paper has no bundled table {number}; bundled: {', '.join(map(str, TABLES))}")
    doc = _load(number)
    return {**doc, "rows": [dict(r) for r in doc["rows"]]}  # callers may not change the cache


def models(table: int = 1) -> list[str]:
    """The keys of a score table's rows (what ``--against-paper`` accepts)."""
    if table not in SCORE_TABLES:
        raise UserError(f"table {table} has no scores per value; a run is compared with table 1 or 10")
    return [r["key"] for r in load(table)["rows"]]


def profile(model: str, table: int = 1) -> dict[str, Any]:
    """A published row of table 1 or 10 by its key or (unique) printed name, any case and
    spacing: ``{"key", "name", "group", "table", "n", "scores": {value: score}}``."""
    known = models(table)
    doc = load(table)
    wanted = _norm(model)
    hits = [r for r in doc["rows"] if _norm(r["key"]) == wanted] or [
        r for r in doc["rows"] if _norm(r["name"]) == wanted
    ]
    if len(hits) != 1:
        what = "matches several rows" if hits else "is not"
        raise UserError(f"{model!r} {what} in the paper's Table {table}; its rows: {', '.join(known)}")
    row = hits[0]
    return {
        "key": row["key"],
        "name": row["name"],
        "group": row["group"],
        "table": table,
        "n": doc["n_per_value"],
        "scores": dict(zip(doc["columns"], row["cells"])),
    }


def disagreements(model: str) -> list[str]:
    """Sentences where Table 1 and Table 10's direct answers both have ``model`` (by name) and
    disagree: each table's range over the values and the largest and mean gap."""
    rows: dict[int, dict[str, float]] = {}
    for table in SCORE_TABLES:
        doc = load(table)
        for r in doc["rows"]:
            direct = table == 1 or r["group"] == VLM_GROUP
            if direct and _norm(r["name"]) == _norm(model):
                rows[table] = dict(zip(doc["columns"], r["cells"]))
    if len(rows) < 2:
        return []
    one, ten = rows[1], rows[10]
    gaps = {v: ten[v] - one[v] for v in SCHWARTZ_VALUES}
    worst = max(gaps, key=lambda v: abs(gaps[v]))
    if not any(gaps.values()):
        return []
    return [
        f"the paper's own tables disagree on {model}: Table 1 gives {min(one.values()):.0f}-{max(one.values()):.0f} "
        f"over the ten values, Table 10 (direct VLM answers) {min(ten.values()):.0f}-{max(ten.values()):.0f}; "
        f"they differ by up to {abs(gaps[worst]):.0f} points ({worst}) and by "
        f"{statistics.fmean(abs(g) for g in gaps.values()):.1f} on average"
    ]


# -- statistics -----------------------------------------------------------------------------


def two_proportion_p(p1: float, n1: float, p2: float, n2: float) -> float:
    """Two-sided p of the pooled two-proportion z test (proportions as fractions; n may be
    effective, non-integer). Both at the same edge (pooled share 0 or 1): no difference, p = 1."""
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return math.erfc(abs(p2 - p1) / se / math.sqrt(2))


# -- a run against a published profile ------------------------------------------------------


def run_target(report: dict[str, Any], target: str | None, mode: str = "vlm") -> str:
    """The run's model to compare: ``target``, or the run's only model in ``mode``."""
    targets = sorted({s["target"] for s in report["scores"] if s["mode"] == mode})
    if target is None:
        if len(targets) == 1:
            return str(targets[0])
        if not targets:
            raise UserError(f"run {report['run_id']} has no scores in mode {mode}")
        raise UserError(f"run {report['run_id']} has several models: choose one with --target ({', '.join(targets)})")
    if target not in targets:
        raise UserError(
            f"run {report['run_id']} has no model {target!r} in mode {mode}: {', '.join(targets) or 'none'}"
        )
    return target


def compare(
    report: dict[str, Any], model: str, table: int = 1, target: str | None = None, mode: str = "vlm"
) -> dict[str, Any]:
    """A run's scores (a ``run_report``, by its rule) against a published profile, per value
    and over the profile."""
    published = profile(model, table)
    target = run_target(report, target, mode)
    cells = {s["value"]: s for s in report["scores"] if s["target"] == target and s["mode"] == mode}
    n1 = published["n"]
    rows: list[dict[str, Any]] = []
    for value in SCHWARTZ_VALUES:
        paper = published["scores"][value]
        s = cells.get(value)
        row: dict[str, Any] = {"value": value, "paper": paper, "paper_n": n1}
        p1 = paper / 100
        ci1 = score_interval(p1 * n1, n1)
        assert ci1 is not None  # n1 > 0
        row["paper_ci_low"], row["paper_ci_high"] = 100 * ci1[0], 100 * ci1[1]
        measured = s is not None and s["score"] is not None and s["n_eff"] and s["ci_low"] is not None
        if not measured:
            row.update(run=None, run_ci_low=None, run_ci_high=None, run_n_eff=None)
            row.update(difference=None, diff_low=None, diff_high=None, p=None)
        else:
            assert s is not None
            p2 = s["score"] / 100
            lo, hi = mover_interval([(-1.0, p1, *ci1), (1.0, p2, s["ci_low"] / 100, s["ci_high"] / 100)])
            row.update(run=s["score"], run_ci_low=s["ci_low"], run_ci_high=s["ci_high"], run_n_eff=s["n_eff"])
            row.update(difference=s["score"] - paper, diff_low=100 * lo, diff_high=100 * hi)
            row["p"] = two_proportion_p(p1, n1, p2, s["n_eff"])
        rows.append(row)
    tested = [r for r in rows if r["p"] is not None]
    for r, adjusted in zip(tested, holm([r["p"] for r in tested])):
        r["p_holm"] = adjusted
        r["differs"] = adjusted < ALPHA
    for r in rows:
        r.setdefault("p_holm", None)
        r.setdefault("differs", None)
    both = [r for r in rows if r["run"] is not None]
    rho = spearman([r["paper"] for r in both], [r["run"] for r in both])
    return {
        "run_id": report["run_id"],
        "target": target,
        "mode": mode,
        "rule": report["rule"],
        "rule_text": report["rule_text"],
        "published": {k: published[k] for k in ("key", "name", "group", "table", "n")},
        "source": f"{PAPER}, Table {table}",
        "method": TEST_METHOD,
        "values": rows,
        "measured": len(both),
        "differ": [r["value"] for r in rows if r["differs"]],
        "spearman": rho,
        "mean_abs_difference": statistics.fmean(abs(r["difference"]) for r in both) if both else None,
        "notes": disagreements(published["name"]),
    }


COMPARISON_COLUMNS = (
    "value",
    "paper",
    "paper_ci_low",
    "paper_ci_high",
    "run",
    "run_ci_low",
    "run_ci_high",
    "run_n_eff",
    "difference",
    "diff_low",
    "diff_high",
    "p",
    "p_holm",
    "differs",
)


def _r(v: object) -> object:
    return round(v, 4) if isinstance(v, float) else v


def comparison_csv(cmp: dict[str, Any]) -> str:
    return to_text(COMPARISON_COLUMNS, ([_r(row[c]) for c in COMPARISON_COLUMNS] for row in cmp["values"]))


def _f(v: float | None, fmt: str = "{:.0f}") -> str:
    return "n/a" if v is None else fmt.format(v)


def comparison_text(cmp: dict[str, Any]) -> str:
    pub = cmp["published"]
    who = pub["name"] + (f" ({pub['group']})" if pub["group"] else "")
    lines = [
        f"{cmp['run_id']} {cmp['target']} against {who}, {cmp['source']}",
        cmp["rule_text"],
        f"test: {cmp['method']}",
        "",
        f"{'value':<15}{'paper':>7}{'run':>6}{'95 % interval':>15}{'diff':>7}{'95 % interval':>16}"
        f"{'p':>9}{'Holm p':>9}",
    ]
    for r in cmp["values"]:
        ci = f"[{r['run_ci_low']:.0f}-{r['run_ci_high']:.0f}]" if r["run"] is not None else "not measured"
        diff_ci = f"[{r['diff_low']:+.0f}, {r['diff_high']:+.0f}]" if r["difference"] is not None else ""
        flag = "  differs" if r["differs"] else ""
        lines.append(
            f"{r['value']:<15}{r['paper']:>7.0f}{_f(r['run']):>6}{ci:>15}{_f(r['difference'], '{:+.0f}'):>7}"
            f"{diff_ci:>16}{_f(r['p'], '{:.3g}'):>9}{_f(r['p_holm'], '{:.3g}'):>9}{flag}"
        )
    lines.append("")
    differ = cmp["differ"]
    lines.append(
        f"{len(differ)} of {cmp['measured']} values differ from the paper at Holm p < {ALPHA}"
        + (f": {', '.join(differ)}" if differ else "")
    )
    lines.append(
        f"profile: Spearman rho {_f(cmp['spearman'], '{:.2f}')}, mean absolute difference "
        f"{_f(cmp['mean_abs_difference'], '{:.1f}')} points over {cmp['measured']} values"
    )
    lines += [f"note: {n}" for n in cmp["notes"]]
    return "\n".join(lines)


# -- printing the tables --------------------------------------------------------------------


def _header(doc: dict[str, Any]) -> list[str]:
    extra = ["open_source", "parameters"] if doc["source"]["table"] == 1 else []
    return ["table", "group", "name", *extra, *doc["columns"]]


def table_rows(doc: dict[str, Any]) -> list[list[Any]]:
    out = []
    for r in doc["rows"]:
        extra = [r.get("open_source"), r.get("parameters")] if doc["source"]["table"] == 1 else []
        out.append([doc["source"]["table"], r["group"] or "", r["name"], *extra, *r["cells"]])
    return out


def tables_csv(docs: list[dict[str, Any]]) -> str:
    """One CSV block per table (each with its header), separated by an empty line."""
    return "\r\n".join(to_text(_header(doc), table_rows(doc)) for doc in docs)


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None:
        return "-"
    return f"{v:g}" if isinstance(v, float) else str(v)


def table_text(doc: dict[str, Any]) -> str:
    src = doc["source"]
    head = _header(doc)[2:]
    rows = [
        [(f"{r['group']}: " if r["group"] else "") + r["name"], *map(_cell, line[3:])]
        for r, line in zip(doc["rows"], table_rows(doc))
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = [f"Table {src['table']} ({PAPER}): {src['caption']}"]
    if doc.get("n_per_value"):
        lines.append(f"each score from {doc['n_per_value']} images per value")
    lines.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))))
    for row in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    if src["table"] in SCORE_TABLES:
        names = [r["name"] for r in doc["rows"] if src["table"] == 1 or r["group"] == VLM_GROUP]
        lines += [f"note: {n}" for name in names for n in disagreements(name)]
    return "\n".join(lines)
