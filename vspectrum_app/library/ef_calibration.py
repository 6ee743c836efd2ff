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

from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np

from vspectrum_app.library.coarse import CoarseIndex
from vspectrum_app.library.filtered import SCAN_PER_STEP
from vspectrum_app.library.index import Calibration, VectorIndex

LADDER = (64, 96, 128, 192, 256, 384, 512, 800, 1200, 1600)
TARGET = 0.99
QUERIES = 300
K = 10
QUERY_COSINE = 0.66  # a query's cosine to the stored vector it is made from (perf/search_scale.py's queries)
CALIBRATE_FROM = 100_000  # below, the default ef reaches the target (measured at 50k) and costs < 1 ms
# The router is trained only where the graph needs at least this breadth: ef 384 took about
# 3 ms at a million vectors (docs/scale.md), and below it the graph meets the 2 ms goal
# without a second copy of the vectors or minutes of k-means.
ROUTER_FROM_EF = 384
NPROBE_LADDER = (1, 2, 4, 8, 16)


def due(index: VectorIndex) -> bool:
    """Whether ``library index`` should calibrate now: large enough, and never measured,
    measured at less than half the present size, or its chosen router missing."""
    n = len(index)
    c = index.calibration
    return n >= CALIBRATE_FROM and (c is None or n >= 2 * c.count or bool(c.nprobe and index.router is None))


def calibrate(
    index: VectorIndex,
    stored: Iterable[tuple[np.ndarray, np.ndarray]],
    queries: int = QUERIES,
    seed: int = 0,
    reread: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]] | None = None,
) -> Calibration:
    """Measure recall@10 along ``LADDER`` and return the smallest ef whose recall's lower
    bound reaches ``TARGET`` (the top of the ladder when none does), with its mean recall.
    ``stored`` yields (ids, unit vectors) chunks of every vector in the index (the catalog's
    table, read a chunk at a time). Where that ef is ``ROUTER_FROM_EF`` or more and
    ``reread`` gives the chunks again, a router is trained on them (``choose_router``) and,
    when it reaches the target for less work, set on ``index`` with its nprobe recorded."""
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
        per_query = _recalls(found, exact)
        best = Calibration(ef, float(per_query.mean()), len(index))
        if lower_bound(per_query) >= TARGET:
            break
    index.router = None
    if best.ef >= ROUTER_FROM_EF and reread is not None:
        chunks = list(reread())
        ids, vectors = np.concatenate([i for i, _ in chunks]), np.concatenate([v for _, v in chunks])
        del chunks  # one copy of the vectors while the router makes its own (2 GB each at 1M)
        router = CoarseIndex.train(ids, vectors)
        del vectors
        nprobe = choose_router(router, q, exact, best.ef)
        if nprobe is not None:
            index.router = router
            return replace(best, nprobe=nprobe)
    return best


def choose_router(router: CoarseIndex, q: np.ndarray, exact: np.ndarray, ef: int) -> int | None:
    """The smallest nprobe on ``NPROBE_LADDER`` whose recall's lower bound reaches ``TARGET``
    on the calibration's queries, if it compares each query with fewer vectors than the graph
    at ``ef`` costs (``SCAN_PER_STEP`` scanned vectors per unit of ef, filtered.py); else None."""
    for nprobe in NPROBE_LADDER:
        if router.scanned(nprobe) >= SCAN_PER_STEP * ef:
            return None
        found = [router.search(v, K, nprobe)[0] for v in q]
        if lower_bound(_recalls(found, exact)) >= TARGET:
            return nprobe
    return None


def _recalls(found: Iterable[np.ndarray], exact: np.ndarray) -> np.ndarray:
    return np.array([len(set(f.tolist()) & set(e.tolist())) / K for f, e in zip(found, exact)])


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
