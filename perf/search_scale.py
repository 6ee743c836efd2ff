"""HNSW search at 50k and 1M vectors, against exact numpy search in the same run (issue 16, item 4).

Vectors: ``perf._util.clustered_unit_vectors`` (512-d, clusters of about 50 points, each
point = centre + N(0, 0.35^2) per dimension, normalised; seed 0), in two layouts
(``--data``): ``manifold``, cluster centres on a 32-dimensional subspace (as the embeddings
of natural images lie near a low-dimensional manifold), and ``orthogonal``, independent
centres in all 512 dimensions (the worst case: no cluster leads to another). Queries: a
stored vector plus N(0, 0.05^2) noise per dimension (about as far from it as a text query
is from its images: cosine about 0.66), normalised; seed 1. Recall@10 is against exact
search. docs/scale.md explains the two layouts.

Prints, per layout and size: build time and memory (or "cached" with the build figures
recorded then), open time (hnswlib load; the integrity check of a file the catalog knows by
its identity, and the full SHA-256 of the first open after a save), the search breadth the
product calibrates from 100,000 vectors on (``library.ef_calibration``), p50/p99 of single
queries with the product's ``VectorIndex`` (M, ef_construction from ``library.index``) at
the uncalibrated ``ef_for`` and at the calibrated ef (p50/p99/max), recall@10, exact numpy
search p50 and the speed-up; filtered search per filter selectivity, before (the filter
inside the HNSW walk) and after (``library.filtered``), p50/p99/max, recall@10 and how often
it returned all k (``by_selectivity``); and the time to add 1,000 vectors to the saved index
(resize, no rebuild) and save it.

    python -m perf.search_scale [--sizes 50000,1000000] [--data manifold,orthogonal]
                                [--cache DIR] [--queries 200] [--slow-queries 20]

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
    parser.add_argument("--data", default="manifold,orthogonal", help="layouts of the vectors (see above)")
    parser.add_argument("--cache", type=Path, default=None, help="keep built indexes here and reuse them")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--build-only", action="store_true", help="build (or find) the indexes, measure nothing")
    parser.add_argument("--slow-queries", type=int, default=20, help="queries of the filtered walk at s <= 0.01")
    args, _ = parser.parse_known_args(argv)
    from vspectrum_app.library.index import EF_CONSTRUCTION, M, ef_for

    print(
        f"HNSW (hnswlib, cosine): dim 512, M={M}, ef_construction={EF_CONSTRUCTION}, k=10, single queries; "
        f"baseline: exact numpy search (matrix @ query, argpartition)",
        flush=True,
    )
    sizes = [int(s) for s in args.sizes.split(",")]
    for layout, n in ((layout, n) for layout in args.data.split(",") for n in sizes):
        with tempfile.TemporaryDirectory() as tmp:
            # the orthogonal layout keeps the cache name it had before layouts were added
            where = (args.cache or Path(tmp)) / f"n{n}_M{M}_efc{EF_CONSTRUCTION}{LAYOUTS[layout][1]}"
            data = clustered_unit_vectors(n, 512, clusters=max(50, n // 50), latent_dim=LAYOUTS[layout][0])
            built = build(where, data)
            print(
                f"  {layout} n={n:>9,}: build {built['seconds']:.0f} s{' (cached)' if built.get('cached') else ''}, "
                f"index memory (RSS added by the build) {built['rss_mb']:.0f} MB, file {built['file_mb']:.0f} MB "
                f"(vectors alone {data.nbytes / 2**20:.0f} MB); ef={ef_for(n)}",
                flush=True,
            )
            if not args.build_only:
                measure(where, data, args.queries, args.slow_queries)
            del data


LAYOUTS = {"manifold": (32, "_latent32"), "orthogonal": (None, "")}  # latent_dim, cache suffix


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


def measure(where: Path, data: np.ndarray, n_queries: int, slow_queries: int = 20) -> None:
    from vspectrum_app.library import ef_calibration, index_integrity
    from vspectrum_app.library.index import VectorIndex, ef_for

    n, dim = data.shape
    rng = np.random.default_rng(1)
    q = data[rng.integers(0, n, n_queries)] + 0.05 * rng.normal(size=(n_queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)

    path = where / "index.hnsw"
    t = time.perf_counter()
    digest = index_integrity.file_sha256(path)
    hash_s = time.perf_counter() - t
    t = time.perf_counter()
    known, _ = index_integrity.identity(path)
    identity_s = time.perf_counter() - t
    rss0, t = _rss_mb(), time.perf_counter()
    index = VectorIndex.load(path, dim, capacity=n)
    load_s, loaded_mb = time.perf_counter() - t, _rss_mb() - rss0
    assert index is not None and len(index) == n and digest and known
    print(
        f"    open: hnswlib load {load_s:.2f} s (the loaded index takes {loaded_mb:.0f} MB); integrity check "
        f"of a file the catalog knows by its identity {identity_s * 1e3:.2f} ms, so open {load_s + identity_s:.2f} s; "
        f"first open after a save (SHA-256 of the file) {hash_s:.2f} s, so {hash_s + load_s:.2f} s",
        flush=True,
    )

    efs = [("ef_for (no calibration)", ef_for(n))]
    if n >= ef_calibration.CALIBRATE_FROM:  # as `library index` does
        t = time.perf_counter()
        index.calibration = ef_calibration.calibrate(index, _chunks(data), reread=lambda: _chunks(data))
        router = (
            f"; router chosen: nprobe {index.calibration.nprobe} of {len(index.router.lists):,} lists"
            if index.router is not None
            else ""
        )
        print(
            f"    calibration: ef {index.calibration.ef}, recall@10 {index.calibration.recall:.3f} on its own "
            f"queries, {time.perf_counter() - t:.1f} s (uncalibrated ef_for would be {ef_for(n)}){router}",
            flush=True,
        )
        efs.append(("calibrated", index.calibration.ef))
        if index.router is not None:
            efs.append(("the product's path (router)", None))

    def run(ef: int | None) -> tuple[list[float], list[float]]:
        lat, recall = [], []
        for v, e in zip(q, exact):
            t = time.perf_counter()
            ids, _ = index.query(v[None, :], 10, ef=ef)
            lat.append(time.perf_counter() - t)
            recall.append(len(set(e.tolist()) & set(ids[0].tolist())) / 10)
        return lat, recall

    exact, exact_lat = [], []
    for v in q:
        t = time.perf_counter()
        exact.append(np.argpartition(-(data @ v), 10)[:10])
        exact_lat.append(time.perf_counter() - t)
    e50, _ = percentiles_ms(exact_lat)
    for label, ef in efs:
        lat, recall = run(ef)
        p50, p99 = percentiles_ms(lat)
        print(
            f"    search, {label}: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {max(lat) * 1e3:.3f} ms, "
            f"recall@10 {np.mean(recall):.4f} (ef={ef}); "
            f"exact numpy p50 {e50:.1f} ms, speed-up x{e50 / p50:.0f}",
            flush=True,
        )

    by_selectivity(index, data, q, slow_queries)

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
        f"    add 1,000 to the loaded index (resize, no rebuild) {add_s:.2f} s ({1000 / add_s:.0f}/s), "
        f"save {save_s:.2f} s",
        flush=True,
    )
    copy.unlink()
    copy.with_suffix(".json").unlink(missing_ok=True)


SELECTIVITIES = (0.67, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001)


def by_selectivity(index, data: np.ndarray, q: np.ndarray, slow_queries: int) -> None:
    """Filtered search per filter selectivity s (the fraction of the library a filter admits:
    a random subset, as a platform is to a query), before and after in the same run: before,
    the filter inside the HNSW walk (the product's path for a platform until issue 30);
    after, the product's path now (``library.filtered``: an exact scan of the allowed vectors
    where ``scan_is_cheaper``, read once per filter and timed apart; else the same walk). Recall@10 is against exact search over the allowed items;
    "full" counts queries that returned k allowed results. The walk takes seconds per query
    for the most selective filters, so "before" runs the first ``slow_queries`` queries
    there (s <= 0.01)."""
    from vspectrum_app.library import filtered

    n = len(data)
    rng = np.random.default_rng(2)
    print(
        f"    filtered search by selectivity (k=10; exact scan where cheaper than the walk, up to "
        f"{filtered.EXACT_MAX:,} allowed): p50 / p99 / max ms, recall@10, full",
        flush=True,
    )
    for s in SELECTIVITIES:
        m = max(10, int(round(n * s)))
        ids = np.sort(rng.choice(n, m, replace=False))
        mask = np.zeros(n, dtype=bool)
        mask[ids] = True
        pool = set(ids.tolist())
        exact = []
        for v in q:
            sims = data @ v
            sims[~mask] = -2
            exact.append(set(np.argpartition(-sims, 10)[:10].tolist()))
        t = time.perf_counter()
        subset = filtered.Subset(ids, index.vectors(ids)) if filtered.scan_is_cheaper(index, m) else None
        read_s = time.perf_counter() - t

        def before(v):
            return index.query(v[None, :], 10, allowed=pool.__contains__)[0][0].tolist()

        def after(v):
            if subset is not None:
                return [i for i, _ in subset.nearest(v, 10)]
            return before(v)

        rows = []
        for label, fn, count in (("before", before, slow_queries if s <= 0.01 else len(q)), ("after", after, len(q))):
            lat, recall, full = [], [], 0
            for v, e in zip(q[:count], exact):
                t = time.perf_counter()
                got = fn(v)
                lat.append(time.perf_counter() - t)
                recall.append(len(e & set(got)) / 10)
                full += len(got) == 10 and mask[got].all()
            p50, p99 = percentiles_ms(lat)
            rows.append(f"{label} {p50:.3f} / {p99:.3f} / {max(lat) * 1e3:.3f}, {np.mean(recall):.4f}, {full}/{count}")
        how = f"scan (read {read_s * 1e3:.0f} ms once)" if subset is not None else "walk"
        print(f"      s={s:<6} ({m:>9,} allowed, {how}): {rows[0]}  |  {rows[1]}", flush=True)


def _chunks(data: np.ndarray, size: int = 50_000):
    """(ids, vectors) a chunk at a time, as the catalog's table is read."""
    for start in range(0, len(data), size):
        yield np.arange(start, min(len(data), start + size)), data[start : start + size]


def _rss_mb() -> float:
    """Resident memory now (the index's memory is what the build adds; the vectors were
    generated before)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


if __name__ == "__main__":
    main()
