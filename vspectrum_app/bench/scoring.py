"""Scores and their uncertainty (protocol.md section 3).

Per model x value: n, yes, no, refusals, unparsed; score = 100 x yes / (yes + no); the
paper-style score (everything not yes counts as no: 100 x yes / n); a bootstrap 95 %
interval resampling images (an image's repeats stay together). Per model: mean and standard
deviation across values (Fig. 7). Per value: mean across models (Fig. 6). Two models'
difference on a value is *within noise* when the bootstrap 95 % interval of the difference
contains zero (independent resamples of each model's images).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any, Iterable

import numpy as np

from vspectrum_app.core.values import SCHWARTZ_VALUES

RESAMPLES = 2000


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
    score: float | None          # 100 * yes / (yes + no)
    ci_low: float | None
    ci_high: float | None
    paper_score: float | None    # 100 * yes / n

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _image_groups(answers: list[dict]) -> list[tuple[int, int]]:
    """(yes, yes+no) per image; repeats of one image are resampled together."""
    per_image: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in answers:
        g = per_image[a["image_sha256"]]
        g[0] += a["answer_class"] == "yes"
        g[1] += a["answer_class"] in ("yes", "no")
    return [tuple(v) for v in per_image.values()]


def bootstrap_samples(groups: list[tuple[int, int]], resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """Bootstrap distribution of 100 * yes / (yes + no), resampling images."""
    if not groups:
        return np.array([])
    arr = np.array(groups, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(resamples, len(arr)))
    yes, decided = arr[idx, 0].sum(axis=1), arr[idx, 1].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = 100 * yes / decided
    return scores[~np.isnan(scores)]


def score_answers(answers: Iterable[dict], seed: int = 0) -> list[ValueScore]:
    """``answers``: done items (target, mode, value, image_sha256, answer_class)."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for a in answers:
        groups[(a["target"], a["mode"], a["value"])].append(a)
    out = []
    order = {v: i for i, v in enumerate(SCHWARTZ_VALUES)}
    for (target, mode, value), items in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], order.get(kv[0][2], 99))):
        counts = {c: sum(1 for a in items if a["answer_class"] == c) for c in ("yes", "no", "refusal", "unparsed")}
        decided = counts["yes"] + counts["no"]
        samples = bootstrap_samples(_image_groups(items), seed=seed)
        lo, hi = (float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))) if len(samples) else (None, None)
        out.append(ValueScore(target=target, mode=mode, value=value, n=len(items), **counts,
                              score=100 * counts["yes"] / decided if decided else None, ci_low=lo, ci_high=hi,
                              paper_score=100 * counts["yes"] / len(items)))
    return out


def model_summary(scores: list[ValueScore]) -> list[dict[str, Any]]:
    """Per model (and mode): mean and standard deviation of its value scores (paper Fig. 7)."""
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    paper: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s in scores:
        if s.score is not None:
            by[(s.target, s.mode)].append(s.score)
        if s.paper_score is not None:
            paper[(s.target, s.mode)].append(s.paper_score)
    return [{"target": t, "mode": m, "values": len(v), "mean": statistics.fmean(v),
             "std": statistics.stdev(v) if len(v) > 1 else None,
             "paper_mean": statistics.fmean(paper[(t, m)]) if paper[(t, m)] else None,
             "paper_std": statistics.stdev(paper[(t, m)]) if len(paper[(t, m)]) > 1 else None}
            for (t, m), v in sorted(by.items())]


def value_summary(scores: list[ValueScore], mode: str = "vlm") -> list[dict[str, Any]]:
    """Per value: mean score across models (paper Fig. 6)."""
    by: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        if s.mode == mode and s.score is not None:
            by[s.value].append(s.score)
    return [{"value": v, "models": len(by[v]), "mean": statistics.fmean(by[v])}
            for v in SCHWARTZ_VALUES if by.get(v)]


def difference_within_noise(a: list[dict], b: list[dict], seed: int = 0) -> tuple[float | None, tuple[float, float] | None, bool]:
    """(difference of scores a - b, its bootstrap 95 % interval, whether the interval holds 0)."""
    sa, sb = bootstrap_samples(_image_groups(a), seed=seed), bootstrap_samples(_image_groups(b), seed=seed + 1)
    if not len(sa) or not len(sb):
        return None, None, True
    n = min(len(sa), len(sb))
    diff = sa[:n] - sb[:n]
    point = _score(a) - _score(b) if _score(a) is not None and _score(b) is not None else None
    lo, hi = float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))
    return point, (lo, hi), lo <= 0 <= hi


def _score(items: list[dict]) -> float | None:
    yes = sum(a["answer_class"] == "yes" for a in items)
    decided = sum(a["answer_class"] in ("yes", "no") for a in items)
    return 100 * yes / decided if decided else None


def noise_marks(answers: list[dict], seed: int = 0) -> list[dict[str, Any]]:
    """For every value and every pair of models (VLM mode): is their difference within noise?"""
    by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for a in answers:
        if a["mode"] == "vlm":
            by[(a["value"], a["target"])].append(a)
    targets = sorted({t for _, t in by})
    out = []
    for value in SCHWARTZ_VALUES:
        for i, ta in enumerate(targets):
            for tb in targets[i + 1:]:
                if (value, ta) in by and (value, tb) in by:
                    diff, ci, noise = difference_within_noise(by[(value, ta)], by[(value, tb)], seed)
                    out.append({"value": value, "a": ta, "b": tb, "difference": diff,
                                "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                                "within_noise": noise})
    return out
