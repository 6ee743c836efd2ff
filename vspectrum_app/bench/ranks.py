"""Spearman's rank correlation on mid-ranks, for comparing value profiles (a run against the
paper's, one wording against another). Written out rather than taken from scipy, which the
lean installer leaves out; scipy is the tests' oracle."""

from __future__ import annotations

import math
from collections.abc import Sequence


def mid_ranks(xs: Sequence[float]) -> list[float]:
    """1-based ranks; ties share their mean rank."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rho (Pearson's r on mid-ranks); None with fewer than three pairs or a
    constant side."""
    if len(a) < 3:
        return None
    ra, rb = mid_ranks(a), mid_ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    sa = math.sqrt(sum((r - ma) ** 2 for r in ra))
    sb = math.sqrt(sum((r - mb) ** 2 for r in rb))
    if sa == 0 or sb == 0:
        return None
    return sum((x - ma) * (y - mb) for x, y in zip(ra, rb)) / (sa * sb)
