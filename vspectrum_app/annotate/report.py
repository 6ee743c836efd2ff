"""Annotation results: the paper's Table 9 layout (% yes / no / not sure per value, for
screenshots and videos), agreement per value and overall, items with disagreement, and a
benchmark run's scores recomputed on the screenshots annotators agreed reflect the value."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from vspectrum_app.annotate.agreement import category_counts, fleiss_kappa, krippendorff_alpha_nominal
from vspectrum_app.annotate.store import ANSWERS, AnnotationStore
from vspectrum_app.core.values import SCHWARTZ_VALUES

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace


def set_report(ws: Workspace, set_ref: str, run_id: str | None = None) -> dict[str, Any]:
    """The set's results; with ``run_id``, also that benchmark run's human-filtered scores."""
    store = AnnotationStore(ws)
    ann_set = store.get_set(set_ref)
    answers = store.current(ann_set["id"])
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in answers:
        by_group[a["value"] or "(all)"].append(a)
    groups = [v for v in SCHWARTZ_VALUES if v in by_group] + [g for g in by_group if g not in SCHWARTZ_VALUES]
    rows = [_group_stats(g, by_group[g]) for g in groups]
    overall = _group_stats("Overall", answers)
    report = {
        "set": {k: ann_set[k] for k in ("id", "name", "kind", "raters")},
        "groups": rows,
        "overall": overall,
        "annotators": sorted({a["annotator"] for a in answers}),
        "disagreements": _disagreements(answers),
    }
    if run_id:
        from vspectrum_app.bench.store import RunStore

        report["filtered_scores"] = filtered_scores(RunStore(ws).scored_items(run_id), agreed_images(ws, ann_set["id"]))
    return report


def _group_stats(name: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"group": name}
    for question in ("screenshot", "video", "representative"):
        qa = [a for a in answers if a["question"] == question]
        if not qa:
            continue
        counts = Counter(a["answer"] for a in qa)
        units: dict[int, list[str]] = defaultdict(list)
        for a in qa:
            units[a["item_id"]].append(a["answer"])
        unit_list = list(units.values())
        out[question] = {
            "ratings": len(qa),
            "items": len(units),
            "raters": len({a["annotator"] for a in qa}),
            **{f"pct_{k}": 100 * counts.get(k, 0) / len(qa) for k in ANSWERS},
            "fleiss_kappa": fleiss_kappa(category_counts(unit_list, ANSWERS)),
            "krippendorff_alpha": krippendorff_alpha_nominal(unit_list),
        }
    return out


def _disagreements(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    units: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for a in answers:
        units[(a["item_id"], a["question"])].append(a)
    out = []
    for (item_id, question), group in units.items():
        if len({a["answer"] for a in group}) > 1:
            out.append(
                {
                    "item_id": item_id,
                    "image_id": group[0]["image_id"],
                    "image_sha256": group[0]["image_sha256"],
                    "value": group[0]["value"],
                    "question": question,
                    "answers": {a["annotator"]: a["answer"] for a in group},
                }
            )
    return out


def agreed_images(ws: Workspace, set_ref: str, min_raters: int = 2) -> dict[str, set[str]]:
    """value -> screenshot hashes that a strict majority of at least ``min_raters`` annotators
    said reflect the value (our documented rule for 'annotators agreed')."""
    store = AnnotationStore(ws)
    ann_set = store.get_set(set_ref)
    votes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in store.current(ann_set["id"]):
        if a["question"] == "screenshot":
            votes[(a["value"], a["image_sha256"])].append(a["answer"])
    agreed: dict[str, set[str]] = defaultdict(set)
    for (value, sha), vs in votes.items():
        if len(vs) >= min_raters and vs.count("yes") * 2 > len(vs):
            agreed[value].add(sha)
    return agreed


def filtered_scores(answers: list[dict[str, Any]], agreed: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Benchmark answers (target, mode, value, image_sha256, answer_class): scores on all
    images beside scores on the human-agreed images only."""
    from vspectrum_app.bench.scoring import score_answers

    full = {(s.target, s.mode, s.value): s for s in score_answers(answers)}
    kept = [a for a in answers if a["image_sha256"] in agreed.get(a["value"], set())]
    filtered = {(s.target, s.mode, s.value): s for s in score_answers(kept)}
    rows = []
    for key, s in full.items():
        f = filtered.get(key)
        rows.append(
            {
                "target": key[0],
                "mode": key[1],
                "value": key[2],
                "n": s.n,
                "score": s.score,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "n_filtered": f.n if f else 0,
                "score_filtered": f.score if f else None,
                "ci_low_filtered": f.ci_low if f else None,
                "ci_high_filtered": f.ci_high if f else None,
            }
        )
    return rows
