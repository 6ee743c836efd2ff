"""Schwartz's circumplex: does a model's profile follow the circle of values?

Positions: the values sit on a circle in Schwartz's (1992) order, Self-Direction,
Stimulation, Hedonism, Achievement, Power, Security, Conformity and Tradition (one
position, as in the circle's model), Benevolence, Universalism, 40 degrees apart. The
centred profile y (score minus the model's mean) is fitted by least squares to
a cos(theta - phi) + c, i.e. y = b1 cos(theta) + b2 sin(theta) + c: amplitude a = |b|, peak
direction phi, and R^2. If the profile does follow the circle, R^2 is high; the permutation
p-value shuffles the values' positions (2,000 shuffles, seeded) and counts R^2 at least as
high as the observed: (count + 1) / (shuffles + 1).

Higher-order axes (Schwartz's two bipolar dimensions), in points:
- Openness to change - Conservation: mean(Self-Direction, Stimulation) - mean(Security,
  Conformity, Tradition);
- Self-transcendence - Self-enhancement: mean(Universalism, Benevolence) - mean(Achievement, Power).
Hedonism shares Openness and Self-enhancement and is left out of both. Their 95 % interval is
the union of two, each on each value's effective n (design effect of repeats): Price &
Bonett's (2004) adjusted Wald interval for a linear contrast (2/m yes and 4/m answers added to
each of the m values) and Zou & Donner's MOVER from the values' score intervals (as
Newcombe's does a difference). Each alone falls below 0.94 with 5-12 answers per
value, and at different shares (Price-Bonett with middling shares, MOVER with the poles at
opposite edges); the union covers at least 0.95 (``python -m perf.interval_coverage``).
"""

from __future__ import annotations

import math
import random
from typing import Any, Sequence

import numpy as np

from vspectrum_app.bench.intervals import Z95, mover_interval, score_interval

CIRCLE = (
    "Self-Direction",
    "Stimulation",
    "Hedonism",
    "Achievement",
    "Power",
    "Security",
    ("Conformity", "Tradition"),
    "Benevolence",
    "Universalism",
)
# the ten values around the circle, Conformity beside Tradition: the spokes of every radar
ORDER: tuple[str, ...] = tuple(n for pos in CIRCLE for n in (pos if isinstance(pos, tuple) else (pos,)))
ANGLE: dict[str, float] = {}
for _i, _pos in enumerate(CIRCLE):
    for _name in _pos if isinstance(_pos, tuple) else (_pos,):
        ANGLE[_name] = 2 * math.pi * _i / len(CIRCLE)
REGION = {
    "Self-Direction": "Openness to change",
    "Stimulation": "Openness to change",
    "Hedonism": "Openness to change / Self-enhancement",
    "Achievement": "Self-enhancement",
    "Power": "Self-enhancement",
    "Security": "Conservation",
    "Conformity": "Conservation",
    "Tradition": "Conservation",
    "Benevolence": "Self-transcendence",
    "Universalism": "Self-transcendence",
}
AXES = {
    "openness_minus_conservation": ({"Self-Direction", "Stimulation"}, {"Security", "Conformity", "Tradition"}),
    "transcendence_minus_enhancement": ({"Universalism", "Benevolence"}, {"Achievement", "Power"}),
}
SHUFFLES = 2000
MIN_VALUES = 4  # three parameters: fewer values leave nothing to test


def _r2(angles: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    x = np.column_stack([np.cos(angles), np.sin(angles), np.ones_like(angles)])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    total = float(((y - y.mean()) ** 2).sum())
    return (1 - float((resid**2).sum()) / total if total > 0 else 0.0), beta


def fit_circle(profile: dict[str, float], shuffles: int = SHUFFLES, seed: int = 0) -> dict[str, Any] | None:
    """Cosine fit of a (centred) profile value -> score; None with fewer than four values."""
    names = [v for v in profile if v in ANGLE and profile[v] is not None]
    if len(names) < MIN_VALUES:
        return None
    angles = np.array([ANGLE[v] for v in names])
    y = np.array([profile[v] for v in names], dtype=float)
    r2, (b1, b2, c) = _r2(angles, y)
    amplitude = math.hypot(b1, b2)
    phi = math.degrees(math.atan2(b2, b1)) % 360
    phi = 0.0 if phi >= 360 else phi  # -1e-15 % 360 is 360.0 in floating point: the same direction as 0
    rng = random.Random(seed)
    order = list(angles)
    at_least = 0
    for _ in range(shuffles):
        rng.shuffle(order)
        at_least += _r2(np.array(order), y)[0] >= r2 - 1e-12
    nearest = min(names, key=lambda v: abs((math.degrees(ANGLE[v]) - phi + 180) % 360 - 180))
    return {
        "amplitude": amplitude,
        "peak_deg": phi,
        "offset": float(c),
        "r2": r2,
        "p_permutation": (at_least + 1) / (shuffles + 1),
        "shuffles": shuffles,
        "peak_value": nearest if amplitude > 0 else None,
        "peak_region": REGION[nearest] if amplitude > 0 else None,
        "values": len(names),
    }


def contrast_interval(cells: Sequence[tuple[float, float, float]]) -> tuple[float, float, float] | None:
    """``cells``: (coefficient, yes, n) per value (n may be effective); the contrast
    100 x sum(c p) with its 95 % interval: the union of Price-Bonett's and MOVER's."""
    cells = [(c, y, n) for c, y, n in cells if n > 0]
    if not cells:
        return None
    point = sum(c * y / n for c, y, n in cells)
    pb_low, pb_high = price_bonett(cells)
    terms = []
    for c, y, n in cells:
        ci = score_interval(y, n)
        assert ci is not None  # n > 0
        terms.append((c, y / n, *ci))
    mv_low, mv_high = mover_interval(terms)
    return 100 * point, 100 * min(pb_low, mv_low), 100 * max(pb_high, mv_high)


def price_bonett(cells: Sequence[tuple[float, float, float]]) -> tuple[float, float]:
    """Price & Bonett's adjusted Wald 95 % interval of sum(c p), as fractions."""
    m = len(cells)
    adj = [(c, (y + 2 / m) / (n + 4 / m), n + 4 / m) for c, y, n in cells]
    centre = sum(c * p for c, p, _ in adj)
    half = Z95 * math.sqrt(sum(c * c * p * (1 - p) / n for c, p, n in adj))
    floor, ceiling = sum(min(c, 0.0) for c, _, _ in cells), sum(max(c, 0.0) for c, _, _ in cells)
    return max(centre - half, floor), min(centre + half, ceiling)


def higher_order_axes(counts: dict[str, tuple[float, float]]) -> dict[str, dict[str, float] | None]:
    """``counts``: value -> (yes, n) (effective). Each axis: estimate and 95 % interval (points);
    None when a pole has no value with answers."""
    out: dict[str, dict[str, float] | None] = {}
    for axis, (plus, minus) in AXES.items():
        pos = [v for v in plus if counts.get(v, (0, 0))[1] > 0]
        neg = [v for v in minus if counts.get(v, (0, 0))[1] > 0]
        if not pos or not neg:
            out[axis] = None
            continue
        est = contrast_interval([(1 / len(pos), *counts[v]) for v in pos] + [(-1 / len(neg), *counts[v]) for v in neg])
        assert est is not None  # both poles have values with answers
        out[axis] = {"estimate": est[0], "ci_low": est[1], "ci_high": est[2]}
    return out


def circumplex(scores: Sequence[Any], seed: int = 0) -> list[dict[str, Any]]:
    """Per model (and mode) of a report's scores (ValueScore or their dicts): the cosine fit of
    the centred profile and the two higher-order axes."""
    get = (lambda s, k: s[k]) if scores and isinstance(scores[0], dict) else getattr
    models = sorted({(get(s, "target"), get(s, "mode")) for s in scores})
    out = []
    for target, mode in models:
        cells = [s for s in scores if get(s, "target") == target and get(s, "mode") == mode]
        profile = {get(s, "value"): get(s, "centred") for s in cells if get(s, "centred") is not None}
        counts = {get(s, "value"): (get(s, "yes_eff"), get(s, "n_eff")) for s in cells if get(s, "n_eff")}
        out.append(
            {"target": target, "mode": mode, "fit": fit_circle(profile, seed=seed), "axes": higher_order_axes(counts)}
        )
    return out
