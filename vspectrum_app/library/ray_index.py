"""Embed a library on a Ray cluster (``vspectrum library index --ray [ADDRESS]``).

Ray Data reads the list of images still to embed, and ``map_batches`` runs the CLIP encoder
on a pool of actors, one per CPU (or per GPU when the cluster has GPUs): each actor loads
the model once, reads its images from their paths (the workspace must be readable at the
same path on every node, see docs/scale.md), and returns unit vectors. The driver streams
the vectors back and stores them through ``indexer.store_batches``, the local pipeline's
storage path: committed to the catalog batch by batch, then added to the index. A driver
that is killed loses at most the batches in flight, and the next run embeds only what the
catalog lacks. Ray is an optional extra (``pip install vspectrum[ray]``).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from vspectrum_app.core import diskspace
from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.library import catalog
from vspectrum_app.encoders.embedder import ClipSpec
from vspectrum_app.library.indexer import (
    MIN_FREE_BYTES,
    IndexReport,
    calibrate_if_due,
    missing_images,
    open_index,
    register_model,
    store_batches,
)
from vspectrum_app.core.workspace import Workspace

MISSING = "indexing on Ray needs the optional Ray extra: pip install 'vspectrum[ray]'"


class RayUnavailable(Exception):
    """Ray is not installed, or the cluster cannot be reached (the message says which)."""


class ImageEncoder:
    """The Ray actor: one model per actor, a batch of image paths in, unit vectors out.
    A file that cannot be read or decoded comes back with an empty vector and its reason."""

    def __init__(self, spec: dict[str, Any], backend: str | None, device: str | None):
        from vspectrum_app.encoders.backends import load_embedder

        self.embedder = load_embedder(ClipSpec(**spec), backend=backend, device=device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from vspectrum_app.library import images

        embedder, pictures, errors = self.embedder, [], []
        for path in batch["path"]:
            try:
                pictures.append(embedder.preprocess(images.decode_rgb(Path(path).read_bytes(), embedder.input_size)))
                errors.append("")
            except (OSError, images.BadImage) as exc:
                errors.append(str(exc) or type(exc).__name__)
        vectors = np.zeros((len(errors), embedder.dim), dtype=np.float32)
        ok = np.array([not e for e in errors], dtype=bool)
        if pictures:
            vectors[ok] = embedder.encode_batch(embedder.collate(pictures))
        return {
            "id": np.asarray(batch["id"], dtype=np.int64),
            "vector": vectors,
            "error": np.array(errors, dtype=object),
        }


def build_index_on_ray(
    ws: Workspace,
    spec: ClipSpec,
    address: str | None = None,
    reporter: Reporter | None = None,
    batch_size: int | None = None,
    only_ids: Sequence[int] | None = None,
    backend: str | None = None,
    device: str | None = None,
) -> IndexReport:
    """Embed every image (or ``only_ids``) without a vector for ``spec`` on Ray and store the
    vectors as ``build_index`` does. ``address``: a running cluster ("auto", "ray://host:10001",
    "host:6379"); None or "": the cluster Ray finds itself (RAY_ADDRESS), else a local one."""
    from vspectrum_app.encoders.backends import configured_backend

    reporter = reporter or NullReporter()
    ray = _import_ray()
    backend = configured_backend(backend)  # this machine's setting, not each node's
    start = time.monotonic()
    key = spec.model_key
    todo = missing_images(ws, key, only_ids)
    report = IndexReport(model_key=key, total=len(todo))
    if not todo:
        known_dim = catalog.model_dim(ws, key)
        if known_dim is not None:  # nothing to embed; still repair the index against the catalog
            report.repaired = open_index(ws, key, known_dim, reporter)[1]
        report.seconds = time.monotonic() - start
        return report
    _embed_on_ray(ray, ws, spec, address, reporter, todo, report, batch_size, backend, device)
    report.seconds = time.monotonic() - start
    return report


def _embed_on_ray(
    ray: Any,
    ws: Workspace,
    spec: ClipSpec,
    address: str | None,
    reporter: Reporter,
    todo: list[tuple[int, str, str]],
    report: IndexReport,
    batch_size: int | None,
    backend: str | None,
    device: str | None,
) -> None:
    key = spec.model_key
    _connect(ray, address)
    reporter.progress(0, len(todo), f"embedding with {spec.describe()} on Ray ({_slots(ray)})")
    batches = _embedded_batches(ray, ws, spec, todo, batch_size or 32, backend, device)
    first = next(batches, None)  # the vectors' dimension comes from the model, on the cluster
    if first is not None:
        dim = first[1].shape[1]  # (rows, dim) even when every image of the batch failed
        register_model(ws, spec, dim)
        index, report.repaired = open_index(ws, key, dim, reporter)
        diskspace.require_free(ws.root, len(todo) * dim * 4 * 4 + MIN_FREE_BYTES)

        def checked() -> Iterator[tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]]:
            for batch in itertools.chain([first], batches):
                yield batch
                reporter.check_cancelled()

        store_batches(ws, key, index, checked(), report, reporter)
        calibrate_if_due(ws, key, index, reporter)


def _embedded_batches(
    ray: Any,
    ws: Workspace,
    spec: ClipSpec,
    todo: list[tuple[int, str, str]],
    batch_size: int,
    backend: str | None,
    device: str | None,
) -> Iterator[tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]]:
    """(ids, vectors, failures) per batch as the actors finish them (any order)."""
    gpus = int(ray.cluster_resources().get("GPU", 0))
    actors = gpus or max(1, int(ray.cluster_resources().get("CPU", 1)))
    items = [{"id": image_id, "path": str(ws.image_path(sha, ext))} for image_id, sha, ext in todo]
    # blocks of about one batch, so the actors start at once and the driver gets vectors early
    dataset = ray.data.from_items(items, override_num_blocks=max(1, min(len(items) // batch_size, 10_000)))
    encoded = dataset.map_batches(
        ImageEncoder,
        batch_size=batch_size,
        batch_format="numpy",
        fn_constructor_kwargs={
            "spec": spec.to_json(),
            "backend": backend,
            "device": device or ("cuda" if gpus else "cpu"),
        },
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=1,
        num_gpus=1 if gpus else 0,
    )
    for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
        ok = batch["error"] == ""
        failures = [(int(i), str(e)) for i, e in zip(batch["id"][~ok], batch["error"][~ok])]
        yield batch["id"][ok], batch["vector"][ok], failures


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - the extra installs both; a bare ``ray`` lacks Data
    except ImportError:
        raise RayUnavailable(MISSING) from None
    _cluster_errors_to_stderr(ray)
    return ray


def _cluster_errors_to_stderr(ray: Any) -> None:
    """Ray's driver prints its cluster's errors (a task retried, a node lost) to stdout, with or
    without log_to_driver, at any time while the process lives; stdout is the report's (--json).
    They go to stderr instead (a private hook of Ray's: left alone where it is not there)."""
    worker: Any = getattr(getattr(ray, "_private", None), "worker", None)
    original = getattr(worker, "print_to_stdstream", None)
    if original is None or getattr(original, "to_stderr", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    to_stderr.to_stderr = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def _connect(ray: Any, address: str | None) -> None:
    if ray.is_initialized():
        return
    try:
        if address:  # a remote cluster gets this package shipped with the job; its nodes need the deps
            import vspectrum_app

            ray.init(
                address=address,
                runtime_env={"py_modules": [str(Path(vspectrum_app.__file__).parent)]},
                log_to_driver=False,
            )
        else:
            ray.init(log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailable(
            f"cannot reach the Ray cluster at {address or 'the default address'}: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None


def _slots(ray: Any) -> str:
    res = ray.cluster_resources()
    return f"{int(res.get('CPU', 0))} CPUs, {int(res.get('GPU', 0))} GPUs"
