"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
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


@contextmanager
def app_folders(keep: Path | None = None):
    """A folder for the app's data and config, set in this process's environment (its children
    inherit it): ``keep``, kept afterwards (a model's export is reused by the next run), else a
    temporary one. No model hub: offline unless the caller said otherwise."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["VSPECTRUM_DATA_DIR"], os.environ["VSPECTRUM_CONFIG_DIR"] = (
            str(folder / "data"),
            str(folder / "config"),
        )
        yield folder


def percentiles_ms(samples_s) -> tuple[float, float]:
    arr = np.asarray(samples_s) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def clustered_unit_vectors(
    n: int, dim: int, clusters: int = 1000, spread: float = 0.35, seed: int = 0, latent_dim: int | None = None
):
    """Vectors like real embeddings: tight clusters, unit length (recall on uniform random
    vectors is meaningless for HNSW).

    ``latent_dim`` None: the cluster centres are independent N(0, I) draws, so in 512-d any
    two are orthogonal (cosine 0 +- 0.04) and nothing leads a graph walk from one cluster
    to another: the worst case for HNSW. ``latent_dim`` d: the centres are N(0, I) in d
    dimensions mapped linearly into ``dim`` (same mean norm), so clusters lie on a
    d-dimensional subspace with neighbours in between, as the embeddings of natural images
    do (see docs/scale.md).
    """
    rng = np.random.default_rng(seed)
    if latent_dim is None:
        centers = rng.normal(size=(clusters, dim)).astype(np.float32)
    else:
        basis = rng.normal(size=(latent_dim, dim)).astype(np.float32) / np.sqrt(latent_dim)
        centers = rng.normal(size=(clusters, latent_dim)).astype(np.float32) @ basis
        centers *= np.sqrt(dim) / np.linalg.norm(centers, axis=1).mean()
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
