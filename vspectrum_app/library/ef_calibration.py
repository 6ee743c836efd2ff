"""Choose the index's search breadth (hnswlib's ``ef``) by measuring recall on its own vectors.

How wide a search must be for recall@10 >= 0.99 depends on the library, not only on its
size: at a million vectors this chose ef 1200 when clusters share no direction (the worst
case) and ef 192 when they lie on a low-dimensional manifold, as real embeddings do
(docs/scale.md). ``ef_for`` assumes the worst case; once a library is large enough for that
to cost milliseconds, ``calibrate`` measures instead: queries made from stored vectors (each
moved as far from its source as a text query is from its images), exact top 10 by a scan of
the stored vectors a chunk at a time, and the smallest ef on a ladder whose recall@10
reaches the target with 95 % confidence (``lower_bound``). ``library index`` calibrates
again each time the index has doubled.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from vspectrum_app.library.index import Calibration, VectorIndex

LADDER = (64, 96, 128, 192, 256, 384, 512, 800, 1200, 1600)
TARGET = 0.99
QUERIES = 300
K = 10
QUERY_COSINE = 0.66  # a query's cosine to the stored vector it is made from (perf/search_scale.py's queries)
CALIBRATE_FROM = 100_000  # below, the default ef reaches the target (measured at 50k) and costs < 1 ms


def due(index: VectorIndex) -> bool:
    """Whether ``library index`` should calibrate now: large enough, and never measured or
    measured at less than half the present size."""
    n = len(index)
    return n >= CALIBRATE_FROM and (index.calibration is None or n >= 2 * index.calibration.count)


def calibrate(
    index: VectorIndex, stored: Iterable[tuple[np.ndarray, np.ndarray]], queries: int = QUERIES, seed: int = 0
) -> Calibration:
    """Measure recall@10 along ``LADDER`` and return the smallest ef whose recall's lower
    bound reaches ``TARGET`` (the top of the ladder when none does), with its mean recall.
    ``stored`` yields (ids, unit vectors) chunks of every vector in the index (the catalog's
    table, read a chunk at a time)."""
    labels = np.fromiter(index.labels(), dtype=np.int64)
    rng = np.random.default_rng(seed)
    sources = rng.choice(labels, size=min(queries, len(labels)), replace=False)
    q = index.vectors(sources)
    noise = rng.normal(size=q.shape).astype(np.float32)
    noise -= (noise * q).sum(axis=1, keepdims=True) * q  # orthogonal to the source
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    sine = np.sqrt(1.0 - QUERY_COSINE**2)
    q = (QUERY_COSINE * q + sine * noise).astype(np.float32)
    exact = exact_top_k(q, stored, K)
    best = Calibration(LADDER[-1], 0.0, len(index))
    for ef in LADDER:
        found, _ = index.query(q, K, ef=ef)
        per_query = np.array([len(set(f.tolist()) & set(e.tolist())) / K for f, e in zip(found, exact)])
        best = Calibration(ef, float(per_query.mean()), len(index))
        if lower_bound(per_query) >= TARGET:
            return best
    return best


def lower_bound(per_query: np.ndarray) -> float:
    """One-sided 95 % lower confidence bound of the mean recall (normal approximation).

    Why not the mean itself: a search either finds a query's neighbourhood or misses most of
    it, so per-query recall is mostly 1 with a few near 0, and the mean of a couple of
    hundred queries scatters by about a per cent. Measured at 1M (orthogonal layout): ef 512
    scored 0.991 on the calibration's queries and 0.969 on the benchmark's; requiring the
    bound to reach the target keeps such an ef from being chosen."""
    n = len(per_query)
    if n < 2:
        return float(per_query.mean()) if n else 0.0
    return float(per_query.mean() - Z_95 * per_query.std(ddof=1) / np.sqrt(n))


Z_95 = 1.6448536269514722  # the standard normal's 95th percentile


def exact_top_k(q: np.ndarray, stored: Iterable[tuple[np.ndarray, np.ndarray]], k: int) -> np.ndarray:
    """The ids of each query's k most similar stored vectors, scanning ``stored`` once."""
    best_ids = np.full((len(q), 0), -1, dtype=np.int64)
    best_sims = np.full((len(q), 0), -np.inf, dtype=np.float32)
    for ids, vectors in stored:
        sims = np.concatenate([best_sims, q @ np.asarray(vectors, dtype=np.float32).T], axis=1)
        cand = np.concatenate([best_ids, np.broadcast_to(np.asarray(ids, dtype=np.int64), (len(q), len(ids)))], axis=1)
        keep = np.argpartition(-sims, min(k, sims.shape[1]) - 1, axis=1)[:, :k]
        best_sims = np.take_along_axis(sims, keep, axis=1)
        best_ids = np.take_along_axis(cand, keep, axis=1)
    return best_ids
