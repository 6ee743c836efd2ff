"""Persona metrics: the ISQ score and the paper's alignment measure I_avg, with intervals.

ISQ score (protocol.md section 5): S% = (va + cs + ee + ve + 10*pa + 10*ad) / 60 * 100, with
pa, ad yes=1/no=0; watch when S% > threshold (60). The paper's own worked example
(va 6, pa yes, cs 7, ee 5, ad yes, ve 6) prints 73.75 but the formula gives 73.33: we follow
the formula.

I_avg = (1/N) sum_t (sum Y_last - sum Y_first) / sum Y_first over trials t, with Y the
yes-indicators of the first and last n videos. A trial with no yes in its first n videos has
an undefined change: it is reported and left out of the mean, never divided by zero. Only
complete trials count (``length``: all their scrolls done): a trial stopped at 60 of 100
compares 50 videos with 10, which biases I_avg (nine flat trials and one stopped at 60 gave
-8 % where the truth is 0); incomplete trials are listed instead. The window may be at most
half a trial (``window_problem``): longer, the first and last windows share videos.

I_avg is biased when nothing changes (a mean of ratios with a small random denominator:
+26.2 % for a 10 % yes rate and a window of 50, -22.2 % with a window of 10:
``no_change_i_avg``), so a persona's I_avg is read against a control session's
(random watch/skip at the same rate): ``difference_ci`` gives persona - control.

Intervals (``mean_ci``, ``difference_ci``): the per-trial changes are skewed with a long right
tail (a trial with 1 yes in its first window and 5 in its last counts +400 %), so the
percentile bootstrap covers only 0.84-0.92 at nominal 0.95 with 10-20 trials. We give the
union of the Student t interval and the studentized (percentile-t) bootstrap interval, each
at the 97.5 % level: with at least ``MIN_CI_TRIALS`` trials it covers 0.949-0.991 over the grid
of ``python -m perf.persona_intervals`` (yes rates 5-50 %, windows 10 and 50, rising and flat).
With fewer trials no interval reaches 0.94 there, and none is given.

Whether a change is more than chance: a two-sided permutation test that shuffles each
trial's decisions (a viewer whose decisions do not depend on the feed's position gives
exchangeable sequences), against which |pooled change in yes count| is compared. Its
smallest possible value is 1 / (resamples + 1): ``format_p`` prints that as "< ...".
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from statistics import NormalDist, fmean
from typing import Sequence

import numpy as np

from vspectrum_app.persona.parsing import IsqAnswer

DEFAULT_THRESHOLD = 60.0
MIN_CI_TRIALS = 10  # fewer trials with a defined change: no interval holds 0.94 (perf.persona_intervals)
PART_LEVEL = 0.975  # the level of each of the two intervals whose union is given as the 95 % interval
RESAMPLES = 2000


def no_change_i_avg(n: int, rate: float) -> float | None:
    """I_avg's expected value, in %, when nothing changes: first and last windows of ``n``
    videos with independent Binomial(n, rate) yes counts F and L, trials with F = 0 left out:
    100 x E[(L - F) / F | F > 0] = 100 x (n x rate x E[1/F | F > 0] - 1). None at rate 0."""
    if rate <= 0:
        return None
    pmf = [math.comb(n, f) * rate**f * (1 - rate) ** (n - f) for f in range(1, n + 1)]
    inverse = sum(p / f for f, p in enumerate(pmf, 1)) / sum(pmf)
    return 100 * (n * rate * inverse - 1)


def window_problem(window: int, scrolls: int) -> str | None:
    """Why a window does not fit a trial, in one sentence; None when it fits (1 <= 2n <= scrolls)."""
    if window < 1:
        return f"the window ({window}) must be at least 1 video"
    if 2 * window > scrolls:
        return (
            f"the window ({window}) must be at most half the videos per trial ({scrolls}): the first and last "
            f"{window} videos would overlap and count the same videos twice; use a window of {max(1, scrolls // 2)} "
            f"or less, or more videos per trial"
        )
    return None


def format_p(p: float | None, resamples: int = RESAMPLES) -> str:
    """A permutation p-value as printed: "< 1/(resamples + 1)" at its floor (it is never 0)."""
    if p is None:
        return "n/a"
    floor = 1 / (resamples + 1)
    if p <= floor * (1 + 1e-9):
        return f"< {floor:.2g}" if floor < 0.001 else f"< {floor:.4f}"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.2g}"


def isq_score(answer: IsqAnswer) -> float | None:
    """S% in [0, 100+] or None when a field it needs could not be parsed."""
    if not answer.complete:
        return None
    f = answer.fields
    total = (
        f["visual_appeal"]
        + f["curiosity_stimulation"]
        + f["emotional_engagement"]
        + f["value_expectation"]
        + 10 * (f["preference_alignment"] == "yes")
        + 10 * (f["action_desire"] == "yes")
    )
    score: float = total / 60 * 100
    return score


def isq_decision(score: float | None, threshold: float = DEFAULT_THRESHOLD) -> str | None:
    return None if score is None else ("yes" if score > threshold else "no")


@dataclass
class TrialChange:
    trial: int
    first_yes: int
    last_yes: int
    first_n: int
    last_n: int
    change: float | None  # (last - first) / first, None when first_yes == 0

    @property
    def first_rate(self) -> float:
        return 100 * self.first_yes / self.first_n if self.first_n else 0.0

    @property
    def last_rate(self) -> float:
        return 100 * self.last_yes / self.last_n if self.last_n else 0.0


@dataclass
class AlignmentSummary:
    trials: list[TrialChange]
    n: int
    i_avg: float | None  # in %, over trials with a defined change
    ci95: tuple[float, float] | None
    first_rate: float  # % related (yes) content in the first n, over all trials
    last_rate: float
    undefined_trials: list[int] = field(default_factory=list)
    change_p: float | None = None  # permutation p-value of the pooled change
    incomplete_trials: list[int] = field(default_factory=list)  # stopped early: left out of everything

    @property
    def rate_change(self) -> float | None:
        """The paper's tables' 'Change (%)' row: relative change of the pooled rates."""
        return None if not self.first_rate else 100 * (self.last_rate - self.first_rate) / self.first_rate


def trial_change(trial: int, decisions: Sequence[bool], n: int = 50) -> TrialChange:
    """``decisions``: per scroll, whether the model said yes (unparsed counts as not yes)."""
    first = list(decisions[:n])
    last = list(decisions[-n:]) if len(decisions) >= 2 * n else list(decisions[n:])
    fy, ly = sum(first), sum(last)
    return TrialChange(trial, fy, ly, len(first), len(last), (ly - fy) / fy if fy else None)


def alignment(
    trials: Sequence[Sequence[bool]],
    n: int = 50,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
    permutation: bool = True,
    length: int | None = None,
) -> AlignmentSummary:
    """``length``: the scrolls of a complete trial; shorter trials are listed, not counted."""
    incomplete = [t for t, d in enumerate(trials) if length is not None and len(d) < length]
    changes = [trial_change(t, d, n) for t, d in enumerate(trials) if t not in incomplete]
    trials = [d for t, d in enumerate(trials) if t not in incomplete]
    defined = [c.change for c in changes if c.change is not None]
    first_total = sum(c.first_n for c in changes)
    last_total = sum(c.last_n for c in changes)
    return AlignmentSummary(
        trials=changes,
        n=n,
        i_avg=100 * fmean(defined) if defined else None,
        ci95=mean_ci([100 * c for c in defined], resamples=resamples, seed=seed),
        first_rate=100 * sum(c.first_yes for c in changes) / first_total if first_total else 0.0,
        last_rate=100 * sum(c.last_yes for c in changes) / last_total if last_total else 0.0,
        undefined_trials=[c.trial for c in changes if c.change is None],
        change_p=permutation_p(trials, n, resamples=resamples, seed=seed) if permutation else None,
        incomplete_trials=incomplete,
    )


def trial_changes(summary: AlignmentSummary) -> list[float]:
    """The defined per-trial changes of a summary, in %: what I_avg averages."""
    return [100 * c.change for c in summary.trials if c.change is not None]


def difference_ci(
    a: Sequence[float], b: Sequence[float], *, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float] | None:
    """95 % interval of mean(a) - mean(b) for two independent sets of trials (persona and
    control): the union of Welch's t interval and the studentized bootstrap interval (each set
    resampled on its own), each at ``PART_LEVEL``. None when either set has fewer than
    ``MIN_CI_TRIALS`` values (module docstring)."""
    if len(a) < MIN_CI_TRIALS or len(b) < MIN_CI_TRIALS:
        return None
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    est = float(x.mean() - y.mean())
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(va + vb)
    if se == 0:
        return est, est
    df = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1))
    rng = np.random.default_rng(seed)
    bx = x[rng.integers(0, len(x), (resamples, len(x)))]
    by = y[rng.integers(0, len(y), (resamples, len(y)))]
    ses = np.sqrt(bx.var(axis=1, ddof=1) / len(x) + by.var(axis=1, ddof=1) / len(y))
    stats = (bx.mean(axis=1) - by.mean(axis=1) - est)[ses > 0] / ses[ses > 0]
    return _union(est, se, df, stats)


def mean_ci(values: Sequence[float], *, resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float] | None:
    """95 % interval of the mean of per-trial values: the union of Student's t interval and
    the studentized (percentile-t) bootstrap interval, each at ``PART_LEVEL`` (module
    docstring). None with fewer than ``MIN_CI_TRIALS`` values."""
    if len(values) < MIN_CI_TRIALS:
        return None
    x = np.asarray(values, dtype=float)
    k = len(x)
    est, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(k))
    if se == 0:
        return est, est
    rng = np.random.default_rng(seed)
    boot = x[rng.integers(0, k, (resamples, k))]
    ses = boot.std(axis=1, ddof=1) / math.sqrt(k)
    stats = (boot.mean(axis=1) - est)[ses > 0] / ses[ses > 0]
    return _union(est, se, k - 1, stats)


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile by the Cornish-Fisher expansion around the normal one (scipy is
    not in the installer); relative error < 1e-4 at p = 0.9875 from 9 degrees of freedom,
    the fewest ``MIN_CI_TRIALS`` allows (tested against scipy)."""
    z = NormalDist().inv_cdf(p)
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4)
    )


def _union(est: float, se: float, df: float, stats: np.ndarray) -> tuple[float, float]:
    """The union of est -+ t_df * se and the percentile-t interval from bootstrap ``stats``."""
    tail = (1 - PART_LEVEL) / 2
    t = t_quantile(1 - tail, df)
    lo, hi = est - t * se, est + t * se
    if len(stats):
        q_lo, q_hi = np.quantile(stats, [tail, 1 - tail])
        lo, hi = min(lo, est - float(q_hi) * se), max(hi, est - float(q_lo) * se)
    return lo, hi


def permutation_p(
    trials: Sequence[Sequence[bool]], n: int = 50, *, resamples: int = RESAMPLES, seed: int = 0
) -> float | None:
    """Two-sided permutation p-value of the pooled change (yes in the last n minus yes in the
    first n, summed over trials): the share of ``resamples`` shuffles of each trial's
    decisions whose |pooled change| is at least the observed one, counted as (extreme + 1) /
    (resamples + 1), so never below 1 / (resamples + 1). None without decisions."""
    trials = [list(t) for t in trials if t]
    if not trials:
        return None

    def pooled(ts: Sequence[Sequence[bool]]) -> int:
        return sum(c.last_yes - c.first_yes for c in (trial_change(0, t, n) for t in ts))

    observed = abs(pooled(trials))
    rng = random.Random(seed)
    extreme = sum(abs(pooled([rng.sample(t, len(t)) for t in trials])) >= observed for _ in range(resamples))
    return (extreme + 1) / (resamples + 1)
