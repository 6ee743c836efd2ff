"""The inverted-file router (library/coarse.py) beside exact search and, where asked, the HNSW
graph, in one run (issue 30, item 3; docs/scale.md).

python -m perf.coarse_search [--sizes 200000,1000000] [--data orthogonal,manifold] [--queries 200]
    [--hnsw-sizes 200000]

Vectors and queries as perf/search_scale.py makes them (same generator, seeds and query
noise). Per size and layout: the router's training time, lists and memory; for each nprobe,
p50 / p99 / max per single query and recall@10 against exact search (numpy, every vector);
exact numpy search's p50 in the same run as the baseline; the CPU time of each query
(``time.thread_time``) beside its wall time, since on a shared machine a query that loses the
processor for a scheduler slice shows that slice in its wall time, not the index's work; with ``--hnsw-sizes``, the graph
built through the product's VectorIndex and searched at its calibrated ef (the build takes
minutes: 1.5-6 at 200k on 2 cores, 11-50 at 1M). The load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from perf._util import clustered_unit_vectors, percentiles_ms

LAYOUTS = {"manifold": 32, "orthogonal": None}


def queries(data: np.ndarray, nq: int) -> np.ndarray:
    """As perf/search_scale.py: a stored vector plus N(0, 0.05^2) per dimension, normalised; seed 1."""
    n, dim = data.shape
    rng = np.random.default_rng(1)
    q = data[rng.integers(0, n, nq)] + 0.05 * rng.normal(size=(nq, dim)).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def ground_truth(data: np.ndarray, q: np.ndarray, k: int = 10) -> np.ndarray:
    from vspectrum_app.library.ef_calibration import exact_top_k

    return exact_top_k(
        q, ((np.arange(s, min(len(data), s + 100_000)), data[s : s + 100_000]) for s in range(0, len(data), 100_000)), k
    )


def _load() -> str:
    return "load average {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    from vspectrum_app.library.coarse import CoarseIndex

    p = argparse.ArgumentParser(prog="perf.coarse_search")
    p.add_argument("--sizes", default="200000,1000000")
    p.add_argument("--data", default="orthogonal,manifold")
    p.add_argument("--nprobes", default="1,2,4,8,16")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--hnsw-sizes", default="", help="sizes at which to build and measure the graph too")
    args, _ = p.parse_known_args(argv)  # `python -m perf` hands every module the same arguments
    hnsw_sizes = {int(x) for x in args.hnsw_sizes.split(",") if x}
    print(f"router: library/coarse.py; baseline: exact numpy search (matrix @ query, argpartition); {_load()}")
    for layout in args.data.split(","):
        for n in map(int, args.sizes.split(",")):
            data = clustered_unit_vectors(n, 512, clusters=max(50, n // 50), latent_dim=LAYOUTS[layout])
            q = queries(data, args.queries)
            truth = ground_truth(data, q)
            lat = []
            for v in q[:50]:
                t = time.perf_counter()
                np.argpartition(-(data @ v), 10)[:10]
                lat.append(time.perf_counter() - t)
            e50, e99 = percentiles_ms(lat)
            print(f"{layout} n={n:,}: exact numpy p50 {e50:.1f} ms, p99 {e99:.1f} ms; {_load()}", flush=True)

            t = time.perf_counter()
            router = CoarseIndex.train(np.arange(n), data)
            train_s = time.perf_counter() - t
            sizes = np.array([len(i) for i, _ in router.lists])
            mb = (sum(v.nbytes + i.nbytes for i, v in router.lists) + router.centroids.nbytes) / 2**20
            print(
                f"  router: trained in {train_s:.0f} s; {len(router.lists):,} lists (mean {sizes.mean():.0f}, "
                f"max {sizes.max()}, empty {(sizes == 0).sum()}), overflow {len(router.overflow_ids)}; "
                f"memory {mb:.0f} MB (float32 copy of the vectors, ids, centroids); {_load()}",
                flush=True,
            )
            for nprobe in map(int, args.nprobes.split(",")):
                lat, cpu, rec = [], [], []
                for v, g in zip(q, truth):
                    t, c = time.perf_counter(), time.thread_time()
                    ids, _ = router.search(v, 10, nprobe)
                    lat.append(time.perf_counter() - t)
                    cpu.append(time.thread_time() - c)
                    rec.append(len(set(ids.tolist()) & set(g.tolist())) / 10)
                p50, p99 = percentiles_ms(lat)
                c50, c99 = percentiles_ms(cpu)
                print(
                    f"    nprobe {nprobe:>2}: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {max(lat) * 1e3:.2f} ms "
                    f"(CPU time p50 {c50:.3f}, p99 {c99:.3f} ms), "
                    f"recall@10 {np.mean(rec):.4f} (worst query {min(rec):.1f}), compares {router.scanned(nprobe):,.0f} "
                    f"vectors; x{e50 / p50:.0f} exact; {_load()}",
                    flush=True,
                )
            if n in hnsw_sizes:
                _graph(data, q, truth)
            del data, router


def _graph(data: np.ndarray, q: np.ndarray, truth: np.ndarray) -> None:
    """The graph as the product builds, calibrates (without the router) and searches it."""
    import tempfile
    from pathlib import Path

    from vspectrum_app.library import ef_calibration
    from vspectrum_app.library.index import VectorIndex

    n = len(data)
    with tempfile.TemporaryDirectory() as tmp:
        index = VectorIndex.create(Path(tmp) / "x.hnsw", data.shape[1], capacity=n)
        t = time.perf_counter()
        for s in range(0, n, 50_000):
            index.add(np.arange(s, min(n, s + 50_000)), data[s : s + 50_000])
        build_s = time.perf_counter() - t
        chunks = ((np.arange(s, min(n, s + 50_000)), data[s : s + 50_000]) for s in range(0, n, 50_000))
        ef = ef_calibration.calibrate(index, chunks).ef
        lat, cpu, rec = [], [], []
        for v, g in zip(q, truth):
            t, c = time.perf_counter(), time.thread_time()
            ids, _ = index.query(v[None, :], 10, ef=ef)
            lat.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
            rec.append(len(set(ids[0].tolist()) & set(g.tolist())) / 10)
        p50, p99 = percentiles_ms(lat)
        c50, c99 = percentiles_ms(cpu)
        print(
            f"  hnsw (built in {build_s:.0f} s, calibrated ef {ef}): p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
            f"max {max(lat) * 1e3:.2f} ms (CPU time p50 {c50:.3f}, p99 {c99:.3f} ms), recall@10 {np.mean(rec):.4f}; "
            f"{_load()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
