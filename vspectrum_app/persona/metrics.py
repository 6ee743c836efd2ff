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
-8 % where the truth is 0); incomplete trials are listed instead.

I_avg is biased upwards under no change (a ratio with a small random denominator: about
+26 % at a 10 % yes rate over 10 trials), so a persona's I_avg is read against a control
session's (random watch/skip at the same rate): ``difference_ci`` gives persona - control
with a bootstrap interval over the two sets of trials (independent sessions).

Whether a change is more than chance: a permutation test that shuffles each trial's
decisions (a viewer whose decisions do not depend on the feed's position gives
exchangeable sequences), against which the pooled change in yes count is compared.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from statistics import fmean
from typing import Sequence

from vspectrum_app.persona.parsing import IsqAnswer

DEFAULT_THRESHOLD = 60.0


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
    resamples: int = 2000,
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
        ci95=bootstrap_mean_ci([100 * c for c in defined], resamples=resamples, seed=seed),
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
    a: Sequence[float], b: Sequence[float], *, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of mean(a) - mean(b), resampling each set of trials on
    its own (two independent sessions); None when either has fewer than two trials."""
    if len(a) < 2 or len(b) < 2:
        return None
    rng = random.Random(seed)
    diffs = sorted(fmean(rng.choices(a, k=len(a))) - fmean(rng.choices(b, k=len(b))) for _ in range(resamples))
    return diffs[int((1 - level) / 2 * resamples)], diffs[min(int((1 + level) / 2 * resamples), resamples - 1)]


def permutation_p(
    trials: Sequence[Sequence[bool]], n: int = 50, *, resamples: int = 2000, seed: int = 0
) -> float | None:
    """Two-sided p-value of the pooled change (yes in the last n minus yes in the first n,
    summed over trials) when each trial's decisions are shuffled; None without decisions."""
    trials = [list(t) for t in trials if t]
    if not trials:
        return None

    def pooled(ts: Sequence[Sequence[bool]]) -> int:
        return sum(c.last_yes - c.first_yes for c in (trial_change(0, t, n) for t in ts))

    observed = abs(pooled(trials))
    rng = random.Random(seed)
    extreme = sum(abs(pooled([rng.sample(t, len(t)) for t in trials])) >= observed for _ in range(resamples))
    return (extreme + 1) / (resamples + 1)


def bootstrap_mean_ci(
    values: Sequence[float], *, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float] | None:
    """Percentile bootstrap over trials; None with fewer than two values."""
    if len(values) < 2:
        return None
    rng = random.Random(seed)
    means = sorted(fmean(rng.choices(values, k=len(values))) for _ in range(resamples))
    lo = means[int((1 - level) / 2 * resamples)]
    hi = means[min(int((1 + level) / 2 * resamples), resamples - 1)]
    return lo, hi
