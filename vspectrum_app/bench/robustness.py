"""Prompt-wording robustness (``vspectrum bench report RUN --variants``): is a model's value
profile a property of the model, or of the question's wording? Methods in docs/benchmark.md,
"Prompt-wording robustness".

For a run asked under several wordings (bench/variants.py), per model and arm:
- per wording and value, the score and its interval: ``scoring.score_answers`` on that
  wording's answers, the very function of the main report;
- per value, the range of the scores across wordings;
- per value and overall, over the *units* (value, keyword, image, repeat) answered under every
  wording: the share answered alike (the same class under every wording) and Fleiss' kappa
  with the wordings as raters and the answer classes as categories (core.agreement);
- per pair of wordings, Spearman's rank correlation of their value profiles;
- per value, a verdict: ``wording-sensitive`` when the yes-shares differ across wordings
  beyond chance on the units answered yes or no under every wording (Cochran's Q, exact
  McNemar for two wordings; Holm over the model's values, alpha 0.05), else ``stable``;
  ``no data`` when no unit was answered yes or no under every wording.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import combinations
from typing import TYPE_CHECKING, Any, Sequence

from vspectrum_app.bench.intervals import holm, mcnemar_exact
from vspectrum_app.bench.modality import NO_DESCRIPTION
from vspectrum_app.bench.plan import PROBE
from vspectrum_app.bench.scoring import ALPHA, INTERVAL_METHOD, answer_class, score_answers
from vspectrum_app.bench.store import RunStore
from vspectrum_app.bench.variants import from_manifest
from vspectrum_app.core.agreement import fleiss_kappa
from vspectrum_app.core.csvfile import to_text
from vspectrum_app.core.values import SCHWARTZ_VALUES
from vspectrum_app.bench.ranks import spearman

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

CLASSES = ("yes", "no", "refusal", "unparsed")
METHODS = {
    "interval": INTERVAL_METHOD,
    "alike": "share of units (value, keyword, image, repeat) answered under every wording that got the same "
    "class (yes, no, refusal, unparsed) under all of them",
    "agreement": "Fleiss' kappa, wordings as raters, answer classes as categories, on the same units",
    "correlation": "Spearman's rank correlation of two wordings' scores over the values both scored (ties: mean ranks)",
    "verdict": "wording-sensitive when the yes-shares differ across wordings on the units answered yes or no under "
    "every wording: Cochran's Q (chi-square, wordings - 1 df; exact McNemar for two wordings), Holm-adjusted over "
    f"the model's values, p < {ALPHA}; else stable",
}
CSV_COLUMNS = (
    "run_id",
    "target",
    "mode",
    "value",
    "variant",
    "n",
    "yes",
    "no",
    "refusal",
    "unparsed",
    "score",
    "ci_low",
    "ci_high",
    "range",
    "units",
    "alike_share",
    "kappa",
    "q",
    "p",
    "p_holm",
    "verdict",
)


def variant_report(ws: Workspace, run_id: str, paper_style: bool = False) -> dict[str, Any]:
    """The robustness report of one run (any run: one without wordings has one, ``paper``)."""
    store = RunStore(ws)
    manifest = store.manifest(run_id)
    wordings = from_manifest(manifest)
    rule = "paper" if paper_style else "ours"
    every = store.items(run_id, status=None)
    answers = [a for a in every if a["status"] == "done" and a["mode"] != PROBE and a["answer_class"] != NO_DESCRIPTION]
    return {
        "run_id": run_id,
        "rule": rule,
        "wordings": [w.to_json() for w in wordings],
        "methods": METHODS,
        "progress": {"done": sum(a["status"] == "done" for a in every), "total": len(every)},
        **robustness(answers, [w.name for w in wordings], rule),
    }


def robustness(answers: list[dict[str, Any]], names: Sequence[str], rule: str = "ours") -> dict[str, Any]:
    """The statistics over done items (target, mode, value, keyword, image_sha256, repeat,
    variant, answer_class, answer1) asked under the wordings ``names`` (in their order)."""
    by_variant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in answers:
        by_variant[a["variant"]].append(a)
    scores = []
    for name in names:
        scores += [{"variant": name, **s.as_dict()} for s in score_answers(by_variant.get(name, []), rule=rule)]
    units: dict[tuple[str, str, str], dict[tuple[str, str, int], dict[str, str]]] = defaultdict(dict)
    for a in answers:
        unit = units[(a["target"], a["mode"], a["value"])].setdefault(
            (a["keyword"], a["image_sha256"], a["repeat"]), {}
        )
        unit[a["variant"]] = answer_class(a, rule)
    cells = sorted({(s["target"], s["mode"], s["value"]) for s in scores}, key=_order)
    values = [_value_row(cell, scores, units.get(cell, {}), names) for cell in cells]
    models = []
    for target, mode in sorted({(t, m) for t, m, _ in cells}):
        rows = [v for v in values if (v["target"], v["mode"]) == (target, mode)]
        for row, adjusted in zip(rows, holm([r["p"] if r["p"] is not None else 1.0 for r in rows])):
            row["p_holm"] = adjusted if row["p"] is not None else None
            row["verdict"] = _verdict(row) if len(names) > 1 else "one wording"
        complete = [u for cell in cells if cell[:2] == (target, mode) for u in _complete(units.get(cell, {}), names)]
        models.append(
            {
                "target": target,
                "mode": mode,
                **_agreement(complete, names),
                "correlations": _correlations([s for s in scores if (s["target"], s["mode"]) == (target, mode)], names),
            }
        )
    return {"scores": scores, "values": values, "models": models}


def _order(cell: tuple[str, str, str]) -> tuple[str, str, int]:
    order = {v: i for i, v in enumerate(SCHWARTZ_VALUES)}
    return cell[0], cell[1], order.get(cell[2], 99)


def _complete(units: dict[Any, dict[str, str]], names: Sequence[str]) -> list[list[str]]:
    """The units answered under every wording: their classes in wording order."""
    return [[u[n] for n in names] for u in units.values() if all(n in u for n in names)]


def _agreement(complete: list[list[str]], names: Sequence[str]) -> dict[str, Any]:
    alike = sum(len(set(u)) == 1 for u in complete)
    kappa = fleiss_kappa([[u.count(c) for c in CLASSES] for u in complete]) if len(names) > 1 else None
    return {
        "units": len(complete),
        "alike": alike,
        "alike_share": 100 * alike / len(complete) if complete else None,
        "kappa": kappa,
    }


def _value_row(
    cell: tuple[str, str, str], scores: list[dict[str, Any]], units: dict[Any, dict[str, str]], names: Sequence[str]
) -> dict[str, Any]:
    target, mode, value = cell
    scored = [s for s in scores if (s["target"], s["mode"], s["value"]) == cell and s["score"] is not None]
    low = min(scored, key=lambda s: s["score"]) if scored else None
    high = max(scored, key=lambda s: s["score"]) if scored else None
    complete = _complete(units, names)
    decided = [[c == "yes" for c in u] for u in complete if all(c in ("yes", "no") for c in u)]
    q, p = cochran_q(decided) if len(names) > 1 and decided else (None, None)
    return {
        "target": target,
        "mode": mode,
        "value": value,
        "wordings_scored": len(scored),
        "min": low["score"] if low else None,
        "min_wording": low["variant"] if low else None,
        "max": high["score"] if high else None,
        "max_wording": high["variant"] if high else None,
        "range": high["score"] - low["score"] if low and high else None,
        **_agreement(complete, names),
        "decided_units": len(decided),
        "q": q,
        "p": p,
    }


def _verdict(row: dict[str, Any]) -> str:
    if row["p_holm"] is None:
        return "no data"
    return "wording-sensitive" if row["p_holm"] < ALPHA else "stable"


def cochran_q(rows: Sequence[Sequence[bool]]) -> tuple[float, float]:
    """Cochran's Q and its p for k related yes/no samples (rows: units, columns: wordings);
    for two wordings the p is the exact McNemar test's (Q is then McNemar's chi-square)."""
    k = len(rows[0])
    col = [sum(r[j] for r in rows) for j in range(k)]
    row_totals = [sum(r) for r in rows]
    n = sum(row_totals)
    denominator = k * n - sum(t * t for t in row_totals)
    if denominator == 0:  # every unit answered alike under every wording: no evidence of a difference
        return 0.0, 1.0
    q = (k - 1) * (k * sum(c * c for c in col) - n * n) / denominator
    if k == 2:
        b = sum(1 for r in rows if r[0] and not r[1])
        return q, mcnemar_exact(b, sum(1 for r in rows if r[1] and not r[0]))
    return q, chi2_sf(q, k - 1)


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for chi-square with integer ``df`` (closed forms; no scipy at run time)."""
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    total, term = math.erfc(math.sqrt(half)), math.sqrt(x / math.pi) * math.exp(-half) * 2 / math.sqrt(2)
    for i in range(1, (df + 1) // 2):
        total += term
        term *= x / (2 * i + 1)
    return min(1.0, max(0.0, total))


def _correlations(scores: list[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    profile = {
        n: {s["value"]: s["score"] for s in scores if s["variant"] == n and s["score"] is not None} for n in names
    }
    out = []
    for a, b in combinations(names, 2):
        shared = [v for v in SCHWARTZ_VALUES if v in profile[a] and v in profile[b]]
        rho = spearman([profile[a][v] for v in shared], [profile[b][v] for v in shared])
        out.append({"a": a, "b": b, "values": len(shared), "rho": rho})
    return out


# -- output -------------------------------------------------------------------------------


def value_line(row: dict[str, Any]) -> str:
    """The one-line verdict of a value, with what it rests on."""
    if row["verdict"] == "one wording":
        return f"{row['value']}: one wording only (run with --prompt-variants to compare wordings)"
    if row["verdict"] == "no data":
        return f"{row['value']}: no data (no unit answered yes or no under every wording)"
    spread = (
        f"range {row['range']:.0f} points ({row['min_wording']} {row['min']:.0f} .. {row['max_wording']} {row['max']:.0f})"
        if row["range"] is not None
        else "range n/a"
    )
    return (
        f"{row['value']}: {row['verdict']} - {spread}; {row['decided_units']} units answered yes/no under every "
        f"wording, Q = {row['q']:.2f}, p = {row['p']:.3g}, Holm p = {row['p_holm']:.3g}"
    )


def _num(v: float | None, fmt: str = "{:.0f}") -> str:
    return "n/a" if v is None else fmt.format(v)


def to_table(report: dict[str, Any]) -> str:
    p = report["progress"]
    lines = [f"{report['run_id']}: {p['done']}/{p['total']} answers under {len(report['wordings'])} wording(s)"]
    for w in report["wordings"]:
        lines.append(f"  {w['name']}: {w['like']}")
    lines += [f"{k}: {v}" for k, v in report["methods"].items()]
    for m in report["models"]:
        who = m["target"] + (" (text)" if m["mode"] == "text" else "")
        lines += ["", f"{who}: {m['units']} units answered under every wording"]
        lines.append(
            f"  answered alike under every wording: {m['alike']}/{m['units']} ({_num(m['alike_share'])} %); "
            f"Fleiss' kappa {_num(m['kappa'], '{:.2f}')}"
        )
        head = f"  {'value':<15}{'wording':<12}{'n':>5}{'yes':>5}{'no':>5}{'ref':>5}{'unp':>5}{'score':>7}{'95 % interval':>15}"
        lines.append(head)
        for row in [v for v in report["values"] if (v["target"], v["mode"]) == (m["target"], m["mode"])]:
            for n, s in enumerate(
                s
                for s in report["scores"]
                if (s["target"], s["mode"], s["value"]) == (row["target"], row["mode"], row["value"])
            ):
                ci = f"[{s['ci_low']:.0f}-{s['ci_high']:.0f}]" if s["ci_low"] is not None else "n/a"
                lines.append(
                    f"  {row['value'] if n == 0 else '':<15}{s['variant'][:11]:<12}{s['n']:>5}{s['yes']:>5}{s['no']:>5}"
                    f"{s['refusal']:>5}{s['unparsed']:>5}{_num(s['score']):>7}{ci:>15}"
                )
            lines.append(
                f"    alike {row['alike']}/{row['units']}, kappa {_num(row['kappa'], '{:.2f}')}; " + value_line(row)
            )
        if m["correlations"]:
            lines.append("  Spearman rank correlation of the value profiles:")
            for c in m["correlations"]:
                lines.append(f"    {c['a']} ~ {c['b']}: {_num(c['rho'], '{:+.2f}')} over {c['values']} values")
    return "\n".join(lines)


def _round(v: object) -> object:
    return round(v, 4) if isinstance(v, float) else v


def to_csv(report: dict[str, Any]) -> str:
    """One row per model x mode x value x wording; the value's statistics repeated on each."""
    by_cell = {(v["target"], v["mode"], v["value"]): v for v in report["values"]}
    rows = []
    for s in report["scores"]:
        row = {**by_cell.get((s["target"], s["mode"], s["value"]), {}), **s, "run_id": report["run_id"]}
        rows.append([_round(row.get(c)) for c in CSV_COLUMNS])
    return to_text(CSV_COLUMNS, rows)
