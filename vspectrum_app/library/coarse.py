"""An inverted-file router (IVF-flat): k-means lists of vectors, a query scans the lists of
its nearest centroids exactly.

Why beside the HNSW graph: when a library's clusters share no direction (the orthogonal
layout of docs/scale.md), nothing in the graph leads a greedy walk towards the query's
cluster, so at a million vectors recall@10 0.99 took ef 1200 (8.5 ms). A query's cluster is
instead the one whose centroid it is nearest: comparing it with a few thousand centroids and
scanning the one or two lists they name is a fixed, small amount of work whatever the layout.

Vectors no list fits (their best centroid is farther than the list's own members were, e.g.
a new app's screenshots added after training) go to an overflow that every query scans; when
it fills, it is clustered into new lists, so the router grows without retraining.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


PER_LIST = 250  # vectors per list: 5 clusters of 50 at most, so a centroid stays near each (docs/scale.md)
TRAIN_PER_LIST = 50  # k-means sample per list: every cluster of ~50 is seen with near certainty
ITERATIONS = 8
FIT_MARGIN = 0.75  # a vector fits a list when its cosine reaches this fraction of the list's worst member's
OVERFLOW_MAX = 2_000  # scanned by every query (about 0.1 ms at 512-d); clustered into lists beyond
CHUNK = 50_000


@dataclass
class _Lists:
    centroids: np.ndarray  # (L, d) float32, unit
    floors: np.ndarray  # (L,) the cosine a vector needs to join each list


class CoarseIndex:
    """Lists of (id, float32 vector) under unit centroids, plus the overflow."""

    def __init__(self, dim: int):
        self.dim = dim
        self.centroids = np.zeros((0, dim), dtype=np.float32)
        self.floors = np.zeros(0, dtype=np.float32)
        self.lists: list[tuple[np.ndarray, np.ndarray]] = []  # per list: ids (int64), vectors (float32)
        self.overflow_ids = np.zeros(0, dtype=np.int64)
        self.overflow = np.zeros((0, dim), dtype=np.float32)
        self.changed = True  # since loaded or saved: a save of 2 GB at 1M is skipped when it has not

    # -- building -------------------------------------------------------------------------
    @classmethod
    def train(cls, ids: np.ndarray, vectors: np.ndarray, seed: int = 0) -> "CoarseIndex":
        """Lists for unit ``vectors`` (k-means on a sample, then every vector to its list)."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32)
        index = cls(vectors.shape[1])
        if len(ids):
            index._absorb(ids, vectors, np.random.default_rng(seed))
        return index

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Each vector to the list it fits, else to the overflow (clustered into new lists when full)."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(ids):
            return
        self.changed = True
        best, cos = _nearest_centroid(vectors, self.centroids)
        fits = cos >= self.floors[best] if len(self.centroids) else np.zeros(len(ids), dtype=bool)
        for lst, rows in enumerate(_split(best, fits, len(self.lists))):
            if not len(rows):
                continue
            old_ids, old_vecs = self.lists[lst]
            self.lists[lst] = (
                np.concatenate([old_ids, ids[rows]]),
                np.concatenate([old_vecs, vectors[rows]]),
            )
        self.overflow_ids = np.concatenate([self.overflow_ids, ids[~fits]])
        self.overflow = np.concatenate([self.overflow, vectors[~fits]])
        if len(self.overflow_ids) > OVERFLOW_MAX:
            pending_ids, pending = self.overflow_ids, self.overflow
            self.overflow_ids, self.overflow = self.overflow_ids[:0], self.overflow[:0]
            self._absorb(pending_ids, pending, np.random.default_rng(len(self.centroids)))

    def _absorb(self, ids: np.ndarray, vectors: np.ndarray, rng: np.random.Generator) -> None:
        """New lists for vectors no list fits: k-means, then those that fit none of the new
        lists either are clustered again (at most three rounds), the rest overflow."""
        for _ in range(3):
            if len(ids) <= OVERFLOW_MAX and len(self.centroids):
                break
            new = _kmeans(vectors, max(1, round(len(ids) / PER_LIST)), rng)
            best, cos = _nearest_centroid(vectors, new.centroids)
            fits = cos >= new.floors[best]
            if not fits.any():
                break
            for rows in _split(best, fits, len(new.centroids)):
                self.lists.append((ids[rows], vectors[rows]))
            # each centroid becomes the mean of the list's members, not of the sample's: a
            # cluster the sample missed would otherwise sit in a list whose centroid barely
            # points at it, and the queries near it would be routed elsewhere
            sums = np.zeros_like(new.centroids)
            _sum_by(sums, np.where(fits, best, -1), vectors)
            members = sums.any(axis=1)
            centroids = new.centroids.copy()
            centroids[members] = sums[members] / np.linalg.norm(sums[members], axis=1, keepdims=True)
            cos = np.einsum("ij,ij->i", vectors, centroids[best])
            floors = np.full(len(centroids), FIT_MARGIN, dtype=np.float32)
            np.minimum.at(floors, best[fits], FIT_MARGIN * cos[fits])
            self.centroids = np.concatenate([self.centroids, centroids])
            self.floors = np.concatenate([self.floors, floors])
            ids, vectors = ids[~fits], vectors[~fits]
        self.overflow_ids = np.concatenate([self.overflow_ids, ids])
        self.overflow = np.concatenate([self.overflow, vectors])

    # -- searching ------------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(len(i) for i, _ in self.lists) + len(self.overflow_ids)

    def ids(self) -> np.ndarray:
        return np.concatenate([i for i, _ in self.lists] + [self.overflow_ids])

    def scanned(self, nprobe: int) -> float:
        """Vectors a query compares itself with at ``nprobe``: the centroids, the mean list
        times nprobe, the overflow (the cost model ``ef_calibration`` weighs against the graph's)."""
        mean_list = (len(self) - len(self.overflow_ids)) / max(1, len(self.lists))
        return len(self.centroids) + nprobe * mean_list + len(self.overflow_ids)

    def search(self, vector: np.ndarray, k: int, nprobe: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosines) of the k best among the ``nprobe`` nearest lists and the overflow, best first."""
        q, nprobe = np.asarray(vector, dtype=np.float32), max(1, nprobe)
        # einsum, not BLAS: OpenBLAS splits even a matrix-vector product over threads (filtered.py)
        parts_ids, parts_sims = [self.overflow_ids], [np.einsum("ij,j->i", self.overflow, q)]
        if len(self.centroids):
            near = np.einsum("ij,j->i", self.centroids, q)
            probe = np.argpartition(-near, nprobe - 1)[:nprobe] if nprobe < len(near) else range(len(near))
            for lst in probe:
                lst_ids, lst_vecs = self.lists[lst]
                parts_ids.append(lst_ids)
                parts_sims.append(np.einsum("ij,j->i", lst_vecs, q))
        ids, sims = np.concatenate(parts_ids), np.concatenate(parts_sims)
        if k < len(ids):
            top = np.argpartition(-sims, k - 1)[:k]
            ids, sims = ids[top], sims[top]
        order = np.lexsort((ids, -sims))
        return ids[order], sims[order]

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Two files beside the index: ``path``.npy, every vector list after list (float32,
        memory-mapped when loaded), and ``path``.npz, the centroids, floors, list sizes, ids
        and a sample of the vectors' rows, which ``load`` compares with the .npy so that a pair
        from different saves is not taken for one. Each written then renamed, .npz last."""
        pieces = [v for _, v in self.lists] + [self.overflow]
        sizes = np.array([len(v) for v in pieces], dtype=np.int64)
        npy, npz = path.with_name(path.name + ".npy"), path.with_name(path.name + ".npz")
        # written list by list into the file: no second in-memory copy of 2 GB at each save
        out = np.lib.format.open_memmap(
            npy.with_name(npy.name + ".tmp"), mode="w+", dtype=np.float32, shape=(int(sizes.sum()), self.dim)
        )
        for start, piece in zip(np.concatenate([[0], np.cumsum(sizes)[:-1]]), pieces):
            out[start : start + len(piece)] = piece
        sample = np.array(out[_sample_rows(len(out))])
        out.flush()
        del out
        with open(npz.with_name(npz.name + ".tmp"), "wb") as f:
            np.savez(f, centroids=self.centroids, floors=self.floors, sizes=sizes, ids=self.ids(), sample=sample)
        npy.with_name(npy.name + ".tmp").replace(npy)
        npz.with_name(npz.name + ".tmp").replace(npz)
        self.changed = False

    @classmethod
    def load(cls, path: Path, dim: int) -> "CoarseIndex | None":
        """The saved router, or None when missing, unreadable, of another dimension, or its
        two files do not belong together."""
        try:
            vectors = np.load(path.with_name(path.name + ".npy"), mmap_mode="r")
            with np.load(path.with_name(path.name + ".npz")) as saved:
                centroids, floors, sizes, ids, sample = (
                    saved[name] for name in ("centroids", "floors", "sizes", "ids", "sample")
                )
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # a damaged .npz fails its CRC
            return None
        bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        if (
            vectors.ndim != 2
            or vectors.shape[1] != dim
            or centroids.shape != (len(sizes) - 1, dim)
            or bounds[-1] != len(ids)
            or len(ids) != len(vectors)
            or not np.array_equal(vectors[_sample_rows(len(vectors))], sample)
        ):
            return None
        index = cls(dim)
        index.centroids, index.floors = centroids.astype(np.float32), floors.astype(np.float32)
        pieces = [(ids[a:b], vectors[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        index.lists = pieces[:-1]
        index.overflow_ids, overflow = pieces[-1]
        index.overflow = np.array(overflow)  # grows with each add: a copy, not the mapped file
        index.changed = False
        return index


def _sample_rows(n: int) -> np.ndarray:
    return np.linspace(0, n - 1, num=min(n, 64)).astype(np.int64)


def _kmeans(vectors: np.ndarray, lists: int, rng: np.random.Generator) -> _Lists:
    """Spherical k-means on a sample of ``TRAIN_PER_LIST`` per list; each list's floor is
    ``FIT_MARGIN`` times its worst sample member's cosine."""
    lists = min(lists, len(vectors))
    sample = vectors[rng.choice(len(vectors), min(len(vectors), TRAIN_PER_LIST * lists), replace=False)]
    centroids = sample[rng.choice(len(sample), lists, replace=False)].copy()
    for _ in range(ITERATIONS):
        best, _ = _nearest_centroid(sample, centroids)
        sums = np.zeros_like(centroids)
        _sum_by(sums, best, sample)
        empty = ~sums.any(axis=1)
        sums[empty] = sample[rng.choice(len(sample), int(empty.sum()), replace=False)]  # re-seed empty lists
        centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    best, cos = _nearest_centroid(sample, centroids)
    worst = np.ones(lists, dtype=np.float32)
    np.minimum.at(worst, best, cos)
    return _Lists(centroids.astype(np.float32), (FIT_MARGIN * worst).astype(np.float32))


def _split(best: np.ndarray, keep: np.ndarray, lists: int) -> list[np.ndarray]:
    """Per list, the rows kept and assigned to it (one sort, not a scan per list)."""
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(best[rows], kind="stable")]
    return np.split(rows, np.cumsum(np.bincount(best[rows], minlength=lists))[:-1])


def _sum_by(sums: np.ndarray, best: np.ndarray, vectors: np.ndarray) -> None:
    """``sums[l]`` = the sum of the vectors whose ``best`` is l (best -1: none)."""
    for start in range(0, len(vectors), CHUNK):  # a chunk at a time: no copy of all the vectors
        part = best[start : start + CHUNK]
        keep = np.flatnonzero(part >= 0)
        if not len(keep):
            continue
        order = keep[np.argsort(part[keep], kind="stable")]
        counts = np.bincount(part[keep], minlength=len(sums))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[counts > 0]
        sums[counts > 0] += np.add.reduceat(vectors[start : start + CHUNK][order], starts, axis=0)


def _nearest_centroid(vectors: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each vector's nearest centroid and its cosine, a chunk at a time."""
    best = np.zeros(len(vectors), dtype=np.int64)
    cos = np.full(len(vectors), -np.inf, dtype=np.float32)
    if not len(centroids):
        return best, cos
    for start in range(0, len(vectors), CHUNK):
        sims = vectors[start : start + CHUNK] @ centroids.T
        best[start : start + CHUNK] = np.argmax(sims, axis=1)
        cos[start : start + CHUNK] = sims[np.arange(len(sims)), best[start : start + CHUNK]]
    return best, cos
