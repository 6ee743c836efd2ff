"""A yes-share's 95 % interval, for answers that come in clusters (the app's one interval method).

Score interval: the Wilson score interval with continuity correction (Newcombe 1998, method
4): the p whose continuity-corrected score test, |yes/n - p| - 1/(2n) = z sqrt(p(1-p)/n),
sits at the 95 % edge. Plain Wilson's coverage oscillates below nominal (0.894 at n = 18,
p = 0.031; 0.935 at n = 50, p = 0.5), and the Brown-Cai-DasGupta Poisson bounds it had next
to the edges still left 0.909 (n = 13, p = 0.768); with the correction the exact coverage is
at least 0.950 for every n from 10 to 200 and p from 0.02 to 0.98 (``python -m
perf.interval_coverage``), as Clopper-Pearson's is, but in closed form and for a non-integer
(effective) n. With several answers per cluster (a benchmark's image, a search query's top
k) the answers are not independent: n (and yes) are divided by the design effect deff
estimated from the per-cluster totals (ratio estimator, Kish), at least 1 and at most the
mean answers per cluster (all repeats alike), and z is replaced by Student's t on
(clusters - 1) degrees of freedom.

Here, in core, because both the benchmark's scores (``bench.intervals``) and the encoders'
precision check (``encoders.precision``: the share of a query's top 10 kept) use it.
"""

from __future__ import annotations

import math
from typing import Sequence

Z95 = 1.959963984540054
METHOD = "Wilson score interval with continuity correction"


def score_interval(yes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """95 % interval of yes / n as fractions: Wilson with continuity correction (n may be an
    effective, non-integer size). None when n = 0: no answers, no interval."""
    if n <= 0:
        return None
    p = min(max(yes / n, 0.0), 1.0)
    q, zz, d = 1 - p, z * z, 2 * (n + z * z)
    lo = 0.0 if p <= 0 else (2 * n * p + zz - 1 - z * math.sqrt(max(zz - 2 - 1 / n + 4 * p * (n * q + 1), 0.0))) / d
    hi = 1.0 if p >= 1 else (2 * n * p + zz + 1 + z * math.sqrt(max(zz + 2 - 1 / n + 4 * p * (n * q - 1), 0.0))) / d
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


def clustered_interval(groups: Sequence[tuple[int, int]]) -> tuple[float, float] | None:
    """``score_interval`` (in %) of sum(yes) / sum(decided), with n shrunk by the design effect;
    with repeats, z becomes Student's t on (images - 1) degrees of freedom, since the
    design effect is itself estimated from that few images."""
    groups = [(y, m) for y, m in groups if m]
    yes = sum(y for y, _ in groups)
    total = sum(m for _, m in groups)
    if not total:
        return None
    deff = design_effect(groups)
    z = t_quantile_975(len(groups) - 1) if total > len(groups) else Z95
    interval = score_interval(yes / deff, total / deff, z=z)
    assert interval is not None  # total > 0, so its effective size is too
    lo, hi = interval
    return 100 * lo, 100 * hi
