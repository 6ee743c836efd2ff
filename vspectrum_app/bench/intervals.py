"""Intervals for a yes-share and paired tests between models (docs/benchmark.md, "Statistics").

Score interval: the Wilson score interval, which keeps its coverage near 0 % and 100 % where
the percentile bootstrap collapses (50 yes of 50 gave [100, 100]). Brown, Cai & DasGupta
(2001) show Wilson's coverage dips when only 1-3 answers differ from the rest; for those we
take their one-sided Poisson bound (lambda = 0.051, 0.355, 0.818 for 1, 2, 3). With several
answers per image the answers are not independent: n is replaced by the effective sample
size n / deff, with the design effect deff estimated from the per-image totals (ratio
estimator, Kish), at least 1 and at most the mean answers per image (all repeats alike),
and z replaced by Student's t on (images - 1) degrees of freedom.

Paired comparison: both models answered the same images, so their difference on a value is
tested with the exact McNemar test on the discordant images (b: only A said yes, c: only B);
p = two-sided binomial(b, b + c, 1/2). Holm's step-down procedure then controls the
family-wise error over all values x model pairs of a run.
"""

from __future__ import annotations

import math
from typing import Sequence

Z95 = 1.959963984540054
_POISSON_LOWER = {1: 0.051, 2: 0.355, 3: 0.818}  # Brown, Cai & DasGupta (2001), 95 % one-sided


def wilson_interval(yes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """95 % interval of yes / n as fractions (n may be an effective, non-integer size)."""
    if n <= 0:
        return None
    p = min(max(yes / n, 0.0), 1.0)
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    lo, hi = (0.0 if yes <= 0 else centre - half), (1.0 if yes >= n else centre + half)  # exact at the edges
    k, f = round(yes), round(n - yes)
    if abs(yes - k) < 1e-9 and k in _POISSON_LOWER:
        lo = _POISSON_LOWER[k] / n
    if abs((n - yes) - f) < 1e-9 and f in _POISSON_LOWER:
        hi = 1 - _POISSON_LOWER[f] / n
    return max(lo, 0.0), min(hi, 1.0)


def design_effect(groups: Sequence[tuple[int, int]]) -> float:
    """Kish design effect of a ratio yes / decided over clusters (images) of answers."""
    groups = [(y, m) for y, m in groups if m]
    k = len(groups)
    total = sum(m for _, m in groups)
    if k < 2 or total == k:
        return 1.0  # one answer per image: independent
    mean_size = total / k
    p = sum(y for y, _ in groups) / total
    if p in (0.0, 1.0):
        return mean_size  # no spread to estimate from: assume repeats agree (the safe side)
    var_cluster = k / (k - 1) * sum((y - p * m) ** 2 for y, m in groups) / total**2
    var_simple = p * (1 - p) / total
    return min(max(var_cluster / var_simple, 1.0), mean_size)


def t_quantile_975(df: int) -> float:
    """The 97.5 % quantile of Student's t: exact for 1-2 degrees of freedom, else the
    Cornish-Fisher expansion around the normal quantile (error < 0.03 at 3, < 1e-4 from 9)."""
    if df <= 2:
        return (12.706204736174705, 4.302652729749464)[max(df, 1) - 1]
    z = Z95
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def clustered_wilson(groups: Sequence[tuple[int, int]]) -> tuple[float, float] | None:
    """Wilson interval (in %) of sum(yes) / sum(decided), with n shrunk by the design effect;
    with repeats, z becomes Student's t on (images - 1) degrees of freedom, since the
    design effect is itself estimated from that few images."""
    groups = [(y, m) for y, m in groups if m]
    yes = sum(y for y, _ in groups)
    total = sum(m for _, m in groups)
    if not total:
        return None
    deff = design_effect(groups)
    z = t_quantile_975(len(groups) - 1) if total > len(groups) else Z95
    interval = wilson_interval(yes / deff, total / deff, z=z)
    assert interval is not None  # total > 0, so its effective size is too
    lo, hi = interval
    return 100 * lo, 100 * hi


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
