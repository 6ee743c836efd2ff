"""The alignment metric I_avg (protocol.md section 5) on hand-computed cases."""

import numpy as np
import pytest

from vspectrum_app.persona.metrics import MIN_CI_TRIALS, alignment, format_p, mean_ci, trial_change, window_problem


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


def test_mean_interval_holds_the_t_interval_and_is_seeded():
    """The union of Student's t (97.5 %) and the percentile-t interval: it holds the t interval
    computed by scipy, the mean, and is the same for the same seed."""
    from scipy import stats

    values = [10.0, 20.0, 30.0, 40.0, 50.0, -20.0, 400.0, 0.0, 15.0, 25.0]
    lo, hi = mean_ci(values, seed=1)
    t_lo, t_hi = stats.t.interval(0.975, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    tol = 1e-4 * (t_hi - t_lo)  # the app's t quantile is a series (no scipy in the installer)
    assert lo <= t_lo + tol and hi >= t_hi - tol
    assert hi - t_hi > 10  # the long right tail (400) widens the upper side beyond the symmetric t
    assert mean_ci(values, seed=1) == (lo, hi)
    assert mean_ci([7.0] * 12) == (7.0, 7.0)


@pytest.mark.parametrize("k", [0, 1, 2, MIN_CI_TRIALS - 1])
def test_too_few_trials_give_no_interval(k):
    assert mean_ci([float(i) for i in range(k)]) is None


def test_t_quantile_against_scipy():
    from scipy import stats

    from vspectrum_app.persona.metrics import t_quantile

    for df in (9, 9.7, 12, 20, 50, 300):
        assert t_quantile(0.9875, df) == pytest.approx(stats.t.ppf(0.9875, df), rel=1e-4)


def test_window_longer_than_half_a_trial_is_refused_in_a_sentence():
    problem = window_problem(8, 10)
    assert problem and "at most half" in problem and "overlap" in problem and "5 or less" in problem
    assert window_problem(5, 10) is None and window_problem(50, 100) is None
    assert window_problem(0, 10)
    assert window_problem(51, 100)


def test_flat_trials_with_an_overlapping_window_read_as_a_large_change():
    """Why the window is refused: with --window 8 --scrolls 10 the last window holds 6 of the
    first's videos; the report used the 2 videos after the first 8, and a flat process
    (yes on every other video) read as a -50 % change or worse."""
    flat = [i % 2 == 0 for i in range(10)]
    assert trial_change(0, flat, n=8).last_n == 2
    assert window_problem(8, 10) is not None


def test_p_values_at_the_floor_print_as_less_than():
    assert format_p(1 / 2001) == "< 0.0005"
    assert format_p(1 / 2001, resamples=2000) == "< 0.0005"
    assert format_p(1 / 501, resamples=500) == "< 0.0020"
    assert format_p(0.0123) == "0.012"
    assert format_p(None) == "n/a"
    from vspectrum_app.persona.metrics import permutation_p

    trend = [[False] * 20 + [True] * 20 for _ in range(10)]
    p = permutation_p(trend, n=20)
    assert p == pytest.approx(1 / 2001) and format_p(p) == "< 0.0005"


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
    """Union of Welch's t interval (97.5 %, checked against scipy) and the studentized bootstrap."""
    from scipy import stats

    from vspectrum_app.persona.metrics import difference_ci

    a = [10.0, 20.0, 30.0, 40.0, 35.0, 25.0, 15.0, 5.0, 45.0, 60.0]
    b = [0.0, 5.0, 10.0, 2.0, 8.0, 4.0, 6.0, 3.0, 7.0, 1.0, 9.0]
    lo, hi = difference_ci(a, b, seed=2)
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.975)
    tol = 1e-4 * (welch.high - welch.low)
    assert lo <= welch.low + tol and hi >= welch.high - tol
    assert lo < np.mean(a) - np.mean(b) < hi
    assert difference_ci(a, b, seed=2) == (lo, hi)
    assert difference_ci([1.0] * 10, [1.0] * 10) == (0.0, 0.0)
    assert difference_ci([1.0] * 9, b) is None
