"""``auto``'s backend: every runtime and precision measured once on this machine, the fastest that passed.

Candidates: torch (fp32 open_clip), ONNX Runtime on the export's image tower (int8 when the
export kept it) and on its fp32 one, OpenVINO on the fp32 tower in fp32 and with its fp16
hint. Each encodes the same generated screenshots and texts; it passes when every cosine to
the reference is >= 0.99 and the texts' top-10 images overlap the reference's by >= 0.95.
The reference is fp32 open_clip when torch is installed, else the fp32 ONNX towers (checked
against open_clip when exported). The result goes to ``choice.json`` in the model's export
folder with the machine it was measured on (CPU, cores, runtime versions): a models folder
copied to another machine, or a runtime upgraded, is measured again.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vspectrum_app.core.jobs import NullReporter, Reporter

# re-exported: backends asks through here, so tests hide a runtime by patching this one name
from vspectrum_app.encoders.runtimes import installed as installed

if TYPE_CHECKING:
    from PIL import Image

    from vspectrum_app.encoders.embedder import ClipEncoder, ClipSpec

MIN_COSINE, MIN_OVERLAP, TOP_K = 0.99, 0.95, 10
CHOICE_FILE = "choice.json"
N_IMAGES = 40
TEXTS = [
    "a photo of a dog",
    "family dinner at home",
    "luxury car",
    "prayer in a church",
    "police officers",
    "graduation ceremony",
    "a concert crowd",
    "skydiving",
    "a wedding",
    "football match",
    "protest in the street",
    "a bowl of ramen",
]
# (backend, precision); measured torch first, then fp32 ONNX: the first that runs is the reference
CANDIDATES = (("torch", "fp32"), ("onnx", "int8"), ("onnx", "fp32"), ("openvino", "fp32"), ("openvino", "fp16"))


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in ("onnxruntime", "openvino", "torch"):
        try:
            from importlib.metadata import version

            versions[name] = version(name) if installed(name) else None
        except Exception:
            versions[name] = None
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), **versions}


def recorded(folder: Path, meta: dict[str, Any]) -> dict[str, Any] | None:
    """The recorded choice for this export on this machine, or None."""
    try:
        choice = json.loads((Path(folder) / CHOICE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(choice, dict):  # valid JSON but not a record (hand-edited): measure again
        return None
    if choice.get("machine") != machine() or choice.get("export_created") != meta.get("created"):
        return None
    return choice


def choose(spec: ClipSpec, folder: Path, meta: dict[str, Any], reporter: Reporter | None = None) -> dict[str, Any]:
    """The recorded choice, or measure every candidate now, record and return it."""
    choice = recorded(folder, meta)
    if choice is not None:
        return choice
    reporter = reporter or NullReporter()
    reporter.log(f"measuring the embedding backends for CLIP {spec.describe()} on this machine (once)")
    choice = measure(spec, folder, meta)
    try:
        tmp = Path(folder) / f"{CHOICE_FILE}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(choice, indent=1))
        os.replace(tmp, Path(folder) / CHOICE_FILE)
    except OSError:  # a read-only models folder: measured again next time
        pass
    passed = [f"{c['backend']} {c['precision']} {c['rate']:.1f}/s" for c in choice["candidates"] if c["passed"]]
    reporter.log(
        f"embedding backend for this machine: {choice['backend']} {choice['precision']} (passed: {', '.join(passed)})"
    )
    return choice


def make(
    spec: ClipSpec, folder: Path, meta: dict[str, Any], backend: str, precision: str, threads: int | None = None
) -> ClipEncoder:
    """An embedder for one candidate; ImportError when its runtime is missing."""
    if backend == "torch":
        if not installed("torch") or not installed("open_clip"):
            raise ImportError("torch is not installed", name="torch")
        from vspectrum_app.encoders.embedder import torch_embedder

        return torch_embedder(spec, NullReporter(), "cpu")
    if backend == "onnx":
        from vspectrum_app.encoders.onnx_embedder import OnnxEmbedder

        image = meta["image_file"] if precision == "int8" else meta.get("image_fp32_file") or meta["image_file"]
        return OnnxEmbedder(spec, folder, {**meta, "image_file": image}, threads=threads)
    if not installed("openvino"):
        raise ImportError("openvino is not installed", name="openvino")
    from vspectrum_app.encoders.openvino_embedder import OpenVinoEmbedder

    return OpenVinoEmbedder(spec, folder, meta, precision, threads=threads)


def check_inputs(size: int, n: int = N_IMAGES) -> list[Image.Image]:
    """Screenshot-like pictures of several shapes, deterministic."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(7)
    shapes = [(360, 640), (640, 360), (size, size), (144, 256), (721, 1283), (500, 500), (300, 900), (1000, 240)]
    out = []
    for i in range(n):
        w, h = shapes[i % len(shapes)]
        ramp = np.linspace(0, 255, h, dtype=np.float32)[:, None, None] * rng.uniform(0.2, 1, (1, 1, 3))
        img = Image.fromarray(
            np.clip(np.broadcast_to(ramp, (h, w, 3)) + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
        )
        draw = ImageDraw.Draw(img)
        for _ in range(6):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            draw.rectangle(
                [x, y, x + int(rng.integers(5, w // 2 + 6)), y + int(rng.integers(5, h // 2 + 6))],
                fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
            )
        out.append(img)
    return out


def top_k_overlap(
    library_a: np.ndarray, library_b: np.ndarray, queries_a: np.ndarray, queries_b: np.ndarray, k: int = TOP_K
) -> float:
    """Mean share of each query's top k in library a that is also its top k in library b."""
    k = min(k, len(library_a))
    got = [
        len(set(np.argsort(-(library_a @ qa))[:k].tolist()) & set(np.argsort(-(library_b @ qb))[:k].tolist())) / k
        for qa, qb in zip(queries_a, queries_b)
    ]
    return float(np.mean(got)) if got else 1.0


def quality(reference: tuple[np.ndarray, np.ndarray], got: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    (ref_img, ref_txt), (img, txt) = reference, got
    cosine = float(min((ref_img * img).sum(axis=1).min(), (ref_txt * txt).sum(axis=1).min()))
    overlap = min(top_k_overlap(ref_img, img, ref_txt, txt), top_k_overlap(ref_img, img, ref_img, img))
    return {
        "cosine_min": round(cosine, 5),
        "overlap": round(overlap, 4),
        "passed": bool(cosine >= MIN_COSINE and overlap >= MIN_OVERLAP),
    }


def _rate(embedder: ClipEncoder, pixels: Any) -> float:
    embedder.encode_batch(pixels[:2])  # warm-up: sessions and compiled kernels
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        embedder.encode_batch(pixels)
        best = min(best, time.perf_counter() - start)
    return round(len(pixels) / best, 2)


def measure(spec: ClipSpec, folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    from vspectrum_app.encoders.clip_preprocess import Preprocess

    pictures = check_inputs(int(meta["size"]))
    pre = Preprocess(
        size=int(meta["size"]), mean=tuple(meta["mean"]), std=tuple(meta["std"]), interpolation=meta["interpolation"]
    )
    pixels = pre.batch(pictures)  # equal to open_clip's (checked at export)
    results: list[dict[str, Any]] = []
    reference = None
    for backend, precision in sorted(CANDIDATES, key=lambda c: (c != ("torch", "fp32"), c != ("onnx", "fp32"))):
        row: dict[str, Any] = {"backend": backend, "precision": precision}
        if backend == "onnx" and precision == "int8" and not meta["image_file"].endswith(".int8.onnx"):
            continue  # the export found int8 below the bar
        try:
            embedder = make(spec, folder, meta, backend, precision)
            batch = __import__("torch").from_numpy(pixels) if backend == "torch" else pixels
            vectors = (embedder.encode_batch(batch), embedder.encode_texts(TEXTS))
        except ImportError as exc:
            results.append({**row, "missing": exc.name or str(exc), "passed": False})
            continue
        except Exception as exc:  # a runtime that cannot run this graph here
            results.append({**row, "error": f"{type(exc).__name__}: {str(exc)[:160]}", "passed": False})
            continue
        if reference is None:
            reference = vectors
            row["reference"] = True
        row.update(quality(reference, vectors))
        row["rate"] = _rate(embedder, batch)
        results.append(row)
    passed = [r for r in results if r["passed"]]
    best = max(passed, key=lambda r: r["rate"]) if passed else {"backend": "torch", "precision": "fp32"}
    return {
        "backend": best["backend"],
        "precision": best["precision"],
        "candidates": results,
        "machine": machine(),
        "export_created": meta.get("created"),
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
