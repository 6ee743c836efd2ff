"""A persistent hnswlib index (cosine) per CLIP model, kept consistent with the catalog.

The catalog's ``embeddings`` table is the source of truth; the index file is a derived,
rebuildable cache of it. Vectors are committed to the table before they reach the index,
the index is saved write-then-rename, and ``open_index`` compares the index's labels with
the table: what is missing is added from the stored vectors (nothing is re-embedded), and an
index holding vectors the table no longer has, or an unreadable file, is rebuilt from the table.
"""

from __future__ import annotations

import errno
import json
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from vspectrum_app.core.atomic import IncompleteWriteError, Written, atomic_replace_from, atomic_write_text
from vspectrum_app.library.coarse import CoarseIndex

# Chosen on clustered 512-d vectors (perf/search_scale.py; figures in docs/scale.md): M=24
# reaches recall@10 0.99 at a lower ef than M=16 (fewer hops at 512-d), and
# ef_construction=100 builds in about half of 200's time. ef 96, not 80: recall at 80 was
# 0.975-0.993 over two builds of the same vectors (multi-threaded builds differ).
M = 24
EF_CONSTRUCTION = 100
EF_SEARCH = 96  # up to 100k vectors; larger indexes search wider (``ef_for``)


def ef_for(count: int) -> int:
    """The search breadth for an index of ``count`` vectors before it is calibrated on its own
    vectors (``ef_calibration``). HNSW's recall at a fixed ef falls as the graph grows:
    measured on this build with the worst-case layout (docs/scale.md), recall@10 >= 0.99 took
    ef 96 at 50k and ef 800 at 1M, so ef is interpolated between them in log(count)."""
    if count <= 100_000:
        return EF_SEARCH
    return int(round(EF_SEARCH * (EF_AT_1M / EF_SEARCH) ** np.log10(count / 100_000)))


EF_AT_1M = 800


@dataclass(frozen=True)
class Calibration:
    """The search breadth measured on the index's own vectors (``ef_calibration``)."""

    ef: int
    recall: float  # recall@10 at ``ef`` on the calibration queries
    count: int  # vectors in the index when measured
    # lists the inverted-file router scans per query when it searches instead of the graph
    # (``coarse``; chosen by ``ef_calibration`` where the graph needs a wide search), else None
    nprobe: int | None = None

    @classmethod
    def from_meta(cls, raw: object) -> "Calibration | None":
        """From the index's sidecar file, or None when absent or not a sensible record."""
        if not isinstance(raw, dict):
            return None
        ef, recall, count = raw.get("ef"), raw.get("recall"), raw.get("count")
        if not (isinstance(ef, int) and isinstance(count, int) and isinstance(recall, (int, float))):
            return None
        nprobe = raw.get("nprobe")
        if not (nprobe is None or (isinstance(nprobe, int) and nprobe >= 1)):
            nprobe = None
        return cls(ef, float(recall), count, nprobe) if 1 <= ef <= 100_000 and count > 0 else None


class TooFewAllowed(Exception):
    """A filtered search found fewer than k accepted items."""


class VectorIndex:
    def __init__(self, path: Path, dim: int):
        import hnswlib  # small, but only needed once an index is used

        self.path, self.dim = Path(path), dim
        self._hnsw = hnswlib.Index(space="cosine", dim=dim)
        self._dirty = False
        self.calibration: Calibration | None = None
        # the inverted-file router (``coarse``), kept beside the graph where the calibration chose it
        self.router: CoarseIndex | None = None
        # what embedded the vectors (the last run that added any): backend, precision, cosine to fp32
        self.encoder: dict[str, Any] | None = None

    # -- persistence --------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, dim: int, capacity: int = 1024) -> "VectorIndex":
        index = cls(path, dim)
        index._hnsw.init_index(max_elements=max(capacity, 1024), ef_construction=EF_CONSTRUCTION, M=M)
        return index

    @classmethod
    def load(cls, path: Path, dim: int, capacity: int = 1024) -> "VectorIndex | None":
        """The saved index, or None when it is missing, of another dimension, or unreadable."""
        meta = _read_meta(path)
        if not path.exists() or meta.get("dim") != dim:
            return None
        index = cls(path, dim)
        try:
            index._hnsw.load_index(str(path), max_elements=max(capacity, meta.get("capacity", 0)))
        except RuntimeError:
            return None
        index.calibration = Calibration.from_meta(meta.get("calibration"))
        index.encoder = recorded_encoder(path)
        if index.calibration is not None and index.calibration.nprobe:
            router = CoarseIndex.load(router_path(path), dim)
            # in step with the graph, or not used (a save interrupted between the two files):
            # the graph then searches at the calibrated ef, and the next `library index` retrains
            index.router = router if router is not None and len(router) == len(index) else None
        return index

    def save(self) -> Written:
        """Save write-then-rename. hnswlib's save does not raise when the disk fills (its stream
        fails silently, leaving a short or empty file), so the temporary file must be exactly
        the size hnswlib computes for this index and hold its element count before it replaces
        the saved one. Returns the saved file's size and SHA-256 (for ``index_integrity.record``)."""
        count, capacity = len(self), self._hnsw.get_max_elements()
        written = atomic_replace_from(
            self.path,
            lambda tmp: self._hnsw.save_index(tmp),
            expected_size=self._hnsw.index_file_size(),
            check=lambda tmp: _check_header(Path(tmp), self.path, count, capacity),
        )
        self.save_router()
        self.save_meta()
        self._dirty = False
        return written

    def save_router(self) -> None:
        """The router's files beside the index (``router_path``), when there is one and it
        changed since it was loaded or saved (the graph's periodic saves during indexing)."""
        if self.router is not None and self.router.changed:
            self.router.save(router_path(self.path))

    def save_meta(self) -> None:
        """The sidecar alone (dimension, capacity, calibration, encoder): for a change that leaves the
        vectors and graph as saved, without rewriting a file of gigabytes."""
        atomic_write_text(
            _meta_path(self.path),
            json.dumps(
                {
                    "dim": self.dim,
                    "count": len(self),
                    "capacity": self._hnsw.get_max_elements(),
                    "space": "cosine",
                    "M": self._hnsw.M,
                    "ef_construction": self._hnsw.ef_construction,
                    "calibration": asdict(self.calibration) if self.calibration else None,
                    "encoder": self.encoder,
                }
            ),
        )

    # -- contents -----------------------------------------------------------------------
    def __len__(self) -> int:
        return self._hnsw.get_current_count()

    def labels(self) -> set[int]:
        return set(int(i) for i in self._hnsw.get_ids_list())

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        need = self._hnsw.get_current_count() + len(ids)
        if need > self._hnsw.get_max_elements():
            self._hnsw.resize_index(max(need, 2 * self._hnsw.get_max_elements()))
        self._hnsw.add_items(np.asarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        if self.router is not None:  # to the list each fits, no retraining (``coarse``)
            self.router.add(np.asarray(ids, dtype=np.int64), _unit(vectors))
        self._dirty = True

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored (unit) vectors of ``ids``."""
        return np.asarray(self._hnsw.get_items(np.asarray(ids, dtype=np.int64)), dtype=np.float32)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def search_ef(self) -> int:
        """The calibrated breadth, grown since the calibration as ``ef_for`` grows; without a
        calibration, ``ef_for`` (which assumes the worst case)."""
        n = len(self)
        if self.calibration is None:
            return ef_for(n)
        grown = ef_for(max(n, self.calibration.count)) / ef_for(self.calibration.count)
        return int(round(self.calibration.ef * grown))

    def query(
        self, vectors: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None, ef: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosine similarities), each of shape (n_queries, k'), k' = min(k, size).

        ``allowed(label)``: only labels it accepts are returned; hnswlib applies it during the
        graph walk (a rejected node is still walked through, just not returned), so the search
        keeps going until it has k accepted ones. Raises ``TooFewAllowed`` when the walk ends
        with fewer (few accepted items, or far from the query): the caller searches them exactly.
        ``ef``: the search breadth (default ``search_ef()``). Without a filter or an ``ef``, the
        router answers instead of the graph where the calibration chose it (``Calibration.nprobe``)."""
        k = min(k, len(self))
        if k <= 0:
            empty = np.zeros((len(vectors), 0))
            return empty.astype(np.int64), empty.astype(np.float32)
        nprobe = self.calibration.nprobe if self.calibration is not None else None
        if allowed is None and ef is None and self.router is not None and nprobe:
            found = [self.router.search(v, k, nprobe) for v in _unit(vectors)]
            if all(len(i) == k for i, _ in found):  # else fewer than k in the lists probed: the graph
                return np.stack([i for i, _ in found]), np.stack([s for _, s in found])
        self._hnsw.set_ef(max(ef or self.search_ef(), k))
        try:  # one thread: single queries gain nothing from more, and the filter is Python code
            ids, distances = self._hnsw.knn_query(
                np.asarray(vectors, dtype=np.float32), k=k, num_threads=1, filter=allowed
            )
        except RuntimeError as exc:  # hnswlib: "Cannot return the results in a contiguous 2D array..."
            if allowed is None:
                raise
            raise TooFewAllowed(str(exc)) from None
        return ids.astype(np.int64), (1.0 - distances).astype(np.float32)


# hnswlib's file starts with offsetLevel0, max_elements, cur_element_count (size_t each)
_HEADER = struct.Struct("<QQQ")


def _check_header(tmp: Path, path: Path, count: int, capacity: int) -> None:
    with open(tmp, "rb") as f:
        head = f.read(_HEADER.size)
    fields = _HEADER.unpack(head) if len(head) == _HEADER.size else None
    if fields is None or fields[1:] != (capacity, count):
        raise IncompleteWriteError(
            errno.EIO,
            f"the saved index {path.name} does not hold the {count:,} vectors it should; the one already there was kept.",
        )


def router_path(path: Path) -> Path:
    """Where the index's router is saved (``coarse``: this path + .npy and .npz)."""
    return path.with_suffix(".ivf")


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1, as hnswlib's cosine space stores them."""
    v = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms > 0, norms, 1)


def recorded_encoder(path: Path) -> dict[str, Any] | None:
    """The encoder the index's manifest (sidecar) records, or None (none recorded, unreadable)."""
    encoder = _read_meta(path).get("encoder")
    return encoder if isinstance(encoder, dict) else None


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta: dict[str, Any] = json.loads(_meta_path(path).read_text())
        return meta
    except (OSError, ValueError):
        return {}
