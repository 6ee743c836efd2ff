"""Coverage of every 95 % interval the app prints (docs/benchmark.md, "Statistics"; docs/persona.md):
how often it holds the true value, before (the method it replaced) and after, in one run.

Rows, each over a grid (min = the worst grid point, mean = over the grid):
- score, one answer per image: every n from 10 to 200, p from 0.02 to 0.98 in steps of 0.001;
  exact (sum of the binomial probabilities of the counts whose interval holds p). The same
  function gives the acquiescence rates' intervals and the paper's published score's interval.
- score, several answers per image (``clustered_interval``): images x repeats in (10, 20, 50) x
  (2, 3, 5) as far as enumerable, repeats beta-binomial with intra-image correlation rho in
  0-0.8, p from 0.02 to 0.98 in steps of 0.02; exact (sum over every per-image histogram of
  its multinomial probability; the interval is a function of the histogram).
- run - paper difference (Newcombe's interval from the two score intervals): paper n = 50,
  run n in 10-200, both p from 0.02 to 0.98 in steps of 0.04; exact (double binomial sum).
- circumplex axis (a linear contrast of 2 and 3 values' shares): n per value 10, 50, 200, equal
  and mixed shares; seeded simulation.
- mean across models (Fig. 6: the mean of the models' bounds): 3 models, n = 50; simulation.
- persona I_avg and persona - control (``perf.persona_intervals``' cases): simulation, over the
  cases where at least 100 simulated sessions got an interval (mean weighted by that share).

    python -m perf.interval_coverage [--reps 20000] [--persona-reps 1000] [--seed 0]

(docs/benchmark.md quotes ``--reps 20000 --persona-reps 3000``.)
"""

from __future__ import annotations

import itertools
import math
import statistics
from typing import Callable, Sequence

import numpy as np
from scipy.special import gammaln
from scipy.stats import betabinom, binom

from perf._util import simulation_args
from vspectrum_app.bench.circumplex import contrast_interval, price_bonett
from vspectrum_app.bench.intervals import (
    METHOD,
    Z95,
    clustered_interval,
    design_effect,
    mover_interval,
    score_interval,
    t_quantile_975,
)
from vspectrum_app.bench.report import value_means

WCC = "Wilson cont.-corr."  # the app's METHOD, short for the table
Interval = Callable[[float, float], "tuple[float, float] | None"]

# -- the methods replaced (kept here only to measure them beside the app's) ---------------------
_POISSON_LOWER = {1: 0.051, 2: 0.355, 3: 0.818}


def before_score(yes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson with Brown-Cai-DasGupta's one-sided Poisson bounds for 1-3 answers at an edge."""
    p = min(max(yes / n, 0.0), 1.0)
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    lo, hi = (0.0 if yes <= 0 else centre - half), (1.0 if yes >= n else centre + half)
    k, f = round(yes), round(n - yes)
    if abs(yes - k) < 1e-9 and k in _POISSON_LOWER:
        lo = _POISSON_LOWER[k] / n
    if abs((n - yes) - f) < 1e-9 and f in _POISSON_LOWER:
        hi = 1 - _POISSON_LOWER[f] / n
    return max(lo, 0.0), min(hi, 1.0)


def before_clustered(groups: Sequence[tuple[int, int]]) -> tuple[float, float]:
    yes, total = sum(y for y, _ in groups), sum(m for _, m in groups)
    deff = design_effect(groups)
    z = t_quantile_975(len(groups) - 1) if total > len(groups) else Z95
    return before_score(yes / deff, total / deff, z=z)


def app_score(yes: float, n: float) -> tuple[float, float]:
    ci = score_interval(yes, n)
    assert ci is not None
    return ci


def app_clustered(groups: Sequence[tuple[int, int]]) -> tuple[float, float]:
    ci = clustered_interval(groups)
    assert ci is not None
    return ci[0] / 100, ci[1] / 100


# -- exact coverage --------------------------------------------------------------------------------


def bounds(interval: Interval, n: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = [interval(k, n) for k in range(n + 1)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def score_coverage(interval: Interval, ns: Sequence[int], ps: np.ndarray) -> list[tuple[float, float, str]]:
    """(coverage, weight, where) per grid point: exact binomial sums."""
    out = []
    for n in ns:
        lo, hi = bounds(interval, n)
        pmf = binom.pmf(np.arange(n + 1)[None, :], n, ps[:, None])
        cov = (pmf * ((lo[None, :] <= ps[:, None]) & (ps[:, None] <= hi[None, :]))).sum(axis=1)
        out += [(float(c), 1.0, f"n {n}, p {p:.3f}") for c, p in zip(cov, ps)]
    return out


def histograms(images: int, repeats: int) -> np.ndarray:
    """Every way ``images`` images split over 0..repeats yes answers (counts per yes-level)."""
    rows = []
    for cuts in itertools.combinations(range(images + repeats), repeats):
        edges = (-1, *cuts, images + repeats)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(repeats + 1)])
    return np.array(rows)


def clustered_coverage(
    intervals: dict[str, Callable], designs: Sequence[tuple[int, int]], ps: np.ndarray, rhos: Sequence[float]
) -> dict[str, list[tuple[float, float, str]]]:
    out: dict[str, list[tuple[float, float, str]]] = {name: [] for name in intervals}
    for images, repeats in designs:
        h = histograms(images, repeats)
        log_coef = gammaln(images + 1) - gammaln(h + 1).sum(axis=1)
        ci = {
            name: np.array([f([(j, repeats) for j in range(repeats + 1) for _ in range(c[j])]) for c in h])
            for name, f in intervals.items()
        }
        for p, rho in itertools.product(ps, rhos):
            if rho > 0:
                q = betabinom.pmf(np.arange(repeats + 1), repeats, p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho)
            else:
                q = binom.pmf(np.arange(repeats + 1), repeats, p)
            prob = np.exp(log_coef + h @ np.log(np.maximum(q, 1e-300)))
            for name in intervals:
                inside = (ci[name][:, 0] <= p) & (p <= ci[name][:, 1])
                out[name].append((float(prob[inside].sum()), 1.0, f"{images} x {repeats}, p {p:.2f}, rho {rho}"))
    return out


def newcombe_coverage(interval: Interval, n_runs: Sequence[int], ps: np.ndarray) -> list[tuple[float, float, str]]:
    n1 = 50
    out = []
    lo1, hi1 = bounds(interval, n1)
    for n2 in n_runs:
        lo2, hi2 = bounds(interval, n2)
        low = np.empty((n1 + 1, n2 + 1))
        high = np.empty_like(low)
        for k1, k2 in itertools.product(range(n1 + 1), range(n2 + 1)):
            low[k1, k2], high[k1, k2] = mover_interval(
                [(-1.0, k1 / n1, lo1[k1], hi1[k1]), (1.0, k2 / n2, lo2[k2], hi2[k2])]
            )
        for p1, p2 in itertools.product(ps, ps):
            inside = (low <= p2 - p1 + 1e-12) & (p2 - p1 - 1e-12 <= high)
            w = np.outer(binom.pmf(np.arange(n1 + 1), n1, p1), binom.pmf(np.arange(n2 + 1), n2, p2))
            out.append((float(w[inside].sum()), 1.0, f"run n {n2}, paper p {p1:.2f}, run p {p2:.2f}"))
    return out


# -- simulated coverage ----------------------------------------------------------------------------


def before_contrast(cells: Sequence[tuple[float, float, float]]) -> tuple[float, float]:
    return price_bonett(cells)  # the app's interval was this alone


def app_contrast(cells: Sequence[tuple[float, float, float]]) -> tuple[float, float]:
    est = contrast_interval(cells)
    assert est is not None
    return est[1] / 100, est[2] / 100


def contrast_coverage(
    intervals: dict[str, Callable], reps: int, rng: np.random.Generator
) -> dict[str, list[tuple[float, float, str]]]:
    """Openness - Conservation (2 values against 3): exact (every outcome) for 5 and 10 answers
    per value, simulated for 50 and 200."""
    levels = (0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98)
    shares = [[p] * 5 for p in np.round(np.arange(0.02, 0.99, 0.04), 2)]
    shares += [[a, a, b, b, b] for a, b in itertools.product(levels, levels) if a != b]
    shares += [list(np.round(rng.uniform(0.02, 0.98, 5), 2)) for _ in range(10)]
    coef = (1 / 2, 1 / 2, -1 / 3, -1 / 3, -1 / 3)
    out: dict[str, list[tuple[float, float, str]]] = {name: [] for name in intervals}
    for n in (5, 10, 50, 200):
        exact = n <= 10
        if exact:
            outcomes = np.array(list(itertools.product(range(n + 1), repeat=5)))
            ci = {
                name: np.array([f([(c, float(k), float(n)) for c, k in zip(coef, row)]) for row in outcomes])
                for name, f in intervals.items()
            }
        for ps in shares:
            truth = sum(c * p for c, p in zip(coef, ps))
            where = f"n {n}, p " + "/".join(f"{p:.2f}" for p in ps)
            if exact:
                w = np.prod(binom.pmf(outcomes, n, ps), axis=1)
                for name in intervals:
                    inside = (ci[name][:, 0] <= truth + 1e-12) & (truth - 1e-12 <= ci[name][:, 1])
                    out[name].append((float(w[inside].sum()), 1.0, where))
                continue
            hits = dict.fromkeys(intervals, 0)
            cache: dict[tuple[int, ...], dict[str, tuple[float, float]]] = {}
            for row in map(tuple, rng.binomial(n, ps, size=(reps, 5))):
                if row not in cache:
                    cells = [(c, float(k), float(n)) for c, k in zip(coef, row)]
                    cache[row] = {name: f(cells) for name, f in intervals.items()}
                for name, (lo, hi) in cache[row].items():
                    hits[name] += lo <= truth <= hi
            for name in intervals:
                out[name].append((hits[name] / reps, 1.0, where))
    return out


def means_coverage(interval: Interval, reps: int, rng: np.random.Generator) -> list[tuple[float, float, str]]:
    """Fig. 6's interval (``report.value_means``: the mean of the models' bounds), 3 models x 50 answers."""
    n, out = 50, []
    lo, hi = bounds(interval, n)
    for ps in ([0.02, 0.02, 0.02], [0.5, 0.5, 0.5], [0.9, 0.95, 0.98], [0.1, 0.5, 0.9], [0.3, 0.6, 0.7]):
        ks = rng.binomial(n, ps, size=(reps, 3))
        truth = 100 * statistics.fmean(ps)
        hits = 0
        for row in ks:
            cells = [
                {"value": "Power", "mode": "vlm", "score": 100 * k / n, "ci_low": 100 * lo[k], "ci_high": 100 * hi[k]}
                for k in row
            ]
            m = value_means(cells)[0]
            hits += m["ci_low"] <= truth <= m["ci_high"]
        out.append((hits / reps, 1.0, "p " + "/".join(map(str, ps))))
    return out


def persona_coverage(reps: int, rng: np.random.Generator) -> dict[str, dict[str, list[tuple[float, float, str]]]]:
    from perf.persona_intervals import case_coverage

    out: dict[str, dict[str, list[tuple[float, float, str]]]] = {}
    for kind in ("I_avg", "persona - control"):
        rows = case_coverage(rng, reps, difference=kind != "I_avg")
        rows = [r for r in rows if r[2] * reps >= 100]  # fewer sessions given an interval: no measurement
        out[kind] = {
            "before": [(old, given, where) for _, old, given, where in rows],
            "after": [(app, given, where) for app, _, given, where in rows],
        }
    return out


def summary(points: list[tuple[float, float, str]]) -> str:
    points = [p for p in points if p[1] > 0]
    worst = min(points, key=lambda p: p[0])
    mean = sum(c * w for c, w, _ in points) / sum(w for _, w, _ in points)
    return f"{worst[0]:>6.3f}{mean:>7.3f}  {worst[2]}"


def main(argv: list[str]) -> None:
    args, rng = simulation_args("perf.interval_coverage", argv, reps=20000)
    import argparse

    extra = argparse.ArgumentParser()
    extra.add_argument("--persona-reps", type=int, default=1000)
    persona_reps = extra.parse_known_args(argv)[0].persona_reps
    ps = np.round(np.arange(0.02, 0.98 + 1e-9, 0.001), 3)
    rows: list[tuple[str, str, str, list, list]] = []
    rows.append(
        (
            "score, 1 answer/image",
            "Wilson + Poisson bounds",
            WCC,
            score_coverage(before_score, range(10, 201), ps),
            score_coverage(app_score, range(10, 201), ps),
        )
    )
    designs = ((10, 2), (10, 3), (10, 5), (20, 2), (20, 3), (50, 2), (50, 3))
    cl = clustered_coverage(
        {"before": before_clustered, "after": app_clustered},
        designs,
        np.round(np.arange(0.02, 0.98 + 1e-9, 0.02), 2),
        (0.0, 0.1, 0.3, 0.5, 0.8),
    )
    rows.append(("score, repeats (deff)", "Wilson + Poisson, deff, t", f"{WCC}, deff, t", cl["before"], cl["after"]))
    grid = np.round(np.arange(0.02, 0.98 + 1e-9, 0.04), 2)
    runs = (10, 20, 50, 100, 200)
    rows.append(
        (
            "run - paper difference",
            "Newcombe from Wilson + Poisson",
            f"Newcombe from {WCC}",
            newcombe_coverage(before_score, runs, grid),
            newcombe_coverage(app_score, runs, grid),
        )
    )
    cc = contrast_coverage({"before": before_contrast, "after": app_contrast}, args.reps, rng)
    rows.append(
        (
            "circumplex axis",
            "Price-Bonett adjusted Wald",
            f"Price-Bonett or MOVER from {WCC}",
            cc["before"],
            cc["after"],
        )
    )
    rows.append(
        (
            "mean across models",
            "mean of Wilson + Poisson bounds",
            f"mean of {WCC} bounds",
            means_coverage(before_score, args.reps // 4, rng),
            means_coverage(app_score, args.reps // 4, rng),
        )
    )
    if persona_reps:
        for kind, cov in persona_coverage(persona_reps, rng).items():
            rows.append(
                (
                    "persona " + ("I_avg" if kind == "I_avg" else "minus control"),
                    "percentile bootstrap",
                    "t + studentized bootstrap",
                    cov["before"],
                    cov["after"],
                )
            )
    print(f"coverage of the app's 95 % intervals (target: at least 0.94 at every grid point); {WCC} = {METHOD}\n")
    print(f"{'interval':<24}{'':<7}{'method':<48}{'min':>6}{'mean':>7}  worst grid point")
    for name, old, new, before, after in rows:
        print(f"{name:<24}{'before':<7}{old:<48}{summary(before)}")
        print(f"{'':<24}{'after':<7}{new:<48}{summary(after)}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
