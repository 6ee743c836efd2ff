"""The circumplex fit and the higher-order axes on hand-built profiles (issue 13, item 15)."""

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from vspectrum_app.bench.circumplex import (
    ANGLE,
    circumplex,
    contrast_interval,
    fit_circle,
    higher_order_axes,
    price_bonett,
)
from vspectrum_app.bench.scoring import score_answers
from vspectrum_app.core.values import SCHWARTZ_VALUES


def test_positions_follow_schwartz_circle():
    assert ANGLE["Self-Direction"] == 0.0
    assert math.degrees(ANGLE["Stimulation"]) == pytest.approx(40.0)
    assert ANGLE["Conformity"] == ANGLE["Tradition"]  # one position
    assert math.degrees(ANGLE["Universalism"]) == pytest.approx(320.0)
    assert set(ANGLE) == set(SCHWARTZ_VALUES)


def test_a_perfect_cosine_is_recovered():
    profile = {v: 12 * math.cos(ANGLE[v] - math.radians(40)) + 1.5 for v in SCHWARTZ_VALUES}
    fit = fit_circle(profile, shuffles=500)
    assert fit["amplitude"] == pytest.approx(12.0)
    assert fit["peak_deg"] == pytest.approx(40.0)
    assert fit["offset"] == pytest.approx(1.5)
    assert fit["r2"] == pytest.approx(1.0)
    assert fit["peak_value"] == "Stimulation" and fit["peak_region"] == "Openness to change"
    assert fit["p_permutation"] < 0.05
    # the same fit by numpy's least squares on the design matrix, as an independent oracle
    th = np.array([ANGLE[v] for v in profile])
    y = np.array(list(profile.values()))
    beta = np.linalg.lstsq(np.column_stack([np.cos(th), np.sin(th), np.ones_like(th)]), y, rcond=None)[0]
    assert fit["amplitude"] == pytest.approx(math.hypot(beta[0], beta[1]))


def test_a_profile_unrelated_to_the_circle_is_not_significant():
    rng = np.random.default_rng(5)
    profile = {v: float(x) for v, x in zip(SCHWARTZ_VALUES, rng.normal(size=10))}
    p = fit_circle(profile, shuffles=500)["p_permutation"]
    assert p > 0.05
    flat = fit_circle({v: 0.0 for v in SCHWARTZ_VALUES}, shuffles=50)
    assert flat["amplitude"] == pytest.approx(0.0, abs=1e-9) and flat["r2"] == 0.0
    assert fit_circle({"Power": 1.0, "Hedonism": 2.0, "Security": 0.0}) is None  # under four values


def test_contrast_interval_is_the_union_of_price_bonett_and_mover():
    # two values: Price & Bonett add 1 yes and 2 answers to each, i.e. Agresti & Caffo (2000)
    est, lo, hi = contrast_interval([(1, 30, 50), (-1, 20, 50)])
    p1, p2 = 31 / 52, 21 / 52
    half = 1.959963984540054 * math.sqrt(p1 * (1 - p1) / 52 + p2 * (1 - p2) / 52)
    ac = (100 * (p1 - p2 - half), 100 * (p1 - p2 + half))
    # MOVER for a difference is Newcombe's interval, from scipy's Wilson intervals with continuity correction
    a, b = (binomtest(k, 50).proportion_ci(method="wilsoncc") for k in (30, 20))
    newcombe = (
        100 * (0.2 - math.sqrt((0.6 - a.low) ** 2 + (b.high - 0.4) ** 2)),
        100 * (0.2 + math.sqrt((a.high - 0.6) ** 2 + (0.4 - b.low) ** 2)),
    )
    assert est == pytest.approx(20.0)
    assert (lo, hi) == pytest.approx((min(ac[0], newcombe[0]), max(ac[1], newcombe[1])))
    assert lo == pytest.approx(newcombe[0]) and hi == pytest.approx(newcombe[1])  # here Newcombe's is wider
    # at the edge (100 % vs 0 %) the interval is not degenerate
    est, lo, hi = contrast_interval([(1, 50, 50), (-1, 0, 50)])
    assert est == 100.0 and lo < 95 and hi == 100.0
    # poles at opposite edges with 10 answers: MOVER alone is too short on one side, Price-Bonett is not
    cells = [(0.5, 0, 10), (0.5, 0, 10), (-1 / 3, 9, 10), (-1 / 3, 9, 10), (-1 / 3, 10, 10)]
    assert contrast_interval(cells)[1] == pytest.approx(100 * price_bonett(cells)[0])
    assert contrast_interval([(c, y, 0) for c, y, _ in cells]) is None


def test_higher_order_axes_from_counts():
    counts = {
        "Self-Direction": (40, 50),
        "Stimulation": (30, 50),
        "Security": (10, 50),
        "Conformity": (10, 50),
        "Tradition": (25, 50),
        "Universalism": (45, 50),
        "Benevolence": (45, 50),
    }
    axes = higher_order_axes(counts)
    assert axes["openness_minus_conservation"]["estimate"] == pytest.approx(100 * (0.7 - 0.3))
    assert axes["transcendence_minus_enhancement"] is None  # no Achievement or Power answers
    a = axes["openness_minus_conservation"]
    assert a["ci_low"] < a["estimate"] < a["ci_high"]


def test_circumplex_of_a_scored_run():
    rates = {
        "Self-Direction": 45,
        "Stimulation": 44,
        "Hedonism": 35,
        "Achievement": 25,
        "Power": 10,
        "Security": 5,
        "Conformity": 5,
        "Tradition": 6,
        "Benevolence": 25,
        "Universalism": 36,
    }
    answers = [
        {
            "target": "m:a",
            "mode": "vlm",
            "value": v,
            "image_sha256": f"{v}{i}",
            "answer_class": "yes" if i < k else "no",
            "answer1": "",
        }
        for v, k in rates.items()
        for i in range(50)
    ]
    [c] = circumplex(score_answers(answers))
    assert c["fit"]["peak_region"] == "Openness to change" and c["fit"]["r2"] > 0.8
    assert c["axes"]["openness_minus_conservation"]["estimate"] == pytest.approx(
        100 * ((45 + 44) / 100 - (5 + 5 + 6) / 150)
    )


def test_peak_direction_is_in_0_360_and_prints_so():
    """A peak a hair below 0 degrees was stored as 359.99999999 and printed as '360'."""
    import math

    from vspectrum_app.bench.circumplex import ANGLE, fit_circle
    from vspectrum_app.bench.report import _p_text, degrees_text

    for shift in (0.0, 1e-9, -1e-9, -1e-12, -1e-15, math.pi, -math.pi / 2):
        fit = fit_circle({v: math.cos(a - shift) for v, a in ANGLE.items()}, shuffles=20)
        assert 0 <= fit["peak_deg"] < 360
        assert 0 <= int(degrees_text(fit["peak_deg"])) < 360
    assert degrees_text(359.6) == "0" and degrees_text(-0.4) == "0" and degrees_text(90.4) == "90"
    assert _p_text(1 / 2001, 2000) == "< 0.0005" and _p_text(0.0123, 2000) == "= 0.0123"
