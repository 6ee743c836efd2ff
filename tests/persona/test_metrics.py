"""The alignment metric I_avg (protocol.md section 5) on hand-computed cases."""

import pytest

from vspectrum_app.persona.metrics import alignment, bootstrap_mean_ci, trial_change


def _trial(first_yes: int, last_yes: int, n: int = 50) -> list[bool]:
    return [i < first_yes for i in range(n)] + [i < last_yes for i in range(n)]


def test_trial_change_hand_computed():
    change = trial_change(0, _trial(4, 6))
    assert (change.first_yes, change.last_yes) == (4, 6)
    assert change.change == pytest.approx(0.5)
    assert change.first_rate == pytest.approx(8.0)
    assert change.last_rate == pytest.approx(12.0)


def test_i_avg_is_the_mean_of_per_trial_relative_changes():
    summary = alignment([_trial(4, 6), _trial(10, 5), _trial(2, 2)])
    # (+50% - 50% + 0%) / 3
    assert summary.i_avg == pytest.approx(0.0)
    assert summary.first_rate == pytest.approx(100 * 16 / 150)
    assert summary.last_rate == pytest.approx(100 * 13 / 150)
    assert summary.undefined_trials == []


def test_trial_without_yes_in_first_half_is_reported_not_divided_by_zero():
    summary = alignment([_trial(0, 5), _trial(5, 10)])
    assert summary.undefined_trials == [0]
    assert summary.trials[0].change is None
    assert summary.i_avg == pytest.approx(100.0)  # only the defined trial counts
    assert summary.ci95 is None  # one defined trial: no interval


def test_all_trials_undefined():
    summary = alignment([_trial(0, 0), _trial(0, 3)])
    assert summary.i_avg is None
    assert summary.undefined_trials == [0, 1]
    assert summary.rate_change is None


def test_short_trials_use_what_follows_the_first_n():
    change = trial_change(0, [True] * 10 + [False] * 5, n=10)
    assert (change.first_n, change.last_n, change.last_yes) == (10, 5, 0)


def test_bootstrap_interval_contains_the_mean_and_is_seeded():
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    lo, hi = bootstrap_mean_ci(values, seed=1)
    assert lo < 30 < hi
    assert bootstrap_mean_ci(values, seed=1) == (lo, hi)
    assert bootstrap_mean_ci([5.0]) is None


def test_permutation_p_tells_a_trend_from_noise():
    from vspectrum_app.persona.metrics import permutation_p

    trend = [[False] * 15 + [True] * 5 + [True] * 15 + [False] * 5 for _ in range(3)]  # 5 -> 15 yes per trial
    flat = [[i % 3 == 0 for i in range(40)] for _ in range(3)]  # the same rate throughout
    assert permutation_p(trend, n=20, resamples=500) < 0.01
    assert permutation_p(flat, n=20, resamples=500) > 0.5
    assert permutation_p([], n=20) is None
    assert permutation_p(trend, n=20, resamples=200, seed=1) == permutation_p(trend, n=20, resamples=200, seed=1)


def test_only_complete_trials_enter_i_avg():
    """Nine 100-video trials and one stopped at 60, all at a constant 20 % yes rate: the old
    I_avg compared 50 videos with 10 in the short trial and gave (9 x 0 - 80 %) / 10 = -8 %."""
    flat = [i % 5 == 0 for i in range(100)]
    trials = [flat] * 9 + [flat[:60]]
    assert alignment(trials, 50).i_avg == pytest.approx(-8.0)  # without a trial length: as before
    summary = alignment(trials, 50, length=100)
    assert summary.i_avg == pytest.approx(0.0)
    assert summary.incomplete_trials == [9]
    assert len(summary.trials) == 9 and summary.first_rate == pytest.approx(20.0)


def test_difference_interval_of_two_sets_of_trials():
    from vspectrum_app.persona.metrics import difference_ci

    a, b = [10.0, 20.0, 30.0, 40.0], [0.0, 5.0, 10.0]
    lo, hi = difference_ci(a, b, seed=2)
    assert lo < 25.0 - 5.0 < hi  # the point difference of the means lies inside
    assert difference_ci(a, b, seed=2) == (lo, hi)
    assert difference_ci([1.0, 1.0], [1.0, 1.0]) == (0.0, 0.0)
    assert difference_ci([1.0], b) is None
