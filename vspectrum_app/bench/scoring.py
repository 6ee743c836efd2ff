"""Scores and their uncertainty (protocol.md section 3; methods in docs/benchmark.md).

Per model x value: n, yes, no, refusals, unparsed; score = 100 x yes / (yes + no) with a
cluster-aware 95 % interval (Wilson with continuity correction; an image's repeats are one cluster: intervals.py); the
centred score (score minus the model's own mean over its values, MRAT centring as Schwartz's
questionnaires are scored); and the paper-style score, the authors' prototype rule exactly:
the raw answer contains "yes" (any case), else no; 100 x yes / n.

``rule="paper"`` scores every cell with that prototype rule instead (the report switch and
``--paper-style``): refusals and unparsed answers are then noes, as in the paper.

Models are compared per value on the images both answered: exact McNemar test, Holm-adjusted
over every value x model pair of the run (``paired_comparisons``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from vspectrum_app.bench.intervals import METHOD, clustered_interval, design_effect, holm, mcnemar_exact
from vspectrum_app.bench.parsing import paper_style
from vspectrum_app.core.values import SCHWARTZ_VALUES

RULES = ("ours", "paper")
ALPHA = 0.05
INTERVAL_METHOD = (
    f"{METHOD}, 95 %, on the effective n (answers / design effect of the per-image clusters; "
    "Student's t for z with repeats)"
)
COMPARISON_METHOD = "exact McNemar test on shared images, Holm-adjusted over all values x model pairs"


@dataclass
class ValueScore:
    target: str
    mode: str
    value: str
    n: int
    yes: int
    no: int
    refusal: int
    unparsed: int
    score: float | None  # 100 * yes / (yes + no); with rule "paper": 100 * yes / n
    ci_low: float | None
    ci_high: float | None
    paper_score: float | None  # the authors' rule: 100 * (answers containing "yes") / n
    centred: float | None = None  # score minus the model's mean score over its values
    no_image: int = 0  # answers that saw no image: errors to resume, not in n
    rule: str = "ours"
    design_effect: float | None = None  # of the per-image clusters (1: one answer per image)
    n_eff: float | None = None  # (yes + no) / design effect: the interval's sample size
    yes_eff: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def answer_class(a: dict[str, Any], rule: str = "ours") -> str:
    """The class an answer counts as under ``rule``: ours, or the authors' substring rule."""
    if rule == "paper":
        return paper_style(a.get("answer1"))
    return str(a["answer_class"])


def _image_groups(answers: list[dict[str, Any]], rule: str) -> list[tuple[int, int]]:
    """(yes, decided) per image: an image's repeats form one cluster."""
    per_image: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in answers:
        cls = answer_class(a, rule)
        g = per_image[a["image_sha256"]]
        g[0] += cls == "yes"
        g[1] += cls in ("yes", "no")
    return [(y, m) for y, m in per_image.values()]


def score_answers(
    answers: Iterable[dict[str, Any]],
    seed: int = 0,
    rule: str = "ours",
    no_image: dict[tuple[str, str, str], int] | None = None,
) -> list[ValueScore]:
    """``answers``: done items (target, mode, value, image_sha256, answer_class, answer1);
    ``no_image``: per (target, mode, value), answers that saw no image (counted, not scored).
    ``seed`` is kept for callers; the interval is analytic."""
    if rule not in RULES:
        raise ValueError(f"unknown scoring rule {rule!r}; expected one of {', '.join(RULES)}")
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for a in answers:
        groups[(a["target"], a["mode"], a["value"])].append(a)
    missing = dict(no_image or {})
    out = []
    order = {v: i for i, v in enumerate(SCHWARTZ_VALUES)}
    for key in sorted(set(groups) | set(missing), key=lambda k: (k[0], k[1], order.get(k[2], 99))):
        items = groups.get(key, [])
        classes = [answer_class(a, rule) for a in items]
        counts = {c: classes.count(c) for c in ("yes", "no", "refusal", "unparsed")}
        decided = counts["yes"] + counts["no"]
        image_groups = _image_groups(items, rule)
        ci = clustered_interval(image_groups)
        deff = design_effect(image_groups) if decided else None
        paper_yes = sum(
            paper_style(a.get("answer1")) == "yes" if "answer1" in a else a["answer_class"] == "yes" for a in items
        )
        out.append(
            ValueScore(
                target=key[0],
                mode=key[1],
                value=key[2],
                n=len(items),
                **counts,
                score=100 * counts["yes"] / decided if decided else None,
                ci_low=ci[0] if ci else None,
                ci_high=ci[1] if ci else None,
                paper_score=100 * paper_yes / len(items) if items else None,
                no_image=missing.get(key, 0),
                rule=rule,
                design_effect=deff,
                n_eff=decided / deff if deff else None,
                yes_eff=counts["yes"] / deff if deff else None,
            )
        )
    _centre(out)
    return out


def _centre(scores: list[ValueScore]) -> None:
    """MRAT centring: each score minus its model's (and mode's) mean over the values it has."""
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s in scores:
        if s.score is not None:
            by[(s.target, s.mode)].append(s.score)
    for s in scores:
        if s.score is not None:
            s.centred = s.score - statistics.fmean(by[(s.target, s.mode)])


def model_summary(scores: list[ValueScore]) -> list[dict[str, Any]]:
    """Per model (and mode): mean and standard deviation of its value scores (paper Fig. 7)."""
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    paper: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s in scores:
        if s.score is not None:
            by[(s.target, s.mode)].append(s.score)
        if s.paper_score is not None:
            paper[(s.target, s.mode)].append(s.paper_score)
    return [
        {
            "target": t,
            "mode": m,
            "values": len(v),
            "mean": statistics.fmean(v),
            "std": statistics.stdev(v) if len(v) > 1 else None,
            "paper_mean": statistics.fmean(paper[(t, m)]) if paper[(t, m)] else None,
            "paper_std": statistics.stdev(paper[(t, m)]) if len(paper[(t, m)]) > 1 else None,
        }
        for (t, m), v in sorted(by.items())
    ]


def value_summary(scores: list[ValueScore], mode: str = "vlm") -> list[dict[str, Any]]:
    """Per value: mean score across models (paper Fig. 6)."""
    by: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        if s.mode == mode and s.score is not None:
            by[s.value].append(s.score)
    return [{"value": v, "models": len(by[v]), "mean": statistics.fmean(by[v])} for v in SCHWARTZ_VALUES if by.get(v)]


def _image_answers(items: list[dict[str, Any]], rule: str) -> dict[tuple[str, str], bool]:
    """Per (keyword, image): the model's answer, True for yes. Repeats collapse to their
    majority (a tie, like a refusal or unparsed answer, leaves the image out of the pair)."""
    votes: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for a in items:
        cls = answer_class(a, rule)
        if cls in ("yes", "no"):
            votes[(a.get("keyword", ""), a["image_sha256"])][cls == "no"] += 1
    return {k: y > n for k, (y, n) in votes.items() if y != n}


def paired_test(a: list[dict[str, Any]], b: list[dict[str, Any]], rule: str = "ours") -> dict[str, Any]:
    """Two models on one value: the images both answered yes/no, the discordant counts, the
    difference of their yes-shares on those images (in points) and the exact McNemar p."""
    ya, yb = _image_answers(a, rule), _image_answers(b, rule)
    shared = sorted(set(ya) & set(yb))
    only_a = sum(ya[k] and not yb[k] for k in shared)
    only_b = sum(yb[k] and not ya[k] for k in shared)
    return {
        "pairs": len(shared),
        "only_a_yes": only_a,
        "only_b_yes": only_b,
        "difference": 100 * (only_a - only_b) / len(shared) if shared else None,
        "p": mcnemar_exact(only_a, only_b),
    }


def paired_comparisons(
    answers: list[dict[str, Any]], rule: str = "ours", alpha: float = ALPHA, mode: str = "vlm"
) -> list[dict[str, Any]]:
    """Every value x model pair of a run (one mode), McNemar p and Holm-adjusted p over the
    family; ``within_noise`` is True unless the adjusted p is below ``alpha``."""
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for a in answers:
        if a["mode"] == mode:
            by[(a["value"], a["target"])].append(a)
    targets = sorted({t for _, t in by})
    out = []
    for value in SCHWARTZ_VALUES:
        for i, ta in enumerate(targets):
            for tb in targets[i + 1 :]:
                if (value, ta) in by and (value, tb) in by:
                    out.append(
                        {"value": value, "a": ta, "b": tb, **paired_test(by[(value, ta)], by[(value, tb)], rule)}
                    )
    for row, adjusted in zip(out, holm([r["p"] for r in out])):
        row["p_holm"] = adjusted
        row["within_noise"] = adjusted >= alpha
    return out
