"""Scores, intervals and summaries on known answer tables."""

import pytest

from vspectrum_app.bench.scoring import (difference_within_noise, model_summary, noise_marks, score_answers,
                                         value_summary)


def _answers(target, value, classes, mode="vlm"):
    return [{"target": target, "mode": mode, "value": value, "image_sha256": f"{value}-{i}", "answer_class": c}
            for i, c in enumerate(classes)]


def test_scores_on_a_known_table():
    answers = (_answers("m:a", "Power", ["yes"] * 30 + ["no"] * 10 + ["refusal"] * 5 + ["unparsed"] * 5)
               + _answers("m:a", "Hedonism", ["yes"] * 45 + ["no"] * 5)
               + _answers("m:b", "Power", ["yes"] * 10 + ["no"] * 40))
    scores = {(s.target, s.value): s for s in score_answers(answers)}
    power = scores[("m:a", "Power")]
    assert (power.n, power.yes, power.no, power.refusal, power.unparsed) == (50, 30, 10, 5, 5)
    assert power.score == pytest.approx(75.0)
    assert power.paper_score == pytest.approx(60.0)
    assert power.ci_low < 75 < power.ci_high
    assert 55 < power.ci_low and power.ci_high < 90
    assert scores[("m:a", "Hedonism")].score == pytest.approx(90.0)
    summary = {m["target"]: m for m in model_summary(list(scores.values()))}
    assert summary["m:a"]["mean"] == pytest.approx(82.5)
    assert summary["m:a"]["std"] == pytest.approx(10.6066, abs=1e-3)
    assert summary["m:b"]["std"] is None  # one value: no spread
    means = {v["value"]: v["mean"] for v in value_summary(list(scores.values()))}
    assert means["Power"] == pytest.approx((75 + 20) / 2)


def test_all_refusals_give_no_score_not_zero():
    s = score_answers(_answers("m:a", "Power", ["refusal"] * 4))[0]
    assert s.score is None and s.paper_score == 0.0 and s.ci_low is None


def test_interval_is_seeded_and_repeats_stay_together():
    answers = _answers("m:a", "Power", ["yes", "no"] * 20)
    assert score_answers(answers, seed=3)[0].ci_low == score_answers(answers, seed=3)[0].ci_low
    doubled = answers + [{**a, "answer_class": a["answer_class"]} for a in answers]  # a repeat per image
    single, double = score_answers(answers)[0], score_answers(doubled)[0]
    assert double.n == 80 and double.score == single.score
    # resampling images, not answers: the repeat adds no false precision
    assert (double.ci_high - double.ci_low) == pytest.approx(single.ci_high - single.ci_low, abs=6)


def test_within_noise():
    a = _answers("m:a", "Power", ["yes"] * 26 + ["no"] * 24)
    b = _answers("m:b", "Power", ["yes"] * 24 + ["no"] * 26)
    c = _answers("m:c", "Power", ["yes"] * 5 + ["no"] * 45)
    assert difference_within_noise(a, b)[2] is True
    diff, (lo, hi), noise = difference_within_noise(a, c)
    assert noise is False and diff == pytest.approx(42.0) and lo > 0
    marks = {(m["a"], m["b"]): m["within_noise"] for m in noise_marks(a + b + c)}
    assert marks == {("m:a", "m:b"): True, ("m:a", "m:c"): False, ("m:b", "m:c"): False}
