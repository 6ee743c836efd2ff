"""Search among part of the library (one platform, the images a value's earlier keywords did
not take, never flagged ones): an exact scan of the allowed vectors when that is cheaper,
else the HNSW walk with a filter.

Why: hnswlib applies a filter during the walk; a rejected node is walked through but not
kept, and the walk goes on until it holds ``ef`` accepted ones. A filter admitting a
fraction s of the index makes the walk visit about 1/s times as many nodes, each with a
Python call to the filter, so the most selective filters made the slowest queries, by far
(``perf/search_scale.py`` prints latency per selectivity; docs/scale.md has the figures).
A scan costs one multiply-add per allowed vector and dimension and is exact.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from vspectrum_app.library.index import VectorIndex

EXACT_MAX = 20_000  # allowed images up to which a scan is considered (about 2 ms at 512-d)
SCAN_PER_STEP = 50  # vectors scanned in the time an HNSW query spends per unit of ef (docs/scale.md)
FILTER_COST = 2  # the filter's Python call per candidate about doubles a walk's time


def scan_is_cheaper(index: VectorIndex, allowed: int) -> bool:
    """Whether scanning the ``allowed`` vectors costs less than the filtered walk, which
    visits about ef / s nodes (s = allowed / indexed), each slowed by the filter's call."""
    if allowed > EXACT_MAX or allowed <= 0:
        return allowed <= 0
    walk_steps = FILTER_COST * index.search_ef() * len(index) / allowed
    return allowed <= SCAN_PER_STEP * walk_steps


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
