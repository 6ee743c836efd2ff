"""Coverage of the persona report's intervals (docs/persona.md, "Metrics"): how often the
printed 95 % interval of I_avg, and of persona - control, holds the true value.

Trials are simulated as the paper's design makes them: per trial, F and L yes-answers in the
first and last window of n videos, independent Binomial(n, p_first) and Binomial(n, p_last);
a trial with F = 0 has no defined change and is left out, as the app does. The true I_avg is
exact: 100 x E[(L - F) / F | F > 0] = 100 x sum_f P(F = f | F > 0) (n p_last - f) / f.
Persona - control pairs a persona (p_first -> p_last) with a control at p_first throughout.
Beside the app's interval (``persona.metrics.mean_ci`` / ``difference_ci``: the union of
Student/Welch t and the studentized bootstrap, each at 97.5 %) the percentile bootstrap it
replaces. Each interval uses 2,000 resamples, as the app does.

    python -m perf.persona_intervals [--reps 1000] [--seed 0]
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from perf._util import simulation_args
from vspectrum_app.persona.metrics import difference_ci, mean_ci

# (window n, yes rate in the first window, in the last): flat and rising, small and paper-sized windows
CASES = (
    (50, 0.05, 0.1),
    (50, 0.1, 0.1),
    (50, 0.2, 0.2),
    (50, 0.3, 0.3),
    (50, 0.5, 0.5),
    (50, 0.2, 0.4),
    (10, 0.1, 0.1),
    (10, 0.3, 0.3),
    (10, 0.2, 0.4),
)
TRIALS = (10, 20)


def true_i_avg(n: int, p_first: float, p_last: float) -> float:
    f = np.arange(1, n + 1)
    w = binom.pmf(f, n, p_first)
    return float(100 * np.sum(w * (n * p_last - f) / f) / w.sum())


def changes(rng: np.random.Generator, trials: int, n: int, p_first: float, p_last: float) -> list[float]:
    first, last = rng.binomial(n, p_first, trials), rng.binomial(n, p_last, trials)
    ok = first > 0
    return list(100 * (last[ok] - first[ok]) / first[ok])


def percentile(rng: np.random.Generator, values: list[float], other: list[float] | None = None) -> tuple[float, float]:
    x = np.asarray(values)
    means = x[rng.integers(0, len(x), (2000, len(x)))].mean(axis=1)
    if other is not None:
        y = np.asarray(other)
        means = means - y[rng.integers(0, len(y), (2000, len(y)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def case_coverage(
    rng: np.random.Generator, reps: int, difference: bool = False
) -> list[tuple[float, float, float, str]]:
    """Per trials x case: (app coverage, percentile coverage, share of sessions given an
    interval, case) of I_avg, or with ``difference`` of persona - control (a control at
    p_first throughout). Coverage is over the sessions given an interval (nan if none)."""
    seed = int(rng.integers(1 << 31))
    out = []
    for trials in TRIALS:
        for n, p1, p2 in CASES:
            truth = true_i_avg(n, p1, p2) - (true_i_avg(n, p1, p1) if difference else 0.0)
            hits = old = counted = 0
            for _ in range(reps):
                a = changes(rng, trials, n, p1, p2)
                b = changes(rng, trials, n, p1, p1) if difference else None
                ci = difference_ci(a, b, seed=seed) if b is not None else mean_ci(a, seed=seed)
                seed += 1
                if ci is None:
                    continue
                counted += 1
                hits += ci[0] <= truth <= ci[1]
                lo, hi = percentile(rng, a, b)
                old += lo <= truth <= hi
            rate = (lambda x: x / counted) if counted else (lambda x: float("nan"))
            out.append(
                (rate(hits), rate(old), counted / reps, f"{trials} trials, n {n}, {p1}->{p2} (true {truth:.1f})")
            )
    return out


def main(argv: list[str]) -> None:
    args, rng = simulation_args("perf.persona_intervals", argv, reps=1000)
    print(f"coverage of the 95 % intervals, {args.reps} simulated sessions per row; target >= 0.94")
    print(
        "(trials: per session; a session with fewer than 10 trials with a defined change gets no interval: "
        "'given' is the share that got one, coverage is over those)"
    )
    worst = 1.0
    for label, difference in (("I_avg", False), ("persona - control", True)):
        print(f"\n{label:<18}{'case':<44}{'app':>8}{'percentile':>12}{'given':>7}")
        for app, old, given, case in case_coverage(rng, args.reps, difference):
            worst = min(worst, app) if given else worst
            cells = f"{app:>8.3f}{old:>12.3f}" if given else f"{'-':>8}{'-':>12}"
            print(f"{'':<18}{case:<44}{cells}{given:>7.2f}")
    se = (0.95 * 0.05 / args.reps) ** 0.5
    print(f"\nlowest coverage of the app's intervals: {worst:.3f} (simulation standard error about {se:.3f})")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
