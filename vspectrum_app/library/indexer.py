"""Embed what is not embedded yet and keep the index in step, incrementally.

Decoding and preprocessing of the next batches run in a thread pool while the model
encodes the current one on its own thread (every backend releases the GIL) and the batch
before is stored, so the pipeline runs close to the bare model's speed. Each batch's
vectors are committed to the catalog in one transaction before the index file is touched:
an interrupted build (Ctrl-C, kill -9) loses at most the batch in flight, and the next
``open_index`` puts committed vectors the index lacks back into it.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from vspectrum_app.core import clock, diskspace
from vspectrum_app.core.jobs import Cancelled, NullReporter, Reporter
from vspectrum_app.library import ef_calibration, index_integrity
from vspectrum_app.encoders.embedder import ClipEncoder, ClipSpec
from vspectrum_app.encoders.backends import load_embedder
from vspectrum_app.library.index import VectorIndex, recorded_encoder
from vspectrum_app.core.workspace import Workspace

MIN_FREE_BYTES = 1 << 20  # below this, SQLite's journal and the index's save copy may not fit
SAVE_EVERY_S = 30.0  # the index is also saved at the end; the table is what must never lag
# At most this share of a run goes to saving the index: at a million vectors a save (write,
# fsync, SHA-256) takes about 9 s, which every 30 s would be a quarter of the run. A lagging
# index file loses nothing: the next open adds the committed vectors it lacks.
SAVE_SHARE = 0.1


def save_interval(last_save_seconds: float) -> float:
    """Seconds until the next periodic save, given how long the last one took."""
    return max(SAVE_EVERY_S, last_save_seconds / SAVE_SHARE)


_now = time.monotonic  # the periodic save's clock (a test drives it)


@dataclass
class IndexReport:
    model_key: str
    embedded: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (image id, reason)
    repaired: int = 0
    total: int = 0
    seconds: float = 0.0
    encoder: dict[str, Any] | None = None  # backend, precision, cosine to fp32 (``precision.encoder_record``)


def register_model(ws: Workspace, spec: ClipSpec, dim: int) -> str:
    key = spec.model_key
    with ws.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO clip_models(model_key, spec_json, dim, created_at) VALUES (?, ?, ?, ?)",
            (key, json.dumps(spec.to_json()), dim, clock.now()),
        )
    return key


def index_path(ws: Workspace, model_key: str) -> Path:
    return ws.index_dir / f"{model_key}.hnsw"


def load_vectors(ws: Workspace, model_key: str, ids: Iterable[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) stored in the catalog for one model (all, or the given ids)."""
    if ids is None:
        rows = ws.db.execute(
            "SELECT image_id, vector FROM embeddings WHERE model_key = ? ORDER BY image_id", (model_key,)
        ).fetchall()
    else:
        wanted = list(ids)
        rows = []
        for start in range(0, len(wanted), 900):  # SQLite's parameter limit
            chunk = wanted[start : start + 900]
            rows += ws.db.execute(
                f"SELECT image_id, vector FROM embeddings WHERE model_key = ? AND image_id IN "
                f"({','.join('?' * len(chunk))})",
                (model_key, *chunk),
            ).fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    return _as_arrays(rows)


def _as_arrays(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of (image_id, vector blob) rows."""
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows]),
    )


def open_index(ws: Workspace, model_key: str, dim: int, reporter: Reporter | None = None) -> tuple[VectorIndex, int]:
    """The model's index, repaired against the catalog. Returns (index, number of vectors repaired)."""
    reporter = reporter or NullReporter()
    stored_count = _stored_count(ws, model_key)
    path = index_path(ws, model_key)
    index = None
    flaw = index_integrity.problem(ws, model_key, path, dim)  # never hand an unverified file to hnswlib
    if flaw is None:
        index = VectorIndex.load(path, dim, capacity=stored_count + 1024)
    elif path.exists():  # the one line; a caller without a reporter (search) gets it on stderr
        (reporter.log if not isinstance(reporter, NullReporter) else _stderr_log)(
            f"index file {path.name} failed its integrity check ({flaw}); rebuilding it from the stored embeddings",
            "warning",
        )
    if index is not None and len(index) == stored_count == index_integrity.recorded_count(ws, model_key):
        # The file the catalog recorded, as many vectors as the catalog holds: in step, as
        # vectors are only ever added (each run opens the index through here first). Comparing
        # every id would cost two sets as large as the library in each new search process.
        return index, 0
    stored = {r[0] for r in ws.db.execute("SELECT image_id FROM embeddings WHERE model_key = ?", (model_key,))}
    if index is not None and index.labels() - stored:
        reporter.log("the index holds vectors the catalog does not; rebuilding it from the catalog")
        index = None
    rebuilt = index is None
    if index is None:
        index = VectorIndex.create(path, dim, capacity=len(stored) + 1024)
        index.encoder = recorded_encoder(path)  # the vectors are the stored ones: same encoder
    missing = sorted(stored - index.labels())
    del stored
    if missing and not rebuilt:
        reporter.log(f"index was behind the catalog by {len(missing)} vectors; repairing")
    for start in range(0, len(missing), REPAIR_CHUNK):  # a chunk at a time: a rebuild held them all twice
        index.add(*load_vectors(ws, model_key, missing[start : start + REPAIR_CHUNK]))
    if index.dirty or rebuilt:
        save_index(ws, model_key, index)
    return index, 0 if rebuilt else len(missing)


REPAIR_CHUNK = 4096


def _stored_count(ws: Workspace, model_key: str) -> int:
    return int(ws.db.execute("SELECT COUNT(*) FROM embeddings WHERE model_key = ?", (model_key,)).fetchone()[0])


def _stderr_log(message: str, level: str = "warning") -> None:
    logging.getLogger(__name__).warning(message)


def save_index(ws: Workspace, model_key: str, index: VectorIndex) -> None:
    """Save the index file and record its checksum in the catalog (checked by ``open_index``).
    On a read-only workspace the repaired index lives in memory only."""
    if ws.readonly:
        return
    written = index.save()  # checked before it replaced the saved file (hnswlib hides a full disk)
    index_integrity.record(ws, model_key, index.path, len(index), index.dim, written)


PENDING_PAGE = 4096  # rows of the todo list read at a time: a long list would grow with the library


def missing_images(ws: Workspace, model_key: str, ids: Sequence[int] | None = None) -> list[tuple[int, str, str]]:
    """Every image (or every one of ``ids``) without a vector for ``model_key``, by id."""
    return [row for page in todo_pages(ws, model_key, ids) for row in page]


def count_missing(ws: Workspace, model_key: str, ids: Sequence[int] | None = None) -> int:
    if ids is not None:
        return sum(len(page) for page in todo_pages(ws, model_key, ids))
    row = ws.db.execute(f"SELECT COUNT(*) FROM images WHERE {_NOT_EMBEDDED}", (model_key,)).fetchone()
    return int(row[0])


_NOT_EMBEDDED = "NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.image_id = images.id AND e.model_key = ?)"


def todo_pages(
    ws: Workspace, model_key: str, ids: Sequence[int] | None = None, page: int | None = None
) -> Iterator[list[tuple[int, str, str]]]:
    """(id, sha256, ext) of the images without a vector, a page at a time in id order. Each page
    is read after the previous one was consumed, from the id after its last: images embedded
    meanwhile are not listed again, and one that failed is not retried in the same run."""
    if ids is not None:  # a few fresh captures (the crawler's call): look up just those
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 900):  # SQLite's parameter limit
            chunk = wanted[start : start + 900]
            rows = ws.db.execute(
                f"SELECT id, sha256, ext FROM images WHERE id IN ({','.join('?' * len(chunk))}) AND {_NOT_EMBEDDED} "
                "ORDER BY id",
                (*chunk, model_key),
            ).fetchall()
            if rows:
                yield [(r[0], r[1], r[2]) for r in rows]
        return
    after = -1
    while True:
        rows = ws.db.execute(
            f"SELECT id, sha256, ext FROM images WHERE id > ? AND {_NOT_EMBEDDED} ORDER BY id LIMIT ?",
            (after, model_key, page or PENDING_PAGE),
        ).fetchall()
        if not rows:
            return
        yield [(r[0], r[1], r[2]) for r in rows]
        after = rows[-1][0]


def build_index(
    ws: Workspace,
    spec: ClipSpec,
    reporter: Reporter | None = None,
    batch_size: int | None = None,
    only_ids: Sequence[int] | None = None,
    embedder: ClipEncoder | None = None,
    backend: str | None = None,
    device: str | None = None,
) -> IndexReport:
    """Embed every image (or ``only_ids``) that has no vector for ``spec`` yet; update the index.
    ``backend``/``device``: see ``load_embedder`` (None: the configured ones); ``batch_size``
    None: the embedder's own (on CUDA, from free memory)."""
    reporter = reporter or NullReporter()
    start = time.monotonic()
    embedder = embedder or load_embedder(spec, reporter, backend, device)
    batch_size = batch_size or embedder.batch_size
    key = register_model(ws, spec, embedder.dim)
    index, repaired = open_index(ws, key, embedder.dim, reporter)
    total = count_missing(ws, key, only_ids)
    # vectors in the catalog (with WAL and page overhead) plus the index file and its save copy
    diskspace.require_free(ws.root, total * embedder.dim * 4 * 4 + MIN_FREE_BYTES)
    from vspectrum_app.encoders.precision import encoder_record  # not imported by a search, which opens indexes here

    report = IndexReport(model_key=key, repaired=repaired, total=total, encoder=encoder_record(embedder))
    if total:  # the manifest says what embedded the vectors (the last run that added some)
        index.encoder = report.encoder
    reporter.progress(0, total, f"embedding with {spec.describe()} on {embedder.describe()}")
    todo = itertools.chain.from_iterable(todo_pages(ws, key, only_ids))

    store_batches(ws, key, index, _encoded_ahead(ws, embedder, todo, batch_size, reporter), report, reporter)
    calibrate_if_due(ws, key, index, reporter)
    report.seconds = time.monotonic() - start
    return report


def calibrate_if_due(ws: Workspace, key: str, index: VectorIndex, reporter: Reporter) -> None:
    """Measure the search breadth on the index's own vectors once it is large, and again each
    time it doubles (``ef_calibration``); the result is saved in the index's sidecar."""
    if ws.readonly or not ef_calibration.due(index):
        return
    reporter.progress(0, None, f"measuring search accuracy on {len(index):,} vectors")
    index.calibration = ef_calibration.calibrate(index, vector_chunks(ws, key), reread=lambda: vector_chunks(ws, key))
    reporter.log(
        f"search breadth set to ef {index.calibration.ef} "
        f"(recall@10 {index.calibration.recall:.3f} on {len(index):,} vectors)"
        + (
            f"; unfiltered searches go through an inverted-file router scanning {index.calibration.nprobe} of "
            f"{len(index.router.lists):,} lists"
            if index.calibration.nprobe and index.router is not None
            else ""
        )
    )
    if index.dirty:  # store_batches saved it at its end; otherwise the file must follow too
        save_index(ws, key, index)
    else:
        index.save_router()
        index.save_meta()  # the calibration lives in the sidecar: the 2 GB file stays as saved


def vector_chunks(ws: Workspace, model_key: str, chunk: int = 50_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of every stored vector of the model, ``chunk`` rows at a time in id order."""
    after = -1
    while True:
        rows = ws.db.execute(
            "SELECT image_id, vector FROM embeddings WHERE model_key = ? AND image_id > ? ORDER BY image_id LIMIT ?",
            (model_key, after, chunk),
        ).fetchall()
        if not rows:
            return
        yield _as_arrays(rows)
        after = rows[-1][0]


def _encoded_ahead(
    ws: Workspace, embedder: ClipEncoder, todo: Iterable[tuple[int, str, str]], batch_size: int, reporter: Reporter
) -> Iterator[EmbeddedBatch]:
    """Encoded batches, the next one encoding on a model thread while the caller stores this
    one, so the model never waits for the catalog's commit and the index insert. On 2 CPU
    cores that is 4 ms of a 600 ms batch (no change measurable there); on a GPU a batch
    encodes in tens of milliseconds and the store would be a tenth of it or more. On
    cancel, the batch already encoding is finished and handed over before ``Cancelled``."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="model") as model:
        pending: _Encoding | None = None
        for batch_ids, pixels, failures in _prefetched_batches(ws, embedder, todo, batch_size):
            try:
                reporter.check_cancelled()
            except Cancelled:
                if pending is not None:
                    yield _collect(pending)
                raise
            job = model.submit(embedder.encode_batch, pixels) if batch_ids else None
            if pending is not None:
                yield _collect(pending)
            pending = (batch_ids, job, failures)
        if pending is not None:
            yield _collect(pending)


# (image ids, their vectors being encoded or None when none decoded, (image id, reason) per failure)
_Encoding = tuple[list[int], "Future[np.ndarray] | None", list[tuple[int, str]]]


def _collect(pending: _Encoding) -> EmbeddedBatch:
    ids, job, failures = pending
    return ids, job.result() if job is not None else None, failures


# (image ids, their unit vectors or None when none was embedded, (image id, reason) per failure)
EmbeddedBatch = tuple["Sequence[int] | np.ndarray", "np.ndarray | None", list[tuple[int, str]]]


def store_batches(
    ws: Workspace,
    key: str,
    index: VectorIndex,
    batches: Iterable[EmbeddedBatch],
    report: IndexReport,
    reporter: Reporter,
) -> None:
    """Store each (ids, vectors, failures) batch: the vectors are committed to the catalog in
    one transaction, then added to the index, which is saved every ``save_interval`` and at
    the end (also on an exception). The local pipeline and the Ray one both store through here."""
    last_save, interval = _now(), SAVE_EVERY_S
    try:
        for batch_ids, vectors, failures in batches:
            for image_id, reason in failures:
                report.failed.append((image_id, reason))
                reporter.log(f"image {image_id} not embedded: {reason}", "warning")
            if len(batch_ids) and vectors is not None:
                with ws.transaction() as conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO embeddings(image_id, model_key, vector) VALUES (?, ?, ?)",
                        [(int(i), key, np.asarray(v, dtype=np.float32).tobytes()) for i, v in zip(batch_ids, vectors)],
                    )
                index.add(batch_ids, vectors)
                report.embedded += len(batch_ids)
            done = report.embedded + len(report.failed)
            reporter.progress(done, report.total, f"{report.embedded} embedded")
            if _now() - last_save > interval:
                started = _now()
                save_index(ws, key, index)
                last_save = _now()
                interval = save_interval(last_save - started)
    finally:
        if index.dirty:
            save_index(ws, key, index)


def ensure_embedded(
    ws: Workspace, image_ids: Sequence[int], spec: ClipSpec, reporter: Reporter | None = None
) -> IndexReport:
    """Embed fresh captures (the crawler's call)."""
    return build_index(ws, spec, reporter, only_ids=image_ids)


def _prefetched_batches(
    ws: Workspace, embedder: ClipEncoder, todo: Iterable[tuple[int, str, str]], batch_size: int, depth: int = 2
) -> Iterator[tuple[list[int], object, list[tuple[int, str]]]]:
    """Yield (ids, pixel tensor, failures) per batch, preparing ``depth`` batches ahead. ``todo``
    is read as the batches are made, at most ``depth`` batches ahead of the consumer."""
    from vspectrum_app.library import images  # Pillow: indexing decodes, a search does not

    rows = iter(todo)

    def prepare(batch: list[tuple[int, str, str]]) -> tuple[list[int], object, list[tuple[int, str]]]:
        ids: list[int] = []
        pictures: list[Any] = []
        failures: list[tuple[int, str]] = []
        for image_id, sha, ext in batch:
            try:
                data = ws.image_path(sha, ext).read_bytes()
                pictures.append(embedder.preprocess(images.decode_rgb(data, min_size=embedder.input_size)))
                ids.append(image_id)
            except (OSError, images.BadImage) as exc:
                failures.append((image_id, str(exc)))
        return ids, embedder.collate(pictures) if pictures else None, failures

    def submit_next() -> None:
        batch = list(itertools.islice(rows, batch_size))
        if batch:
            pending.append(pool.submit(prepare, batch))

    # Finished futures are dropped as they are consumed: each holds its batch's pixels, so
    # keeping them all made memory grow with the library (about 19 MB per 32 images).
    with ThreadPoolExecutor(max_workers=depth, thread_name_prefix="decode") as pool:
        pending: deque[Future[tuple[list[int], object, list[tuple[int, str]]]]] = deque()
        for _ in range(depth):
            submit_next()
        while pending:
            result = pending.popleft().result()
            submit_next()
            yield result
            del result
