"""Model drift: two runs (typically of the same model at different dates) compared image by
image (docs/benchmark.md, "Drift between two runs").

Per value, the images both runs answered yes or no are pairs (an image's repeats collapse to
their majority, a tie leaves it out, as in the run's own model comparisons; the keyword an
image was retrieved by is ignored, so a re-planned run still pairs its images). The
discordant pairs go into the exact McNemar test (``scoring.paired_test``, the same function
that compares models within a run), Holm-adjusted over the values. Each run's own score and
interval come from ``run_report``, as in its report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vspectrum_app.bench.intervals import holm
from vspectrum_app.bench.modality import NO_DESCRIPTION
from vspectrum_app.bench.paper import run_target
from vspectrum_app.bench.plan import PROBE
from vspectrum_app.bench.report import run_report
from vspectrum_app.bench.scoring import ALPHA, paired_test
from vspectrum_app.bench.store import RunStore
from vspectrum_app.core.csvfile import to_text
from vspectrum_app.core.values import SCHWARTZ_VALUES

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

METHOD = "exact McNemar test on the images both runs answered, per value, Holm-adjusted over the values"
COLUMNS = (
    "value",
    "score_a",
    "ci_low_a",
    "ci_high_a",
    "score_b",
    "ci_low_b",
    "ci_high_b",
    "pairs",
    "only_a_yes",
    "only_b_yes",
    "difference",
    "p",
    "p_holm",
    "drifted",
)


def _answers(store: RunStore, run_id: str, target: str, mode: str) -> dict[str, list[dict[str, Any]]]:
    """Per value, the run's scored answers of one model (the report's filter), keyword-free."""
    by: dict[str, list[dict[str, Any]]] = {}
    for a in store.items(run_id):
        if a["mode"] == PROBE or a["answer_class"] == NO_DESCRIPTION:
            continue
        if a["target"] == target and a["mode"] == mode:
            by.setdefault(a["value"], []).append({**a, "keyword": ""})
    return by


def compare_runs(
    ws: Workspace,
    run_a: str,
    run_b: str,
    target_a: str | None = None,
    target_b: str | None = None,
    mode: str = "vlm",
    paper_style: bool = False,
) -> dict[str, Any]:
    """Run B against run A, value by value, paired by image. ``target_b`` defaults to
    ``target_a`` when run B has it, else to run B's only model."""
    store = RunStore(ws)
    rep_a, rep_b = run_report(ws, run_a, paper_style=paper_style), run_report(ws, run_b, paper_style=paper_style)
    ta = run_target(rep_a, target_a, mode)
    b_targets = {s["target"] for s in rep_b["scores"] if s["mode"] == mode}
    tb = run_target(rep_b, target_b or (ta if ta in b_targets else None), mode)
    rule = rep_a["rule"]
    cells_a = {s["value"]: s for s in rep_a["scores"] if s["target"] == ta and s["mode"] == mode}
    cells_b = {s["value"]: s for s in rep_b["scores"] if s["target"] == tb and s["mode"] == mode}
    ans_a, ans_b = _answers(store, run_a, ta, mode), _answers(store, run_b, tb, mode)
    created = {r["id"]: r["created_at"] for r in store.runs()}
    rows: list[dict[str, Any]] = []
    for value in SCHWARTZ_VALUES:
        if value not in cells_a and value not in cells_b:
            continue
        row: dict[str, Any] = {"value": value}
        for side, cells in (("a", cells_a), ("b", cells_b)):
            s = cells.get(value) or {}
            row[f"score_{side}"], row[f"ci_low_{side}"], row[f"ci_high_{side}"] = (
                s.get("score"),
                s.get("ci_low"),
                s.get("ci_high"),
            )
        if value in ans_a and value in ans_b:
            row.update(paired_test(ans_a[value], ans_b[value], rule))
            if row["difference"] is not None:
                row["difference"] = 0.0 - row["difference"]  # paired_test gives A - B; drift reads B - A (never -0)
        else:
            row.update(pairs=0, only_a_yes=0, only_b_yes=0, difference=None)
        if not row["pairs"]:
            row["p"] = None  # no shared image: nothing tested (not "no change")
        rows.append(row)
    tested = [r for r in rows if r["pairs"]]
    for r, adjusted in zip(tested, holm([r["p"] for r in tested])):
        r["p_holm"] = adjusted
        r["drifted"] = adjusted < ALPHA
    for r in rows:
        r.setdefault("p_holm", None)
        r.setdefault("drifted", None)
    notes = []
    if ta != tb:
        notes.append(f"the runs' models differ ({ta} and {tb}): this compares two models, not one model's drift")
    if rule == "paper":
        notes.append("scored with the paper's rule: refusals and unclear answers count as no")
    return {
        "a": {"run_id": run_a, "target": ta, "created_at": created.get(run_a)},
        "b": {"run_id": run_b, "target": tb, "created_at": created.get(run_b)},
        "mode": mode,
        "rule": rule,
        "rule_text": rep_a["rule_text"],
        "method": METHOD,
        "values": rows,
        "drifted": [r["value"] for r in rows if r["drifted"]],
        "tested": len(tested),
        "notes": notes,
    }


def _r(v: object) -> object:
    return round(v, 4) if isinstance(v, float) else v


def drift_csv(d: dict[str, Any]) -> str:
    return to_text(COLUMNS, ([_r(row[c]) for c in COLUMNS] for row in d["values"]))


def _f(v: float | None, fmt: str = "{:.0f}") -> str:
    return "n/a" if v is None else fmt.format(v)


def _ci(row: dict[str, Any], side: str) -> str:
    lo, hi = row[f"ci_low_{side}"], row[f"ci_high_{side}"]
    return f"[{lo:.0f}-{hi:.0f}]" if lo is not None else ""


def drift_text(d: dict[str, Any]) -> str:
    a, b = d["a"], d["b"]
    lines = [
        f"A: {a['run_id']} {a['target']} ({(a['created_at'] or '?')[:16]})",
        f"B: {b['run_id']} {b['target']} ({(b['created_at'] or '?')[:16]})",
        d["rule_text"],
        f"test: {d['method']}",
        "",
        f"{'value':<15}{'A':>5}{'':>10}{'B':>5}{'':>10}{'pairs':>7}{'A only':>8}{'B only':>8}{'B-A':>6}"
        f"{'p':>9}{'Holm p':>9}",
    ]
    for r in d["values"]:
        lines.append(
            f"{r['value']:<15}{_f(r['score_a']):>5}{_ci(r, 'a'):>10}{_f(r['score_b']):>5}{_ci(r, 'b'):>10}"
            f"{r['pairs']:>7}{r['only_a_yes']:>8}{r['only_b_yes']:>8}{_f(r['difference'], '{:+.0f}'):>6}"
            f"{_f(r['p'], '{:.3g}'):>9}{_f(r['p_holm'], '{:.3g}'):>9}" + ("  drifted" if r["drifted"] else "")
        )
    lines += [
        "",
        "B-A: change of the yes-share on the shared images, in points; A only / B only: images only that run liked",
        f"{len(d['drifted'])} of {d['tested']} values changed at Holm p < {ALPHA}"
        + (f": {', '.join(d['drifted'])}" if d["drifted"] else ""),
    ]
    lines += [f"note: {n}" for n in d["notes"]]
    return "\n".join(lines)
