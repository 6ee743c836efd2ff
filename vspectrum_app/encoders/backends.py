"""Loading the CLIP encoder (``load_embedder``) and choosing its backend: ONNX Runtime or
OpenVINO when there and checked, else torch (``embedder.py``).

``onnx`` and ``openvino`` serve the model's cached ONNX export (made on first use: traced by
``onnx_export`` when torch is present, else built from the checkpoint by ``onnx_build``);
``auto`` serves what ``backend_choice`` measured fastest among the candidates that passed the
quality check on this machine. Whatever goes wrong on that side (runtime missing, export
impossible) ends in torch with one log line; only when torch is missing too is the model
unavailable.
"""

from __future__ import annotations

import threading
from typing import Any

from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.encoders.runtimes import installed
from vspectrum_app.encoders import onnx_export
from vspectrum_app.encoders.embedder import ClipEncoder, ClipModelUnavailable, ClipSpec, torch_embedder

RUNTIMES = {"onnx": ("ONNX Runtime", "onnxruntime"), "openvino": ("OpenVINO", "openvino")}
BACKENDS = ("auto", "torch", "onnx", "openvino")
_cache: dict[tuple[str, str, str], ClipEncoder] = {}
_cache_lock = threading.Lock()


def configured_backend(backend: str | None = None) -> str:
    """``backend`` if given, else $VSPECTRUM_CLIP_BACKEND, else auto."""
    from vspectrum_app.encoders.device import BACKEND_ENV, configured_choice

    try:
        return configured_choice(backend, BACKEND_ENV, BACKENDS, "embedding backend")
    except ValueError as exc:
        raise ClipModelUnavailable(str(exc)) from None


def load_embedder(
    spec: ClipSpec, reporter: Reporter | None = None, backend: str | None = None, device: str | None = None
) -> ClipEncoder:
    """Load (once per process) the model ``spec`` names; download weights on first use.

    ``backend``: torch, onnx, openvino or auto (None: the configured one, see
    ``configured_backend``); every path but torch is ``load_fast`` below, which falls back to
    the torch loader (``embedder.torch_embedder``).
    ``device``: auto, cpu, cuda or mps (None: the configured one, see ``device.py``)."""
    from vspectrum_app.encoders.device import DeviceUnavailable, configured_device

    reporter = reporter or NullReporter()
    backend = configured_backend(backend)
    try:
        device = configured_device(device)
    except DeviceUnavailable as exc:
        raise ClipModelUnavailable(str(exc)) from None
    key = (spec.model_key, backend, device)
    with _cache_lock:
        if key not in _cache:
            if backend == "torch":
                _cache[key] = torch_embedder(spec, reporter, device)
            else:
                _cache[key] = load_fast(spec, reporter, prefer=backend, device=device)
        return _cache[key]


def load_text_encoder(spec: ClipSpec, backend: str | None = None, device: str | None = None) -> ClipEncoder:
    """What a keyword search needs: the text tower alone. When the model's export exists and
    ONNX Runtime is installed, its fp32 text tower on the CPU, whichever backend ``auto``
    chose for images: no torch, no image tower, no backend measurement. Why the
    CPU: a search encodes one query, which takes a CPU milliseconds, less than a GPU session
    takes to start. ONNX Runtime is imported here, by the caller's thread (0.03 s), so that a
    search can then open its index beside the tower's start (``Searcher._open_index_meanwhile``).
    Otherwise (``--backend torch``, no export yet, no ONNX Runtime) the
    whole embedder, as ``load_embedder`` loads it."""
    if configured_backend(backend) != "torch" and installed("onnxruntime"):
        model_key = spec.model_key  # once: a checkpoint's key reads and hashes 2 MiB of it
        meta = onnx_export.cached_meta(model_key)
        if meta is not None:
            key = (model_key, "onnx-text", "cpu")
            with _cache_lock:
                if key not in _cache:
                    from vspectrum_app.encoders.onnx_embedder import OnnxEmbedder

                    folder = onnx_export.cache_folder(model_key)
                    _cache[key] = OnnxEmbedder(spec, folder, meta, ["CPUExecutionProvider"])
                return _cache[key]
    return load_embedder(spec, backend=backend, device=device)


def load_fast(
    spec: ClipSpec, reporter: Reporter, prefer: str = "auto", device: str = "auto", threads: int | None = None
) -> ClipEncoder:
    from vspectrum_app.encoders import backend_choice, precision  # not a search's imports (its text tower: above)

    meta = onnx_export.cached_meta(spec.model_key)
    folder = onnx_export.cache_folder(spec.model_key)
    if meta is None:
        if not precision.installed("torch"):
            meta = _build_without_torch(spec, reporter)
        else:
            model = torch_embedder(spec, reporter, "cpu")  # exported and checked on the CPU
            try:
                meta = onnx_export.export(model, reporter)
            except onnx_export.ExportError as exc:
                reporter.log(f"ONNX backend unavailable ({exc}); embedding with torch", "warning")
                return torch_embedder(spec, reporter, device)
    if prefer == "auto":
        choice = backend_choice.choose(spec, folder, meta, reporter)
        backend = choice["backend"]
        if backend == "torch":
            rates = {f"{c['backend']} {c['precision']}": c.get("rate") for c in choice["candidates"]}
            reporter.log(f"embedding with torch: the fastest that passed the quality check on this machine ({rates})")
            return torch_embedder(spec, reporter, device)
        row = next(c for c in choice["candidates"] if (c["backend"], c["precision"]) == (backend, choice["precision"]))
        chosen = precision.Trial(
            backend,
            choice["precision"],
            row.get("cosine_min", 0.0),
            row.get("overlap", 0.0),
            overlap_low=row.get("overlap_low", 0.0),
        )
    else:
        backend, chosen = prefer, None
    name, module = RUNTIMES[backend]
    try:
        if chosen is None:  # --backend onnx|openvino: its best passing precision, measured once
            if not precision.installed(module):
                raise ImportError(f"{module} is not installed", name=module)
            chosen = precision.best(spec, folder, meta, backend, reporter).best
            if chosen is None:
                reporter.log(f"{name}: no precision passed the quality check; embedding with torch", "warning")
                return torch_embedder(spec, reporter, device)
        from vspectrum_app.encoders.onnx_embedder import OnnxEmbedder

        embedder: OnnxEmbedder
        if backend == "openvino":
            if device not in ("auto", "cpu"):
                reporter.log(f"OpenVINO serves the CPU only here; embedding with torch on {device}", "warning")
                return torch_embedder(spec, reporter, device)
            from vspectrum_app.encoders.openvino_embedder import OpenVinoEmbedder

            image = precision.image_file(meta, chosen.precision)
            embedder = OpenVinoEmbedder(spec, folder, meta, chosen.precision, threads, image_file=image)
        else:
            from vspectrum_app.encoders.device import onnx_providers

            providers = onnx_providers(device)
            if providers is None:
                reporter.log(f"ONNX Runtime cannot use the {device} device here; embedding with torch on it", "warning")
                return torch_embedder(spec, reporter, device)
            image = precision.image_file(meta, chosen.precision)
            embedder = OnnxEmbedder(spec, folder, {**meta, "image_file": image}, providers, threads)
        embedder.chosen = chosen  # the manifest and the window say which precision embedded the vectors
        return embedder
    except ImportError:
        if not precision.installed("torch"):
            raise ClipModelUnavailable(f"Neither {name} nor torch is installed: reinstall the app.") from None
        reporter.log(f"{name} ({module}) is not installed; embedding with torch", "warning")
        return torch_embedder(spec, reporter, device)


def _build_without_torch(spec: ClipSpec, reporter: Reporter) -> dict[str, Any]:
    """The lean install: the towers built from the checkpoint (downloaded first for the default
    model), or a one-sentence reason why the model cannot be used."""
    from vspectrum_app.encoders import onnx_build, weights

    try:
        return onnx_build.build(spec, reporter)
    except weights.WeightsError as exc:
        raise ClipModelUnavailable(str(exc)) from None
    except onnx_export.ExportError as exc:
        raise ClipModelUnavailable(
            f"CLIP {spec.describe()} cannot be built without torch ({exc}); install the full version or copy an "
            f"ONNX export to {onnx_export.cache_folder(spec.model_key)}."
        ) from None
