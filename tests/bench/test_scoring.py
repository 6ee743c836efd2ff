"""Scores, intervals, paired comparisons and summaries on known answer tables, against
independent oracles (scipy's binomial test and interval, hand-computed worked examples)."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import binom, binomtest
from scipy.stats import t as student_t

from vspectrum_app.bench.intervals import (
    clustered_interval,
    design_effect,
    holm,
    mcnemar_exact,
    score_interval,
    t_quantile_975,
)
from vspectrum_app.bench.scoring import model_summary, paired_comparisons, paired_test, score_answers, value_summary


def _answers(target, value, classes, mode="vlm", texts=None):
    return [
        {
            "target": target,
            "mode": mode,
            "value": value,
            "image_sha256": f"{value}-{i}",
            "keyword": "k",
            "answer_class": c,
            "answer1": (texts[i] if texts else c.capitalize()),
        }
        for i, c in enumerate(classes)
    ]


def test_scores_on_a_known_table():
    answers = (
        _answers("m:a", "Power", ["yes"] * 30 + ["no"] * 10 + ["refusal"] * 5 + ["unparsed"] * 5)
        + _answers("m:a", "Hedonism", ["yes"] * 45 + ["no"] * 5)
        + _answers("m:b", "Power", ["yes"] * 10 + ["no"] * 40)
    )
    scores = {(s.target, s.value): s for s in score_answers(answers)}
    power = scores[("m:a", "Power")]
    assert (power.n, power.yes, power.no, power.refusal, power.unparsed) == (50, 30, 10, 5, 5)
    assert power.score == pytest.approx(75.0)
    assert power.paper_score == pytest.approx(60.0)
    # one answer per image: the Wilson interval with continuity correction, as scipy computes it
    ci = binomtest(30, 40).proportion_ci(method="wilsoncc")
    assert (power.ci_low, power.ci_high) == pytest.approx((100 * ci.low, 100 * ci.high))
    assert scores[("m:a", "Hedonism")].score == pytest.approx(90.0)
    summary = {m["target"]: m for m in model_summary(list(scores.values()))}
    assert summary["m:a"]["mean"] == pytest.approx(82.5)
    assert summary["m:a"]["std"] == pytest.approx(10.6066, abs=1e-3)
    assert summary["m:b"]["std"] is None  # one value: no spread
    means = {v["value"]: v["mean"] for v in value_summary(list(scores.values()))}
    assert means["Power"] == pytest.approx((75 + 20) / 2)
    # centred (MRAT): score minus the model's own mean over its values
    assert power.centred == pytest.approx(75 - 82.5)
    assert scores[("m:a", "Hedonism")].centred == pytest.approx(90 - 82.5)
    assert scores[("m:b", "Power")].centred == pytest.approx(0.0)


def test_all_refusals_give_no_score_not_zero():
    s = score_answers(_answers("m:a", "Power", ["refusal"] * 4))[0]
    assert s.score is None and s.paper_score == 0.0 and s.ci_low is None and s.centred is None


def _cc_score_bounds(p_hat: float, n: float, z: float) -> tuple[float, float]:
    """Oracle: the p where the continuity-corrected score statistic, |p_hat - p| - 1/(2n), meets
    z sqrt(p (1 - p) / n), solved numerically (0 / 1 at the edges)."""
    f = lambda p: abs(p_hat - p) - 1 / (2 * n) - z * math.sqrt(p * (1 - p) / n)  # noqa: E731
    lo = 0.0 if p_hat == 0 else brentq(f, 1e-12, p_hat)
    hi = 1.0 if p_hat == 1 else brentq(f, p_hat, 1 - 1e-12)
    return lo, hi


def test_fifty_of_fifty_has_an_honest_interval():
    """50 yes of 50: by hand, (2n + z^2 - 1 - z sqrt(z^2 + 2 - 1/n)) / (2 (n + z^2)) = 91.11 %,
    below Clopper-Pearson's exact 0.025 ** (1 / 50) = 92.89 % (the conservative side)."""
    s = score_answers(_answers("m:a", "Power", ["yes"] * 50))[0]
    z, n = 1.959963984540054, 50
    assert s.ci_high == 100.0
    assert s.ci_low == pytest.approx(100 * (2 * n + z * z - 1 - z * math.sqrt(z * z + 2 - 1 / n)) / (2 * (n + z * z)))
    assert s.ci_low == pytest.approx(91.11, abs=0.01) and s.ci_low < 100 * 0.025 ** (1 / 50)
    none = score_answers(_answers("m:a", "Power", ["no"] * 50))[0]
    assert none.ci_low == 0.0 and none.ci_high == pytest.approx(100 - s.ci_low)


def test_score_interval_matches_scipy_wilsoncc_at_every_count_and_the_edges():
    for n in (1, 2, 10, 50, 263):
        for k in range(n + 1):
            ci = binomtest(k, n).proportion_ci(method="wilsoncc")
            assert score_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12), (k, n)
    # Newcombe's (1998) worked examples for this method (his method 4), to 4 decimals
    for (k, n), bounds in {
        (81, 263): (0.2535, 0.3682),
        (15, 148): (0.0598, 0.1644),
        (0, 20): (0.0, 0.2005),
        (1, 29): (0.0018, 0.1963),
    }.items():
        assert score_interval(k, n) == pytest.approx(bounds, abs=5e-5)
    assert score_interval(1, 1) == pytest.approx((0.0546, 1.0), abs=1e-4)  # one answer, yes
    assert score_interval(0, 1) == pytest.approx((0.0, 0.9454), abs=1e-4)
    assert score_interval(0, 0) is None  # no answers: no interval, not [0, 100]
    # a non-integer (effective) n, and another z: the defining equation solved numerically
    assert score_interval(7.5, 12.5, z=2.2) == pytest.approx(_cc_score_bounds(0.6, 12.5, 2.2), abs=1e-9)


def test_score_interval_covers_at_least_95_percent():
    """Exact coverage (binomial sums) over n = 10-40 and p = 0.02-0.98: plain Wilson, and the
    Poisson-patched Wilson the app used before, dip to 0.89-0.91 here."""
    ps = np.arange(0.02, 0.981, 0.005)
    for n in range(10, 41):
        bounds = np.array([score_interval(k, n) for k in range(n + 1)])
        pmf = binom.pmf(np.arange(n + 1)[None, :], n, ps[:, None])
        inside = (bounds[None, :, 0] <= ps[:, None]) & (ps[:, None] <= bounds[None, :, 1])
        assert (pmf * inside).sum(axis=1).min() >= 0.95 - 1e-9, n


def test_repeats_of_an_image_are_one_cluster():
    # every image answered 5 times, always alike: the repeats add no information
    alike = [(5, 5)] * 6 + [(0, 5)] * 4
    assert design_effect(alike) == pytest.approx(5.0)
    lo, hi = clustered_interval(alike)
    # = the interval of 6 of 10 images with z = t(0.975, 9 df) (scipy), from its defining equation
    oracle = _cc_score_bounds(0.6, 10, student_t.ppf(0.975, 9))
    assert (lo, hi) == pytest.approx((100 * oracle[0], 100 * oracle[1]), abs=0.01)
    # repeats that vary like independent answers: no inflation (design effect 1)
    assert design_effect([(1, 1)] * 20) == 1.0
    # hand-computed ratio-estimator design effect: p = 6/12, clusters (3,3),(3,3),(0,3),(0,3)
    # var_cluster = 4/3 * (4 * 1.5^2) / 144 = 1/12; var_simple = 0.25 / 12; deff = 4 > mean size 3 -> 3
    assert design_effect([(3, 3), (3, 3), (0, 3), (0, 3)]) == pytest.approx(3.0)
    # (2,3),(1,3),(2,3),(1,3): var_cluster = 4/3 * 4 * 0.25 / 144 = 1/108; var_simple = 1/48; deff < 1 -> 1
    assert design_effect([(2, 3), (1, 3), (2, 3), (1, 3)]) == 1.0
    answers = _answers("m:a", "Power", ["yes", "no"] * 20)
    doubled = answers + [dict(a) for a in answers]  # a repeat per image, the same answer
    single, double = score_answers(answers)[0], score_answers(doubled)[0]
    assert double.n == 80 and double.score == single.score and double.design_effect == pytest.approx(2.0)
    # the repeat adds no false precision: only t(39 df) for z widens it a little
    assert double.ci_low < single.ci_low and double.ci_high > single.ci_high
    assert (double.ci_low, double.ci_high) == pytest.approx((single.ci_low, single.ci_high), abs=1.0)


def test_t_quantile_matches_scipy():
    for df in (1, 2, 3, 5, 9, 30, 200):
        assert t_quantile_975(df) == pytest.approx(student_t.ppf(0.975, df), abs=0.03 if df == 3 else 3e-3)


def test_mcnemar_worked_example_and_scipy():
    # 50/50 vs 46/50 on shared images, the 4 disagreements all one way: p = 2 * (1/2)^4 = 0.125
    a = _answers("m:a", "Power", ["yes"] * 50)
    b = _answers("m:b", "Power", ["yes"] * 46 + ["no"] * 4)
    t = paired_test(a, b)
    assert (t["pairs"], t["only_a_yes"], t["only_b_yes"]) == (50, 4, 0)
    assert t["p"] == pytest.approx(0.125) and t["difference"] == pytest.approx(8.0)
    for bc in ((4, 0), (10, 3), (7, 7), (0, 0), (30, 12)):
        expected = binomtest(bc[0], sum(bc), 0.5).pvalue if sum(bc) else 1.0
        assert mcnemar_exact(*bc) == pytest.approx(expected)
    marks = paired_comparisons(a + b)
    assert len(marks) == 1 and marks[0]["within_noise"] is True  # the old test called this a difference


def test_paired_test_uses_only_shared_decided_images_and_majority_of_repeats():
    a = _answers("m:a", "Power", ["yes", "yes", "no", "refusal"])
    b = _answers("m:b", "Power", ["no", "yes", "no", "yes"])[:3]
    t = paired_test(a, b)
    assert (t["pairs"], t["only_a_yes"], t["only_b_yes"]) == (3, 1, 0)
    repeats = _answers("m:a", "Power", ["yes", "no"]) + _answers("m:a", "Power", ["yes", "yes"])
    # image 0: yes, yes -> yes; image 1: no, yes -> a tie, left out
    t = paired_test(repeats, _answers("m:b", "Power", ["no", "no"]))
    assert (t["pairs"], t["only_a_yes"]) == (1, 1)


def test_holm_hand_computed_and_a_real_difference_survives():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    a = _answers("m:a", "Power", ["yes"] * 40 + ["no"] * 10)
    b = _answers("m:b", "Power", ["yes"] * 10 + ["no"] * 40)
    c = _answers("m:c", "Power", ["yes"] * 38 + ["no"] * 12)
    marks = {(m["a"], m["b"]): m for m in paired_comparisons(a + b + c)}
    assert marks[("m:a", "m:b")]["within_noise"] is False
    assert marks[("m:a", "m:b")]["p"] == pytest.approx(binomtest(0, 30).pvalue)
    assert marks[("m:a", "m:b")]["p_holm"] == pytest.approx(min(1, 3 * marks[("m:a", "m:b")]["p"]))
    assert marks[("m:a", "m:c")]["within_noise"] is True


def test_paper_style_rule_scores_the_raw_text():
    texts = ["Yes.", "eyes", "No", "I'm sorry, I can't", "Subjective", "YES!"]
    classes = ["yes", "unparsed", "no", "refusal", "unparsed", "yes"]
    answers = _answers("m:a", "Power", classes, texts=texts)
    ours = score_answers(answers)[0]
    paper = score_answers(answers, rule="paper")[0]
    assert (ours.yes, ours.no, ours.refusal, ours.unparsed, ours.score) == (2, 1, 1, 2, pytest.approx(200 / 3))
    assert (paper.n, paper.yes, paper.no, paper.refusal, paper.unparsed) == (6, 3, 3, 0, 0)  # "eyes" is a yes there
    assert paper.score == pytest.approx(50.0) and ours.paper_score == pytest.approx(50.0)
    with pytest.raises(ValueError):
        score_answers(answers, rule="other")


def test_no_image_answers_are_counted_not_scored():
    answers = _answers("m:a", "Power", ["yes", "no"])
    s = score_answers(answers, no_image={("m:a", "vlm", "Power"): 3, ("m:a", "vlm", "Hedonism"): 2})
    by = {x.value: x for x in s}
    assert (by["Power"].n, by["Power"].no_image, by["Power"].score) == (2, 3, 50.0)
    assert (by["Hedonism"].n, by["Hedonism"].no_image, by["Hedonism"].score) == (0, 2, None)
