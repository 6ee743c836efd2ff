"""Choosing the embedding backend: ONNX Runtime when it is there and passed its checks, else torch.

``onnx`` serves the model's cached export (made on first use: traced by ``onnx_export`` when
torch is present, else built from the checkpoint by ``onnx_build``); ``auto`` does the same but keeps torch when the export's one-time timing on
this machine found torch faster. Whatever goes wrong on the ONNX side (runtime missing,
export impossible) ends in torch with one log line; only when torch is missing too is the
model unavailable.
"""

from __future__ import annotations

import importlib.util

from vspectrum_app.core.jobs import Reporter
from vspectrum_app.library import onnx_export
from vspectrum_app.library.embedder import ClipEncoder, ClipModelUnavailable, ClipSpec, torch_embedder


def load_fast(spec: ClipSpec, reporter: Reporter, prefer: str = "auto", device: str = "auto") -> ClipEncoder:
    meta = onnx_export.cached_meta(spec.model_key)
    if meta is None:
        if not _installed("torch"):
            meta = _build_without_torch(spec, reporter)
        else:
            model = torch_embedder(spec, reporter, "cpu")  # exported and checked on the CPU
            try:
                meta = onnx_export.export(model, reporter)
            except onnx_export.ExportError as exc:
                reporter.log(f"ONNX backend unavailable ({exc}); embedding with torch", "warning")
                return torch_embedder(spec, reporter, device)
    if prefer == "auto" and meta.get("faster") != "onnx":
        rates = meta.get("rate_images_per_s", {})
        reporter.log(f"embedding with torch: faster than ONNX for this model on this machine ({rates})")
        return torch_embedder(spec, reporter, device)
    from vspectrum_app.library.device import onnx_providers
    from vspectrum_app.library.onnx_embedder import OnnxEmbedder

    try:
        providers = onnx_providers(device)
        if providers is None:
            reporter.log(f"ONNX Runtime cannot use the {device} device here; embedding with torch on it", "warning")
            return torch_embedder(spec, reporter, device)
        return OnnxEmbedder(spec, onnx_export.cache_folder(spec.model_key), meta, providers)
    except ImportError:
        if not _installed("torch"):
            raise ClipModelUnavailable("Neither ONNX Runtime nor torch is installed: reinstall the app.") from None
        reporter.log("ONNX Runtime (onnxruntime) is not installed; embedding with torch", "warning")
        return torch_embedder(spec, reporter, device)


def _build_without_torch(spec: ClipSpec, reporter: Reporter) -> dict:
    """The lean install: the towers built from the checkpoint (downloaded first for the default
    model), or a one-sentence reason why the model cannot be used."""
    from vspectrum_app.library import onnx_build, weights

    try:
        return onnx_build.build(spec, reporter)
    except weights.WeightsError as exc:
        raise ClipModelUnavailable(str(exc)) from None
    except onnx_export.ExportError as exc:
        raise ClipModelUnavailable(
            f"CLIP {spec.describe()} cannot be built without torch ({exc}); install the full version or copy an "
            f"ONNX export to {onnx_export.cache_folder(spec.model_key)}.") from None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules (hidden on purpose)
        return False
