"""How big the precision check must be to tell a scheme that keeps 0.9 of a query's top 10
from one that keeps 0.95 (docs/library.md, "The quality check").

Full-size ViT-B-32 with random seeded weights (as ``perf.int8_schemes``). torch fp32 (the
reference) and each candidate image tower (the export's dynamic int8, static int8 on ONNX
Runtime and on OpenVINO, OpenVINO's fp16 hint; those installed) encode ``precision``'s check
gallery and texts plus 70 more texts; then, for galleries of the first 40, 200 and 400
pictures and the first 12, 64 and all texts, the texts' and the pictures' mean top-10 overlap
with the reference and its 95 % lower bound (``precision.overlap_bound``). The check itself
uses 400 pictures and 64 texts.

    python -m perf.precision_check [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from perf._util import app_folders

from perf.encoder_backends import QUERIES, _random_vit_b_32

MORE_TEXTS = [
    f"{a} {b}"
    for a in ("a photo of", "a screenshot of", "a drawing of", "a video of")
    for b in ("a dog", "a car", "people", "food", "a city", "text", "a phone", "a game", "money", "a church")
    + ("a protest", "a family", "sports", "nature", "a school", "an animal")
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.precision_check")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (the export is reused next time)")
    args, _ = parser.parse_known_args(argv)
    with app_folders(args.keep) as tmp:
        vectors = encode_all(_random_vit_b_32(tmp))
        report(vectors)


def encode_all(spec) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    import torch

    from tests.plugins.reporting import RecordingReporter
    from vspectrum_app.encoders import onnx_export, precision
    from vspectrum_app.encoders.embedder import torch_embedder

    meta = onnx_export.cached_meta(spec.model_key)
    if meta is None:
        meta = onnx_export.export(torch_embedder(spec, RecordingReporter(), "cpu"))
    folder = onnx_export.cache_folder(spec.model_key)
    texts = list(dict.fromkeys(precision.TEXTS + QUERIES + MORE_TEXTS))
    pixels = precision.check_pixels(meta)
    candidates = [("torch", "fp32"), ("onnx", meta["precision"]["image"]), ("onnx", precision.STATIC)]
    if precision.installed("openvino"):
        candidates += [("openvino", precision.STATIC), ("openvino", "fp16")]
    precision.make_static_int8(folder, meta)
    print(f"{len(pixels)} check pictures, {len(texts)} texts; load average {os.getloadavg()[0]:.1f}", flush=True)
    out = {}
    for backend, scheme in candidates:
        embedder = precision.make(spec, folder, meta, backend, scheme)
        batch = torch.from_numpy(pixels) if backend == "torch" else pixels
        start = time.perf_counter()
        images = embedder.encode_batch(batch)
        seconds = time.perf_counter() - start
        out[f"{backend} {scheme}"] = (images, embedder.encode_texts(texts))
        print(f"  {backend} {scheme}: {len(images) / seconds:.2f} images/s", flush=True)
    return out


def report(vectors: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    from vspectrum_app.encoders.precision import overlap_bound, shared_top_k

    ref_images, ref_texts = vectors.pop("torch fp32")
    print(f"  {'candidate':34} {'pictures':>8} {'texts':>5}  text mean / 95 % low   picture mean / 95 % low")
    for name, (images, texts) in vectors.items():
        cosine = min(float((ref_images * images).sum(1).min()), float((ref_texts * texts).sum(1).min()))
        for n in (40, 200, 400):
            for q in (12, 64, len(ref_texts)):
                text = overlap_bound(shared_top_k(ref_images[:n], images[:n], ref_texts[:q], texts[:q]))
                picture = overlap_bound(
                    shared_top_k(ref_images[:n], images[:n], ref_images[:n], images[:n], in_library=True)
                )
                print(
                    f"  {name + f' (cosine {cosine:.4f})':34} {n:8} {q:5}  {text[0]:.3f} / {text[1]:.3f}"
                    f"{'':13}{picture[0]:.3f} / {picture[1]:.3f}"
                )


if __name__ == "__main__":
    main()
