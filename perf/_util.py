"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np


@contextmanager
def timed(label: str | None = None):
    result = {}
    start = time.perf_counter()
    yield result
    result["s"] = time.perf_counter() - start
    if label:
        print(f"  {label}: {result['s']:.3f} s", flush=True)


def percentiles_ms(samples_s) -> tuple[float, float]:
    arr = np.asarray(samples_s) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def clustered_unit_vectors(n: int, dim: int, clusters: int = 1000, spread: float = 0.35, seed: int = 0):
    """Vectors like real embeddings: tight clusters, unit length (recall on uniform random
    vectors is meaningless for HNSW)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        block = centers[rng.integers(0, clusters, stop - start)]
        block += spread * rng.normal(size=block.shape).astype(np.float32)
        out[start:stop] = block
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def simulation_args(prog: str, argv, reps: int):
    """``--reps`` and ``--seed`` of a statistical simulation, and its seeded generator."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--reps", type=int, default=reps)
    parser.add_argument("--seed", type=int, default=0)
    args, _ = parser.parse_known_args(argv)
    return args, np.random.default_rng(args.seed)
