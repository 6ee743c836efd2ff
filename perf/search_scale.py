"""HNSW search at 50k and 1M vectors, against exact numpy search in the same run (issue 16, item 4).

Vectors: ``perf._util.clustered_unit_vectors`` (512-d, clusters of about 50 points, each
point = centre + N(0, 0.35^2) per dimension, normalised; seed 0). Queries: a stored vector
plus N(0, 0.05^2) noise per dimension (about as far from it as a text query is from its
images: cosine about 0.66), normalised; seed 1. Recall@10 is against exact search.

Prints, per size: build time and memory (or "cached" with the build figures recorded then),
open time (hnswlib load, and the catalog's checksum check of the file), p50/p99 of single
queries with the product's ``VectorIndex`` (M, ef_construction, ef from ``library.index``),
recall@10, exact numpy search p50 and the speed-up, filtered search (a third of the items
blocked, inside the index) p50 and how often it returned all k, and the time to add 1,000
vectors to the saved index (resize, no rebuild) and save it.

    python -m perf.search_scale [--sizes 50000,1000000] [--cache DIR] [--queries 200]

``--cache DIR`` keeps each built index (and its build figures) in DIR, so a second run
re-measures search, open and add without rebuilding (a 1M build takes tens of minutes on
two cores).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from perf._util import clustered_unit_vectors, percentiles_ms


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.search_scale")
    parser.add_argument("--sizes", default="50000,1000000")
    parser.add_argument("--cache", type=Path, default=None, help="keep built indexes here and reuse them")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--build-only", action="store_true", help="build (or find) the indexes, measure nothing")
    args, _ = parser.parse_known_args(argv)
    from vspectrum_app.library.index import EF_CONSTRUCTION, M, ef_for

    print(
        f"HNSW (hnswlib, cosine): dim 512, M={M}, ef_construction={EF_CONSTRUCTION}, k=10, single queries; "
        f"baseline: exact numpy search (matrix @ query, argpartition)",
        flush=True,
    )
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            where = (args.cache or Path(tmp)) / f"n{n}_M{M}_efc{EF_CONSTRUCTION}"
            data = clustered_unit_vectors(n, 512, clusters=max(50, n // 50))
            built = build(where, data)
            print(
                f"  n={n:>9,}: build {built['seconds']:.0f} s{' (cached)' if built.get('cached') else ''}, "
                f"index memory (RSS added by the build) {built['rss_mb']:.0f} MB, file {built['file_mb']:.0f} MB "
                f"(vectors alone {data.nbytes / 2**20:.0f} MB); ef={ef_for(n)}",
                flush=True,
            )
            if not args.build_only:
                measure(where, data, args.queries)
            del data


def build(where: Path, data: np.ndarray) -> dict:
    """Build the index for ``data`` at ``where``/index.hnsw through the product's VectorIndex,
    or reuse it; returns the build figures."""
    from vspectrum_app.library.index import VectorIndex

    figures = where / "build.json"
    if figures.exists():
        return {**json.loads(figures.read_text()), "cached": True}
    where.mkdir(parents=True, exist_ok=True)
    rss0 = _rss_mb()
    index = VectorIndex.create(where / "index.hnsw", data.shape[1], capacity=len(data))
    start = time.perf_counter()
    for s in range(0, len(data), 50_000):
        index.add(np.arange(s, min(len(data), s + 50_000)), data[s : s + 50_000])
    seconds = time.perf_counter() - start
    index.save()
    out = {"seconds": seconds, "rss_mb": _rss_mb() - rss0, "file_mb": (where / "index.hnsw").stat().st_size / 2**20}
    figures.write_text(json.dumps(out))
    return out


def measure(where: Path, data: np.ndarray, n_queries: int) -> None:
    from vspectrum_app.library import index_integrity
    from vspectrum_app.library.index import VectorIndex, ef_for

    n, dim = data.shape
    rng = np.random.default_rng(1)
    q = data[rng.integers(0, n, n_queries)] + 0.05 * rng.normal(size=(n_queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)

    t = time.perf_counter()
    digest = index_integrity.file_sha256(where / "index.hnsw")
    check_s = time.perf_counter() - t
    rss0, t = _rss_mb(), time.perf_counter()
    index = VectorIndex.load(where / "index.hnsw", dim, capacity=n)
    load_s, loaded_mb = time.perf_counter() - t, _rss_mb() - rss0
    assert index is not None and len(index) == n and digest

    lat, got = [], []
    for v in q:
        t = time.perf_counter()
        ids, _ = index.query(v[None, :], 10)
        lat.append(time.perf_counter() - t)
        got.append(ids[0])
    exact_lat, recall = [], []
    for v, g in zip(q, got):
        t = time.perf_counter()
        exact = np.argpartition(-(data @ v), 10)[:10]
        exact_lat.append(time.perf_counter() - t)
        recall.append(len(set(exact.tolist()) & set(g.tolist())) / 10)
    p50, p99 = percentiles_ms(lat)
    e50, _ = percentiles_ms(exact_lat)
    print(
        f"    search p50 {p50:.3f} ms, p99 {p99:.3f} ms, recall@10 {np.mean(recall):.4f} (ef={ef_for(n)}); "
        f"exact numpy p50 {e50:.1f} ms, speed-up x{e50 / p50:.0f}"
    )

    blocked = set(range(0, n, 3))  # a third of the library filtered out, inside the index
    flat, full, frecall = [], 0, []
    allowed = np.ones(n, dtype=bool)
    allowed[list(blocked)] = False
    for v in q[:100]:
        t = time.perf_counter()
        ids, _ = index.query(v[None, :], 10, allowed=lambda label: label not in blocked)
        flat.append(time.perf_counter() - t)
        full += ids.shape[1] == 10 and not (set(ids[0].tolist()) & blocked)
        sims = data @ v
        sims[~allowed] = -2
        frecall.append(len(set(np.argpartition(-sims, 10)[:10].tolist()) & set(ids[0].tolist())) / 10)
    f50, f99 = percentiles_ms(flat)
    print(
        f"    filtered (1/3 blocked) p50 {f50:.3f} ms, p99 {f99:.3f} ms, k results none blocked {full}/100, "
        f"recall@10 {np.mean(frecall):.4f}; unfiltered/filtered p50 x{p50 / f50:.2f}"
    )

    extra = clustered_unit_vectors(1000, dim, clusters=20, seed=7)
    t = time.perf_counter()
    index.add(np.arange(n, n + 1000), extra)
    add_s = time.perf_counter() - t
    t = time.perf_counter()
    copy = where / "added.hnsw"
    index.path = copy  # save beside it: the cached index stays as built
    index.save()
    save_s = time.perf_counter() - t
    print(
        f"    open: checksum {check_s:.2f} s + hnswlib load {load_s:.2f} s = {check_s + load_s:.2f} s "
        f"(the loaded index takes {loaded_mb:.0f} MB); "
        f"add 1,000 to the loaded index (resize, no rebuild) {add_s:.2f} s ({1000 / add_s:.0f}/s), "
        f"save {save_s:.2f} s",
        flush=True,
    )
    copy.unlink()
    copy.with_suffix(".json").unlink(missing_ok=True)


def _rss_mb() -> float:
    """Resident memory now (the index's memory is what the build adds; the vectors were
    generated before)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


if __name__ == "__main__":
    main()
