"""Inter-rater agreement for nominal answers: Fleiss' kappa and Krippendorff's alpha. In core:
annotators (annotate/) and prompt wordings as raters (bench/robustness.py) share it.

Both return None when the statistic is undefined (no item with two ratings, or every
rating in one category, where chance agreement is 1): a number there would be invented.
"""

from __future__ import annotations

from collections import Counter
from typing import Hashable, Sequence


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """``counts[i][j]``: raters who put item i in category j. Items may have different
    numbers of raters (the per-item agreement uses each item's own n); with equal n this is
    Fleiss (1971). Items with fewer than two ratings are left out."""
    rows = [list(r) for r in counts if sum(r) >= 2]
    if not rows:
        return None
    total = sum(sum(r) for r in rows)
    p_j = [sum(r[j] for r in rows) / total for j in range(len(rows[0]))]
    p_bar = sum((sum(c * c for c in r) - sum(r)) / (sum(r) * (sum(r) - 1)) for r in rows) / len(rows)
    p_e = sum(p * p for p in p_j)
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1 - p_e)


def krippendorff_alpha_nominal(units: Sequence[Sequence[Hashable | None]]) -> float | None:
    """``units[u]``: the values the raters gave unit u (None or absent = missing).
    Coincidence-matrix computation (Krippendorff 2011); units with one value are not pairable."""
    coincidences: Counter[tuple[Hashable, Hashable]] = Counter()
    for unit in units:
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        for i, a in enumerate(values):
            for j, b in enumerate(values):
                if i != j:
                    coincidences[(a, b)] += 1 / (m - 1)  # type: ignore[assignment]  # fractional counts: typeshed's are ints
    n_c: dict[Hashable, float] = {}  # fractional counts
    for (a, _), w in coincidences.items():
        n_c[a] = n_c.get(a, 0.0) + w
    n = sum(n_c.values())
    if n <= 1:
        return None
    observed = sum(w for (a, b), w in coincidences.items() if a != b)
    expected = sum(n_c[a] * n_c[b] for a in n_c for b in n_c if a != b)
    if expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


def category_counts(units: Sequence[Sequence[Hashable | None]], categories: Sequence[Hashable]) -> list[list[int]]:
    """Ratings per unit -> the counts table Fleiss' kappa takes."""
    table = []
    for unit in units:
        c = Counter(v for v in unit if v is not None)
        table.append([c.get(cat, 0) for cat in categories])
    return table
