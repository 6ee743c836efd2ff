"""Intervals for a yes-share and paired tests between models (docs/benchmark.md, "Statistics").

Score interval (the Wilson score interval with continuity correction, n shrunk by the design
effect of several answers per image): ``core.intervals``, re-exported here, where the
benchmark's modules have always found it.

Paired comparison: both models answered the same images, so their difference on a value is
tested with the exact McNemar test on the discordant images (b: only A said yes, c: only B);
p = two-sided binomial(b, b + c, 1/2). Holm's step-down procedure then controls the
family-wise error over all values x model pairs of a run.
"""

from __future__ import annotations

import math
from typing import Sequence

from vspectrum_app.core.intervals import METHOD as METHOD
from vspectrum_app.core.intervals import Z95 as Z95
from vspectrum_app.core.intervals import clustered_interval as clustered_interval
from vspectrum_app.core.intervals import design_effect as design_effect
from vspectrum_app.core.intervals import score_interval as score_interval
from vspectrum_app.core.intervals import t_quantile_975 as t_quantile_975


def mover_interval(terms: Sequence[tuple[float, float, float, float]]) -> tuple[float, float]:
    """95 % interval of sum(c p) from each share's own interval, ``terms``: (c, p, low, high)
    as fractions: Zou & Donner's (2008) MOVER, which for a difference p2 - p1 is Newcombe's
    (1998) hybrid score interval. Clipped to the range the combination can take."""
    est = sum(c * p for c, p, _, _ in terms)
    below = sum(c * c * ((p - lo) if c > 0 else (hi - p)) ** 2 for c, p, lo, hi in terms)
    above = sum(c * c * ((hi - p) if c > 0 else (p - lo)) ** 2 for c, p, lo, hi in terms)
    floor, ceiling = sum(min(c, 0.0) for c, *_ in terms), sum(max(c, 0.0) for c, *_ in terms)
    return max(est - math.sqrt(below), floor), min(est + math.sqrt(above), ceiling)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b and c."""
    n = b + c
    if n == 0:
        return 1.0
    tail: float = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (family-wise error control), in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted
