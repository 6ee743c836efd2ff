"""Export an open_clip model's two towers to ONNX, check them, and cache them per model key.

Needs torch, open_clip and the ``onnx`` package (export time only; serving needs only
onnxruntime). Each tower is exported in fp32; the image tower is also quantised to int8
(dynamic, weights int8, activations quantised per run: the fast path on CPUs with VNNI),
kept only when its embeddings stay within cosine 0.99 of fp32 open_clip's on the check
inputs (per-channel weights in a reduced range, then per-tensor: the fastest scheme that passes,
named in the meta's ``precision``). The text tower stays fp32: it encodes one query at a time,
so int8 buys no speed, and its rounding (cosine 0.998 on ViT-B-32) was enough to reorder a query's top 10 (overlap
0.94 on the pilot screenshots). The fp32 image tower is kept too: OpenVINO reads it, and
``backend_choice`` measures every runtime and precision once per machine to pick ``auto``'s.
Before a model is cached, the torch-free tokeniser and preprocessing must reproduce
open_clip's exactly.

The cache folder is ``<models>/onnx/<model_key>``; the key changes with the weights, so a
changed model is exported afresh. A folder is written under a temporary name and renamed,
so a crash never leaves a half export that looks complete.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from types import MethodType, ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.core.paths import models_dir

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from vspectrum_app.encoders.clip_preprocess import Preprocess
    from vspectrum_app.encoders.embedder import Embedder
    from vspectrum_app.encoders.onnx_embedder import Tower

FORMAT = 3  # 2: fp32 text tower, fp32 image tower kept beside the int8 one; 3: int8 scheme chosen and recorded
MIN_COSINE = 0.99
CHECK_TEXTS = [
    "a photo of a dog",
    "Family dinner at home!",
    "luxury car",
    "café & crème brûlée",
    "prayer",
    "POLICE officers, 2024",
    "graduation ceremony with friends and family",
    "a " + "very " * 60 + "long caption that is truncated",
]


class ExportError(Exception):
    """The model cannot be served by the ONNX backend; the message says why."""


def cache_folder(model_key: str) -> Path:
    return models_dir() / "onnx" / model_key


def cached_meta(model_key: str) -> dict[str, Any] | None:
    """The cached export's description, or None when there is no complete export of this format."""
    folder = cache_folder(model_key)
    try:
        meta: dict[str, Any] = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    files = [meta.get("image_file"), meta.get("text_file"), meta.get("vocab_file")]
    if (
        meta.get("format") != FORMAT
        or meta.get("model_key") != model_key
        or not all(f and (folder / f).is_file() for f in files)
    ):
        return None
    return meta


def export(embedder: Embedder, reporter: Reporter | None = None) -> dict[str, Any]:
    """Export the loaded torch ``Embedder`` (see ``embedder.py``); returns the cached meta."""
    reporter = reporter or NullReporter()
    try:
        import onnx  # noqa: F401  (torch's exporter needs it; imported here to fail early and clearly)
        import onnxruntime  # noqa: F401
        import torch
    except ImportError as exc:
        raise ExportError(f"{exc.name} is not installed") from None
    key = embedder.spec.model_key
    folder = cache_folder(key)
    tmp = folder.with_name(f"{key}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    reporter.log(f"exporting CLIP {embedder.spec.describe()} to ONNX (once per model)")
    try:
        pre, vocab, context_length = _torch_free_parts(embedder, tmp)
        images = _check_images(pre.size)
        pixels = pre.batch(images)
        _same_preprocessing(embedder, images, pixels)
        tokens = _same_tokens(embedder, tmp / vocab, context_length)
        with torch.inference_mode():
            ref_image = embedder.model.encode_image(torch.from_numpy(pixels)).float().numpy()
            ref_text = embedder.model.encode_text(torch.from_numpy(tokens)).float().numpy()
        _export_tower(torch, _Tower(embedder.model.encode_image), pixels[:1], "pixels", tmp / "image.fp32.onnx")
        _export_tower(torch, _Tower(embedder.model.encode_text), tokens[:1], "tokens", tmp / "text.fp32.onnx")
        image_file, image_cos, image_precision = _best_precision(tmp, "image", "pixels", pixels, ref_image)
        text_file, text_cos = "text.fp32.onnx", _min_cosine(_run(tmp / "text.fp32.onnx", "tokens", tokens), ref_text)
        if text_cos < 0.999:
            raise ExportError(f"the exported text tower does not reproduce open_clip (cosine {text_cos:.4f})")
    except ExportError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except Exception as exc:  # an architecture the exporter or runtime cannot handle
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    meta = {
        "format": FORMAT,
        "model_key": key,
        "model": embedder.spec.describe(),
        "dim": embedder.dim,
        "image_file": image_file,
        "image_fp32_file": "image.fp32.onnx",
        "text_file": text_file,
        "vocab_file": vocab,
        "context_length": context_length,
        "size": pre.size,
        "mean": list(pre.mean),
        "std": list(pre.std),
        "interpolation": pre.interpolation,
        "cosine_min": {"image": image_cos, "text": text_cos},
        "precision": {"image": image_precision, "text": "fp32"},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    reporter.log(
        f"ONNX export ready ({image_file}, {text_file}; cosine to open_clip >= {min(image_cos, text_cos):.4f})"
    )
    return meta


class _Tower:
    """Wrap one encode method as a module for the exporter (imported torch is the caller's)."""

    def __new__(cls, method: MethodType) -> torch.nn.Module:  # type: ignore[misc]  # a factory: returns a Module, not a _Tower
        import torch

        class Tower(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.owner = method.__self__

            def forward(self, x: Any) -> Any:
                return method(x)

        return Tower().eval()


def _torch_free_parts(embedder: Embedder, folder: Path) -> tuple[Preprocess, str, int]:
    """The preprocessing settings and vocabulary the ONNX backend will use, or ExportError."""
    from open_clip import tokenizer as oct
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

    from vspectrum_app.encoders.clip_preprocess import FILTERS, Preprocess

    cfg = getattr(embedder.model.visual, "preprocess_cfg", None) or {}
    size = cfg.get("size", embedder.input_size[0])
    size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
    if (
        cfg.get("resize_mode", "shortest") != "shortest"
        or size[0] != size[1]
        or cfg.get("interpolation", "bicubic") not in FILTERS
    ):
        raise ExportError(f"preprocessing {cfg} is not supported without torch (square 'shortest' resize only)")
    tok = embedder.tokenizer
    if (
        type(tok) is not oct.SimpleTokenizer
        or tok.clean_fn is not oct._clean_lower
        or tok.reduction_fn is not None
        or tok.vocab_size != 49408
    ):
        raise ExportError(f"tokeniser {type(tok).__name__} is not CLIP's plain BPE tokeniser")
    vocab = Path(oct.default_bpe())
    shutil.copyfile(vocab, folder / vocab.name)
    pre = Preprocess(
        size=int(size[0]),
        mean=tuple(float(v) for v in cfg.get("mean", OPENAI_DATASET_MEAN)),
        std=tuple(float(v) for v in cfg.get("std", OPENAI_DATASET_STD)),
        interpolation=cfg.get("interpolation", "bicubic"),
    )
    return pre, vocab.name, int(tok.context_length)


def _check_images(size: int, n: int = 8) -> list[Image.Image]:
    """Deterministic screenshot-like pictures of several shapes (portrait, landscape, small)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    shapes = [(360, 640), (640, 360), (size, size), (200, 180), (721, 1283), (500, 500), (300, 900), (1000, 240)]
    out = []
    for w, h in shapes[:n]:
        ramp = np.linspace(0, 255, h, dtype=np.float32)[:, None, None] * rng.uniform(0.2, 1, (1, 1, 3))
        arr = np.broadcast_to(ramp, (h, w, 3)) + rng.normal(0, 25, (h, w, 3))
        arr[rng.integers(0, h // 2) :, : rng.integers(1, w)] *= rng.uniform(0.1, 0.9)
        out.append(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)))
    return out


def _same_preprocessing(embedder: Embedder, images: list[Image.Image], pixels: np.ndarray) -> None:
    reference = embedder.preprocess_batch(images).numpy()
    worst = float(np.abs(reference - pixels).max())
    if worst > 1e-4:
        raise ExportError(f"torch-free preprocessing differs from open_clip's by {worst:.2g}")


def _same_tokens(embedder: Embedder, vocab: Path, context_length: int) -> np.ndarray:
    from vspectrum_app.encoders.clip_tokenizer import ClipTokenizer

    ours = ClipTokenizer(vocab, context_length)(CHECK_TEXTS)
    if not np.array_equal(ours, embedder.tokenizer(CHECK_TEXTS).numpy()):
        raise ExportError("the torch-free tokeniser does not reproduce open_clip's tokens for this model")
    return ours


def _export_tower(torch: ModuleType, module: object, example: np.ndarray, name: str, path: Path) -> None:
    import warnings

    # Grad stays enabled: without it nn.MultiheadAttention takes its fused fast path, an
    # operator the exporter cannot translate (nothing is trained: the graph is only traced).
    with warnings.catch_warnings(), torch.inference_mode(False), torch.enable_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            module,
            (torch.from_numpy(example),),
            str(path),
            input_names=[name],
            output_names=["embedding"],
            dynamic_axes={name: {0: "batch"}, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


# int8 schemes, tried in this order; the fastest that passes is kept. Per-channel weights in a
# 7-bit range first: per-tensor scales lose the small channels of a full-size ViT (cosine 0.983 on
# ViT-B-32), and on AVX2 without VNNI full-range int8 products can saturate (reduce_range avoids it).
QUANTISATIONS = (
    ("per-channel, reduced range", {"per_channel": True, "reduce_range": True}),
    ("per-tensor", {"per_channel": False, "reduce_range": False}),
)


def _best_precision(
    folder: Path, tower: str, name: str, inputs: np.ndarray, reference: np.ndarray
) -> tuple[str, float, str]:
    """(file, cosine, precision): the fastest int8 scheme that keeps cosine >= 0.99 to fp32 open_clip,
    else fp32 (which must match and is kept either way). ``precision`` names the scheme."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32, int8 = f"{tower}.fp32.onnx", f"{tower}.int8.onnx"
    passed: list[tuple[float, str, float, str]] = []  # (seconds, file, cosine, scheme)
    root = logging.getLogger()  # the quantiser logs advice meant for its developers to the root logger
    level = root.level
    for i, (scheme, options) in enumerate(QUANTISATIONS):
        candidate = f"{tower}.int8-{i}.onnx"
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(str(folder / fp32), str(folder / candidate), weight_type=QuantType.QInt8, **options)
        finally:
            root.setLevel(level)
        tower_session = _tower(folder / candidate, name)
        cos8 = _min_cosine(tower_session(inputs), reference)
        if cos8 >= MIN_COSINE:
            passed.append((_seconds(tower_session, inputs), candidate, cos8, f"int8 {scheme}"))
        else:
            (folder / candidate).unlink()
    if passed:
        _, best, cos8, scheme = min(passed)
        for _, other, _, _ in passed:
            if other != best:
                (folder / other).unlink()
        os.replace(folder / best, folder / int8)
        return int8, cos8, scheme
    cos32 = _min_cosine(_run(folder / fp32, name, inputs), reference)
    if cos32 < 0.999:
        raise ExportError(f"the exported {tower} tower does not reproduce open_clip (cosine {cos32:.4f})")
    return fp32, cos32, "fp32"


def _seconds(tower: Tower, inputs: np.ndarray) -> float:
    """The best of two timed runs after a warm-up (the candidates are measured alike, one after the other)."""
    tower(inputs[:1])
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        tower(inputs)
        best = min(best, time.perf_counter() - start)
    return best


def _tower(path: Path, name: str) -> Tower:
    from vspectrum_app.encoders.onnx_embedder import Tower

    return Tower(path, name)


def _run(path: Path, name: str, inputs: np.ndarray) -> np.ndarray:
    return _tower(path, name)(inputs)


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())
