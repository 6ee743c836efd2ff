"""``auto``'s backend: every runtime and precision measured once on this machine, the fastest that passed.

Candidates: torch (fp32 open_clip), and each backend's precisions as ``precision.choose``
tries them (ONNX Runtime: the export's dynamic int8 tower, static int8, fp32; OpenVINO: static
int8, its fp16 hint, fp32). Each encodes the same generated screenshots and texts; it passes
when every cosine to the reference is >= 0.99 and the texts' and images' top-10 neighbours
overlap the reference's by >= 0.95. The reference is fp32 open_clip when torch is installed,
else the fp32 ONNX towers (checked against open_clip when exported). The result goes to
``choice.json`` in the model's export folder with the machine it was measured on (CPU, cores,
runtime versions): a models folder copied to another machine, or a runtime upgraded, is
measured again.
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
    """An embedder for one candidate (``precision`` names the image tower's scheme, see
    ``precision.py``); ImportError when its runtime is missing."""
    from vspectrum_app.encoders.precision import image_file

    if backend == "torch":
        if not installed("torch") or not installed("open_clip"):
            raise ImportError("torch is not installed", name="torch")
        from vspectrum_app.encoders.embedder import torch_embedder

        return torch_embedder(spec, NullReporter(), "cpu")
    image = image_file(meta, precision)
    if backend == "onnx":
        from vspectrum_app.encoders.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(spec, folder, {**meta, "image_file": image}, threads=threads)
    if not installed("openvino"):
        raise ImportError("openvino is not installed", name="openvino")
    from vspectrum_app.encoders.openvino_embedder import OpenVinoEmbedder

    return OpenVinoEmbedder(spec, folder, meta, precision, threads=threads, image_file=image)


def check_inputs(size: int, n: int = N_IMAGES, seed: int = 7) -> list[Image.Image]:
    """Screenshot-like pictures of several shapes, deterministic (another seed: other pictures)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
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


def rate(embedder: ClipEncoder, pixels: Any) -> float:
    """Images/s: the best of two timed passes after a warm-up."""
    embedder.encode_batch(pixels[:2])  # warm-up: sessions and compiled kernels
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        embedder.encode_batch(pixels)
        best = min(best, time.perf_counter() - start)
    return round(len(pixels) / best, 2)


def measure(spec: ClipSpec, folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """torch fp32, then each backend's precisions (``precision.choose``) on the same pictures
    against the same reference; the fastest that passed."""
    from dataclasses import asdict

    from vspectrum_app.encoders import precision

    pixels = precision.check_pixels(meta)
    torch_row: dict[str, Any] = {"backend": "torch", "precision": "fp32"}
    try:
        torch = make(spec, folder, meta, "torch", "fp32")
        batch = __import__("torch").from_numpy(pixels)
        reference = (torch.encode_batch(batch), torch.encode_texts(TEXTS))
        torch_row.update(quality(reference, reference), reference=True, rate=rate(torch, batch))
    except ImportError as exc:
        torch_row.update(missing=exc.name or str(exc), passed=False)
        reference = precision.reference_vectors(spec, folder, meta, pixels)
    results = [torch_row]
    for backend in precision.SCHEMES:
        chosen = precision.choose(spec, folder, meta, backend, reference, pixels=pixels)
        precision.save(folder, meta, chosen, machine())  # ``--backend`` serves it without measuring again
        for trial in chosen.trials:
            row = {k: v for k, v in asdict(trial).items() if v is not None}
            if "missing" not in torch_row or (backend, trial.precision) != ("onnx", "fp32"):
                results.append(row)
            else:  # without torch the fp32 ONNX towers are the reference
                results.append({**row, "reference": True})
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
