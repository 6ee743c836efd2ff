"""Prototype (issue 30 item 3): an inverted-file router (IVF-flat) at 200k / 1M, both layouts.

python -m perf.ivf_proto --sizes 200000,1000000 --data orthogonal,manifold --nlists 1000,2000,4000
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from perf._util import clustered_unit_vectors, percentiles_ms

LAYOUTS = {"manifold": 32, "orthogonal": None}


def queries(data: np.ndarray, nq: int) -> np.ndarray:
    n, dim = data.shape
    rng = np.random.default_rng(1)
    q = data[rng.integers(0, n, nq)] + 0.05 * rng.normal(size=(nq, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q


def ground_truth(data: np.ndarray, q: np.ndarray, k: int = 10) -> np.ndarray:
    best_s = np.full((len(q), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), k), dtype=np.int64)
    for s in range(0, len(data), 100_000):
        sims = q @ data[s : s + 100_000].T
        idx = np.argpartition(-sims, k, axis=1)[:, :k]
        cs = np.take_along_axis(sims, idx, 1)
        allS = np.concatenate([best_s, cs], 1)
        allI = np.concatenate([best_i, idx + s], 1)
        o = np.argpartition(-allS, k, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(allS, o, 1), np.take_along_axis(allI, o, 1)
    return best_i


def kmeans(data: np.ndarray, nlist: int, sample: int, iters: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = data[rng.choice(len(data), min(len(data), sample), replace=False)]
    c = x[rng.choice(len(x), nlist, replace=False)].copy()
    for _ in range(iters):
        a = assign(x, c)
        sums = np.zeros_like(c)
        order = np.argsort(a, kind="stable")
        counts = np.bincount(a, minlength=nlist)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sums = np.add.reduceat(x[order], starts[counts > 0], axis=0)
        c_new = c.copy()
        c_new[counts > 0] = sums
        empty = np.flatnonzero(counts == 0)
        if len(empty):  # re-seed empty lists on random points
            c_new[empty] = x[rng.choice(len(x), len(empty), replace=False)]
        c = c_new / np.linalg.norm(c_new, axis=1, keepdims=True)
    return c.astype(np.float32)


def assign(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    out = np.empty(len(x), dtype=np.int64)
    for s in range(0, len(x), 50_000):
        out[s : s + 50_000] = np.argmax(x[s : s + 50_000] @ c.T, axis=1)
    return out


class IVF:
    def __init__(self, data: np.ndarray, c: np.ndarray, a: np.ndarray, dtype=np.float32):
        self.c = c
        order = np.argsort(a, kind="stable")
        self.ids = order.astype(np.int64)
        self.vecs = np.ascontiguousarray(data[order], dtype=dtype)
        counts = np.bincount(a, minlength=len(c))
        self.off = np.concatenate([[0], np.cumsum(counts)])

    def search(self, q: np.ndarray, k: int, nprobe: int) -> np.ndarray:
        cs = np.einsum("ij,j->i", self.c, q)
        probe = np.argpartition(-cs, nprobe)[:nprobe] if nprobe < len(cs) else np.arange(len(cs))
        parts_s, parts_i = [], []
        for lst in probe:
            a, b = self.off[lst], self.off[lst + 1]
            if b > a:
                parts_s.append(np.einsum("ij,j->i", self.vecs[a:b], q))
                parts_i.append(self.ids[a:b])
        s = np.concatenate(parts_s)
        i = np.concatenate(parts_i)
        if len(s) > k:
            top = np.argpartition(-s, k)[:k]
            s, i = s[top], i[top]
        return i[np.argsort(-s)]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="200000")
    p.add_argument("--data", default="orthogonal,manifold")
    p.add_argument("--nlists", default="")
    p.add_argument("--nprobes", default="1,2,4,8,16,32")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--per-list", type=int, default=40, help="training sample per list")
    args = p.parse_args()
    print(f"load {os.getloadavg()}", flush=True)
    for layout in args.data.split(","):
        for n in map(int, args.sizes.split(",")):
            t = time.perf_counter()
            data = clustered_unit_vectors(n, 512, clusters=max(50, n // 50), latent_dim=LAYOUTS[layout])
            q = queries(data, args.queries)
            gen = time.perf_counter() - t
            t = time.perf_counter()
            gt = ground_truth(data, q)
            gt_s = time.perf_counter() - t
            lat = []
            for v in q[:30]:
                t = time.perf_counter()
                np.argpartition(-(data @ v), 10)[:10]
                lat.append(time.perf_counter() - t)
            e50, e99 = percentiles_ms(lat)
            lat = []
            for v in q[:30]:
                t = time.perf_counter()
                np.argpartition(-np.einsum("ij,j->i", data, v), 10)[:10]
                lat.append(time.perf_counter() - t)
            f50, _ = percentiles_ms(lat)
            print(
                f"{layout} n={n}: gen {gen:.1f} s, truth {gt_s:.1f} s; exact numpy (data @ v) p50 {e50:.1f} ms "
                f"p99 {e99:.1f}; einsum p50 {f50:.1f} ms; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            nlists = [int(x) for x in args.nlists.split(",")] if args.nlists else [int(np.sqrt(n)), 2 * int(np.sqrt(n)), 4 * int(np.sqrt(n))]
            for nlist in nlists:
                t = time.perf_counter()
                c = kmeans(data, nlist, args.per_list * nlist, args.iters)
                train = time.perf_counter() - t
                t = time.perf_counter()
                a = assign(data, c)
                assign_s = time.perf_counter() - t
                ivf = IVF(data, c, a)
                sizes = np.diff(ivf.off)
                print(
                    f"  nlist {nlist}: train {train:.1f} s (sample {min(n, args.per_list * nlist)}, {args.iters} it), "
                    f"assign all {assign_s:.1f} s; list sizes mean {sizes.mean():.0f} max {sizes.max()} empty "
                    f"{(sizes == 0).sum()}; memory vectors {ivf.vecs.nbytes / 2**20:.0f} MB + ids {ivf.ids.nbytes / 2**20:.0f} MB"
                    f" + centroids {c.nbytes / 2**20:.1f} MB; load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                for nprobe in map(int, args.nprobes.split(",")):
                    lat, rec = [], []
                    for v, g in zip(q, gt):
                        t = time.perf_counter()
                        ids = ivf.search(v, 10, nprobe)
                        lat.append(time.perf_counter() - t)
                        rec.append(len(set(ids.tolist()) & set(g.tolist())) / 10)
                    p50, p99 = percentiles_ms(lat)
                    print(
                        f"    nprobe {nprobe:>3}: p50 {p50:.3f} ms p99 {p99:.3f} ms max {max(lat)*1e3:.2f} "
                        f"recall@10 {np.mean(rec):.4f} (min {min(rec):.1f}); scanned ~{nprobe * n / nlist:.0f}",
                        flush=True,
                    )
                    if np.mean(rec) >= 0.999:
                        break
                del ivf
            del data


if __name__ == "__main__":
    main()
