"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

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


def run_child(code: str, timeout: int = 900, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter (repository root as cwd); it prints one JSON line at the end."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=timeout, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed: {done.stderr[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# A line of child code setting ``peak`` (MB). VmHWM, not ru_maxrss: Linux carries ru_maxrss
# over exec from the parent (a big benchmark process).
PEAK_MB = "peak = [int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0]"
