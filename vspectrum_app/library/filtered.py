"""Search among part of the library (one platform, the images a value's earlier keywords did
not take, never flagged ones): an exact scan of the allowed vectors when they are few, else
an unfiltered query wide enough to hold k allowed ones, else the HNSW walk with a filter.

Why: hnswlib applies a filter during the walk; a rejected node is walked through but not
kept, and the walk goes on until it holds ``ef`` accepted ones. A filter accepting a
fraction s of the index makes the walk visit about 1/s times as many nodes, each with a
Python call to the filter, so the most selective filters made the slowest queries, by far
(``perf/search_scale.py`` prints latency per selectivity; docs/scale.md has the figures).
A scan costs one multiply-add per allowed vector and dimension and is exact; asking the
index for ``OVERFETCH * k / s`` nearest without a filter (the breadth ef grown to that)
holds k allowed ones unless the filter favours images far from the query, and costs in
proportion to that breadth. ``scan_is_cheaper`` picks the cheaper of the two; only when
the unfiltered query holds fewer than k allowed ones, the filtered walk.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection

import numpy as np

from vspectrum_app.library.index import VectorIndex

EXACT_MAX = 20_000  # allowed images up to which a scan is considered (about 2 ms at 512-d)
SCAN_PER_STEP = 50  # vectors scanned in the time an HNSW query spends per unit of ef (docs/scale.md)
EF_MAX = 4096  # the widest over-fetch; beyond, the scan (or the filtered walk)
CALIBRATED_K = 10  # the index's breadth (search_ef) holds recall 0.99 for this many results
OVERFETCH = 2.0  # k / s expected allowed ones, doubled: fewer than k is then rare (binomial)
FETCH_MAX = 4096  # results an unfiltered query may be asked for


def fetch_for(k: int, allowed: int, total: int, sure: int | None = None) -> int | None:
    """How many nearest to ask the index for, unfiltered, to hold k of ``allowed`` among
    ``total`` (``sure``: a number known to hold them, taken when smaller); None: too many,
    walk with the filter."""
    if allowed <= 0 or total <= 0:
        return None
    fetch = min(total, math.ceil(OVERFETCH * k * total / allowed))
    if sure is not None:
        fetch = min(fetch, sure)
    return fetch if fetch <= FETCH_MAX else None


class Subset:
    """The allowed images' ids (ascending) and unit vectors, read once and reused by every
    query with the same filter until the catalog changes (the searcher's cache)."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray):
        order = np.argsort(ids, kind="stable")
        self.ids = np.asarray(ids, dtype=np.int64)[order]
        self.vectors = np.ascontiguousarray(vectors[order], dtype=np.float32) if len(ids) else vectors

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(self, vector: np.ndarray, k: int, exclude: Collection[int] = ()) -> list[tuple[int, float]]:
        """The exact k best (id, cosine) outside ``exclude``, best first (ties: lower id first)."""
        if not len(self.ids) or k <= 0:
            return []
        # einsum, not BLAS: OpenBLAS splits even one matrix-vector product over threads, and on
        # a busy machine waiting for the second thread cost 20+ ms where the product takes 1
        sims = np.einsum("ij,j->i", self.vectors, np.asarray(vector, dtype=np.float32))
        keep = np.ones(len(sims), dtype=bool)
        if exclude:
            keep &= ~np.isin(self.ids, np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
        candidates = np.flatnonzero(keep)
        k = min(k, len(candidates))
        if k < len(candidates):  # the k best in linear time (with any ties of the k-th), then those sorted
            kth = -np.partition(-sims[candidates], k - 1)[k - 1]
            candidates = candidates[sims[candidates] >= kth]
        best = candidates[np.lexsort((self.ids[candidates], -sims[candidates]))][:k]
        return [(int(self.ids[i]), float(sims[i])) for i in best]


def over_fetch(index: VectorIndex, k: int, allowed: int, sure: int | None = None) -> tuple[int, int] | None:
    """(results, ef) of the unfiltered query that holds k allowed ones, or None when it
    would be wider than ``EF_MAX``. The breadth grows with the results asked for: the index's
    ef holds recall 0.99 for ``CALIBRATED_K`` results, and deeper ranks need as much more
    (measured: fetching 200 at the top-10 breadth found 0.878 of the allowed top 10 on the
    worst-case layout)."""
    fetch = fetch_for(k, allowed, len(index), sure)
    if fetch is None:
        return None
    ef = max(index.search_ef(), math.ceil(index.search_ef() * fetch / CALIBRATED_K))
    return (fetch, ef) if ef <= EF_MAX else None


def scan_is_cheaper(index: VectorIndex, k: int, allowed: int) -> bool:
    """Whether scanning the ``allowed`` vectors costs less than the unfiltered query that
    would hold k of them (``over_fetch``), at ``SCAN_PER_STEP`` vectors per step of ef."""
    if allowed > EXACT_MAX:
        return False
    wide = over_fetch(index, k, allowed)
    return wide is None or allowed <= SCAN_PER_STEP * wide[1]


def nearest(
    index: VectorIndex, vector: np.ndarray, k: int, accept: Callable[[int], bool], allowed: int, sure: int | None = None
) -> list[tuple[int, float]]:
    """The k best (id, cosine) that ``accept`` takes, of ``allowed`` such images in ``index``
    (k <= allowed): an unfiltered query (``over_fetch``), else the walk with the filter. Raises ``index.TooFewAllowed`` when the walk ends with fewer than k."""
    wide = over_fetch(index, k, allowed, sure)
    if wide is not None:
        ids, sims = index.query(vector[None, :], wide[0], ef=wide[1])
        found = [(int(i), float(s)) for i, s in zip(ids[0], sims[0]) if accept(int(i))]
        if len(found) >= k:
            return found[:k]
    ids, sims = index.query(vector[None, :], k, allowed=accept)
    return [(int(i), float(s)) for i, s in zip(ids[0], sims[0])]
