"""Agreement statistics against published worked examples and hand-computed cases."""

import pytest

from vspectrum_app.annotate.agreement import category_counts, fleiss_kappa, krippendorff_alpha_nominal

# Fleiss (1971), as worked on Wikipedia's "Fleiss' kappa": 10 subjects, 14 raters, 5 categories.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", nominal example:
# 4 observers, 12 units, missing values; alpha = 0.743.
K_A = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
K_B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
K_C = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
K_D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]


def test_fleiss_classic_example():
    assert fleiss_kappa(FLEISS_TABLE) == pytest.approx(0.210, abs=5e-4)


def test_krippendorff_nominal_worked_example():
    units = list(zip(K_A, K_B, K_C, K_D))
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=5e-4)


def test_hand_computed_two_raters():
    # 4 items, 2 raters: agree on 3 (yes, yes, no), disagree on 1.
    units = [("yes", "yes"), ("yes", "yes"), ("no", "no"), ("yes", "no")]
    # Fleiss: P_bar = 3/4; p_yes = 5/8, p_no = 3/8; P_e = 34/64; kappa = (0.75 - 0.53125) / 0.46875
    assert fleiss_kappa(category_counts(units, ["yes", "no"])) == pytest.approx((0.75 - 34 / 64) / (1 - 34 / 64))
    # Krippendorff: n = 8, o(yes,no) = 2 (one unit), n_yes = 5, n_no = 3: 1 - 7 * 2 / (2 * 15)
    assert krippendorff_alpha_nominal(units) == pytest.approx(1 - 7 * 2 / 30)


def test_degenerate_cases_are_undefined_not_nan():
    assert fleiss_kappa([[3, 0], [3, 0]]) is None  # everyone agrees on one category
    assert krippendorff_alpha_nominal([("yes", "yes"), ("yes", "yes")]) is None
    assert fleiss_kappa([[1, 0], [0, 1]]) is None  # one rater per item
    assert krippendorff_alpha_nominal([("yes",), ("no",)]) is None
    assert fleiss_kappa([]) is None


def test_perfect_agreement_across_categories_is_one():
    units = [("yes", "yes", "yes"), ("no", "no", "no"), ("not_sure", "not_sure", "not_sure")]
    assert fleiss_kappa(category_counts(units, ["yes", "no", "not_sure"])) == pytest.approx(1.0)
    assert krippendorff_alpha_nominal(units) == pytest.approx(1.0)


def test_missing_ratings_are_left_out():
    with_missing = [("yes", "yes", None), ("no", "no", "no"), ("yes", None, None)]
    assert krippendorff_alpha_nominal(with_missing) == pytest.approx(1.0)
    assert fleiss_kappa(category_counts(with_missing, ["yes", "no"])) == pytest.approx(1.0)
