"""Keyword and value search over the library's CLIP index.

Retrieval for a value follows the paper: each of the value's keywords retrieves its k
nearest screenshots. **Deduplication (our documented choice):** a screenshot goes to the
first keyword (in the set's order) that retrieves it; a later keyword then takes its next
best, so every keyword still contributes k distinct images and a value gets
``k x keywords`` distinct images when the library is large enough. Screenshots flagged by
the crawler (black frame, login wall, ...) and simulator captures (platform ``sim``: the
simulator serves copies of the workspace's own screenshots) are never retrieved.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

from vspectrum_app.core.values import canonical_value
from vspectrum_app.library import catalog, filtered
from vspectrum_app.encoders.embedder import ClipEncoder, ClipSpec
from vspectrum_app.encoders.backends import configured_backend, load_text_encoder
from vspectrum_app.library.index import EF_SEARCH, TooFewAllowed, VectorIndex
from vspectrum_app.library.indexer import load_vectors, open_index
from vspectrum_app.library.keywords import KeywordSet
from vspectrum_app.core.workspace import Workspace

SIMULATED = "sim"  # the platform of simulator captures, kept out of retrieval
DEFAULT_RADIUS = 1.5  # the paper's coverage radius, Euclidean on unit vectors
CALIBRATED_QUANTILE = 0.99  # the default coverage: a model's top 1 % of (screenshot, keyword) pairs


T = TypeVar("T")


class SearchError(Exception):
    pass


@dataclass
class Hit:
    image_id: int
    similarity: float
    sha256: str
    ext: str
    platform: str | None = None
    video_url: str | None = None
    post_date: str | None = None
    author: str | None = None
    caption: str | None = None
    source_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Retrieval:
    value: str
    keyword: str
    rank: int  # 1..k within the keyword
    image_id: int
    similarity: float


class Searcher:
    """Search one workspace with one CLIP model. The model loads on the first text query."""

    def __init__(
        self,
        ws: Workspace,
        spec: ClipSpec,
        embedder: ClipEncoder | None = None,
        backend: str | None = None,
        device: str | None = None,
    ):
        self.ws, self.spec, self.backend, self.device = ws, spec, backend, device
        self._embedder = embedder
        self._index: VectorIndex | None = None
        self._opening: Future[VectorIndex] | None = None  # the index, opening in a thread
        self.model_key = spec.model_key
        self._text_cache: dict[str, np.ndarray] = {}
        self._id_sets: dict[object, tuple[tuple[int, int], Any]] = {}  # key -> (catalog version, image ids or vectors)

    # -- plumbing -----------------------------------------------------------------------
    @property
    def embedder(self) -> ClipEncoder:
        """The text side of the model: a search encodes keywords, never images."""
        if self._embedder is None:
            self._embedder = load_text_encoder(self.spec, backend=self.backend, device=self.device)
        return self._embedder

    @property
    def index(self) -> VectorIndex:
        if self._index is None:
            opening, self._opening = self._opening, None
            self._index = opening.result() if opening is not None else self._open_index()
        return self._index

    def _open_index(self) -> VectorIndex:
        dim = catalog.model_dim(self.ws, self.model_key)
        if dim is None:
            raise SearchError(
                f"the library has no index for CLIP {self.spec.describe()} yet: "
                f"run 'vspectrum library index' (or Build index in the app)"
            )
        return open_index(self.ws, self.model_key, dim)[0]

    def _open_index_meanwhile(self) -> None:
        """The first query of a new process: the index opens in a thread while the query's
        text is encoded. Checksumming and loading the file, and starting the text tower, are
        each a good part of a cold search and spend most of it in native code. Called once the
        encoder is loaded (``text_vectors``' ``then``): hnswlib holds the GIL while it loads the
        file (0.1-0.2 s at 50k), so the encoder's runtime is imported before, and the text tower's
        session (which releases the GIL) starts beside the load instead of after it. (With
        ``--backend torch`` it opens before: the model's load takes seconds.)"""
        if self._index is None and self._opening is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="open-index")
            self._opening = pool.submit(self._open_index)  # its own catalog connection (one per thread)
            pool.shutdown(wait=False)

    def text_vectors(self, texts: list[str], then: Callable[[], None] | None = None) -> np.ndarray:
        """Text embeddings, cached in memory and in the catalog (keyword sets are reused a lot).
        ``then``: called once, when the encoder is loaded and before any text is encoded (or,
        with every text cached, before returning)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._text_cache]
        if missing:
            rows = {}
            for start in range(0, len(missing), 900):
                chunk = missing[start : start + 900]
                rows.update(
                    {
                        r[0]: np.frombuffer(r[1], dtype=np.float32)
                        for r in self.ws.db.execute(
                            f"SELECT text, vector FROM text_embeddings WHERE model_key = ? AND text IN "
                            f"({','.join('?' * len(chunk))})",
                            (self.model_key, *chunk),
                        )
                    }
                )
            self._text_cache.update(rows)
            to_encode = [t for t in missing if t not in rows]
            if to_encode:
                torch_first = configured_backend(self.backend) == "torch"
                if then is not None and torch_first:
                    then()  # the torch model loads for seconds: the index opens meanwhile
                encoder = self.embedder  # loads it (ONNX: imports the runtime)
                if then is not None and not torch_first:
                    then()  # after the runtime's import: hnswlib's load holds the GIL
                then = None
                vectors = encoder.encode_texts(to_encode)
                if not self.ws.readonly:  # a read-only workspace keeps them in memory only
                    with self.ws.transaction() as conn:
                        conn.executemany(
                            "INSERT OR REPLACE INTO text_embeddings(model_key, text, vector) VALUES (?, ?, ?)",
                            [(self.model_key, t, v.tobytes()) for t, v in zip(to_encode, vectors)],
                        )
                self._text_cache.update(zip(to_encode, vectors))
        if then is not None:
            then()
        return np.stack([self._text_cache[t] for t in texts])

    # -- queries ------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, platforms: Sequence[str] | None = None) -> list[Hit]:
        """The k screenshots nearest ``query``; ``platforms``: only screenshots from these."""
        if not query.strip():
            raise SearchError("empty query")
        vector = self.text_vectors([query.strip()], then=self._open_index_meanwhile)[0]
        return self.search_vector(vector, k, platforms=platforms)

    def similar(self, image_id: int, k: int = 5) -> list[Hit]:
        ids, vectors = load_vectors(self.ws, self.model_key, [image_id])
        if not len(ids):
            raise SearchError(f"image {image_id} is not embedded with {self.spec.describe()}")
        return [h for h in self.search_vector(vectors[0], k + 1) if h.image_id != image_id][:k]

    def search_vector(
        self, vector: np.ndarray, k: int, exclude: set[int] | None = None, platforms: Sequence[str] | None = None
    ) -> list[Hit]:
        pairs = self._nearest(vector, k, exclude or set(), platforms)
        return self.hits(pairs)

    def retrieve_value(
        self, value: str, keyword_set: KeywordSet, k: int = 5, platforms: Sequence[str] | None = None
    ) -> list[Retrieval]:
        value = canonical_value(value)
        keywords = keyword_set.keywords(value)
        vectors = self.text_vectors(list(keywords), then=self._open_index_meanwhile)
        taken: set[int] = set()
        out: list[Retrieval] = []
        for keyword, vector in zip(keywords, vectors):
            for rank, (image_id, sim) in enumerate(self._nearest(vector, k, taken, platforms), start=1):
                taken.add(image_id)
                out.append(Retrieval(value=value, keyword=keyword, rank=rank, image_id=image_id, similarity=sim))
        return out

    def coverage(self, keyword_set: KeywordSet, radius: float | None = None) -> dict[str, dict[str, Any]]:
        """Per value: images within ``radius`` (Euclidean, unit vectors; the paper's is
        ``DEFAULT_RADIUS``) of any of its keywords; ``radius=None``: the threshold calibrated
        for this model (see ``calibrated_threshold``)."""
        ids, matrix = load_vectors(self.ws, self.model_key)
        all_keywords = [kw for kws in keyword_set.values.values() for kw in kws]
        if radius is not None:
            threshold = radius_threshold(radius)
        elif len(ids):
            threshold = calibrated_threshold(matrix @ self.text_vectors(all_keywords).T)
        else:
            threshold = 1.0
        self.last_threshold = threshold
        out = {}
        for value, keywords in keyword_set.values.items():
            if len(ids):
                sims = matrix @ self.text_vectors(list(keywords)).T
                per_keyword = (sims >= threshold).sum(axis=0)
                covered = int((sims >= threshold).any(axis=1).sum())
            else:
                per_keyword, covered = np.zeros(len(keywords), dtype=int), 0
            out[value] = {
                "images": covered,
                "fraction": covered / len(ids) if len(ids) else 0.0,
                "per_keyword": {kw: int(n) for kw, n in zip(keywords, per_keyword)},
            }
        return out

    # -- helpers ------------------------------------------------------------------------
    def _nearest(
        self, vector: np.ndarray, k: int, exclude: set[int], platforms: Sequence[str] | None = None
    ) -> list[tuple[int, float]]:
        """k best (id, similarity) among the images a search may return: not in ``exclude``,
        not flagged or simulated, and on one of ``platforms`` when given. A platform whose
        vectors scan faster than the filtered walk would take (``filtered.scan_is_cheaper``)
        is scanned exactly; otherwise the filter runs inside the HNSW walk, so it returns k
        whenever k such images are indexed (fewer exist: those, ranked exactly)."""
        blocked = self._blocked() | exclude
        if platforms is None:
            pool = None
            accept = (lambda label: label not in blocked) if blocked else None
        else:
            pool = self._on_platforms(tuple(platforms)) - self._blocked()
            if filtered.scan_is_cheaper(self.index, len(pool)):
                return self._subset(("platforms", tuple(platforms)), pool).nearest(vector, k, exclude)
            pool -= exclude
            accept = pool.__contains__
        k = min(k, len(self.index), len(pool) if pool is not None else k)
        if k <= 0:
            return []
        if pool is None and len(blocked) <= EF_SEARCH:
            # a few blocked: fetching k + their number costs no extra breadth (ef >= that) and
            # skips the filter's Python call per candidate (about half the query's time)
            ids, sims = self.index.query(vector[None, :], min(k + len(blocked), len(self.index)))
            return [(int(i), float(s)) for i, s in zip(ids[0], sims[0]) if int(i) not in blocked][:k]
        try:
            ids, sims = self.index.query(vector[None, :], k, allowed=accept)
        except TooFewAllowed:  # fewer than k allowed are indexed: rank the ones there are
            stored = filtered.Subset(*load_vectors(self.ws, self.model_key, None if pool is None else sorted(pool)))
            return stored.nearest(vector, k, blocked)
        return [(int(i), float(s)) for i, s in zip(ids[0], sims[0])]

    def _subset(self, key: object, ids: set[int]) -> filtered.Subset:
        """The stored vectors of ``ids`` (those embedded with this model), read once per
        catalog version: every query with this filter scans them."""
        return self._cached(("subset", key), lambda: filtered.Subset(*load_vectors(self.ws, self.model_key, ids)))

    def _blocked(self) -> set[int]:
        """Images never retrieved: flagged by the crawler, or simulator captures."""
        return self._cached("blocked", lambda: catalog.excluded_from_search(self.ws, SIMULATED))

    def _on_platforms(self, platforms: tuple[str, ...]) -> set[int]:
        return self._cached(("platforms", platforms), lambda: catalog.ids_on_platforms(self.ws, platforms))

    def _cached(self, key: object, compute: Callable[[], T]) -> T:
        """``compute()``, recomputed only after the catalog changed (by this connection or
        another): each query used to scan the images table, a few ms at 50k."""
        version = catalog.version(self.ws)
        hit = self._id_sets.get(key)
        if hit is None or hit[0] != version:
            hit = self._id_sets[key] = (version, compute())
        return hit[1]

    # -- hits -----------------------------------------------------------------------------
    def hits(self, pairs: list[tuple[int, float]]) -> list[Hit]:
        """(image id, similarity) pairs as search hits with the images' metadata, in the same order;
        an id the catalog no longer has is left out."""
        records = catalog.image_records(self.ws, [i for i, _ in pairs])
        return [
            Hit(
                image_id=i,
                similarity=s,
                sha256=r.sha256,
                ext=r.ext,
                platform=r.platform,
                video_url=r.video_url,
                post_date=r.post_date,
                author=r.author,
                caption=r.caption,
                source_name=r.source_name,
                extra=dict(r.extra),
            )
            for i, s in pairs
            if (r := records.get(i)) is not None
        ]

    def retrieval_hits(self, found: list[Retrieval]) -> dict[int, Hit]:
        """image id -> its hit, for the images ``retrieve_value`` found."""
        return {h.image_id: h for h in self.hits([(r.image_id, r.similarity) for r in found])}


def radius_threshold(radius: float) -> float:
    """The paper's radius as a cosine threshold: |a - b|^2 = 2 - 2 cos for unit vectors."""
    return 1.0 - radius**2 / 2.0


def calibrated_threshold(sims: np.ndarray, quantile: float = CALIBRATED_QUANTILE) -> float:
    """The cosine at the ``quantile`` of every (screenshot, keyword) similarity of one model.

    Why: image-text cosines of a CLIP model sit in a narrow band that differs per model
    (about 0.1-0.35 for ViT-B-32), so the paper's radius 1.5 (cosine >= -0.125) counts every
    screenshot for every value. Taking the model's own top 1 % of pairs as "close" makes the
    bars comparable across models and values. Linear interpolation between order statistics
    (numpy's default); an empty matrix gives 1.0 (nothing counts)."""
    flat = np.asarray(sims, dtype=np.float64).ravel()
    return float(np.quantile(flat, quantile)) if flat.size else 1.0
