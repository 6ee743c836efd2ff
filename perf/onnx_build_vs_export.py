"""The two ways to the ONNX towers side by side: traced with torch (``onnx_export``) and built
from the checkpoint without torch (``onnx_build``), on the tiny test model and on ViT-B-32
with random seeded weights (no pretrained weights can be downloaded here).

Per model and way: wall time to a cached model (torch's model load counted separately for
the export), the chosen files, cosine of the served embeddings to fp32 open_clip's, and the
image towers' rates on the same 16 preprocessed images (best of three alternated rounds).

    python -m perf.onnx_build_vs_export [--skip-vit]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import numpy as np

from perf._util import app_folders


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.onnx_build_vs_export")
    parser.add_argument("--skip-vit", action="store_true", help="only the tiny model (seconds, not minutes)")
    args, _ = parser.parse_known_args(argv)
    with app_folders() as tmp:
        from perf.encoder_backends import _random_vit_b_32
        from tests.plugins.clip import make_tiny_clip

        print(f"machine: {os.cpu_count()} cores (shared)")
        compare("tiny (2 layers, width 64)", make_tiny_clip(tmp / "tiny"))
        if not args.skip_vit:
            compare("ViT-B-32 (random seeded weights)", _random_vit_b_32(tmp))


def compare(label: str, spec) -> None:
    import torch

    from vspectrum_app.core.jobs import NullReporter
    from vspectrum_app.encoders import onnx_build, onnx_export
    from vspectrum_app.encoders.embedder import torch_embedder
    from vspectrum_app.encoders.onnx_embedder import OnnxEmbedder, Tower

    started = time.perf_counter()
    model = torch_embedder(spec, NullReporter(), "cpu")
    load_s = time.perf_counter() - started
    pictures = onnx_export._check_images(model.input_size[0])
    pictures = (pictures * 2)[:16]
    pixels = model.preprocess_batch(pictures)
    texts = onnx_export.CHECK_TEXTS
    with torch.inference_mode():
        ref_img = _unit(model.model.encode_image(pixels).numpy())
        ref_txt = _unit(model.model.encode_text(model.tokenizer(texts)).numpy())
    folder = onnx_export.cache_folder(spec.model_key)
    made, towers, results = {}, {}, {}
    for way in ("export", "build"):
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        meta = onnx_export.export(model, NullReporter()) if way == "export" else onnx_build.build(spec)
        seconds = time.perf_counter() - started
        made[way] = folder.with_name(f"{folder.name}-{way}")
        shutil.rmtree(made[way], ignore_errors=True)
        shutil.copytree(folder, made[way])
        served = OnnxEmbedder(spec, made[way], meta)
        img, txt = served.encode_images(pictures), served.encode_texts(texts)
        towers[way] = Tower(made[way] / meta["image_file"], "pixels")
        results[way] = img
        extra = (
            f" (+ {load_s:.1f} s loading the torch model)" if way == "export" else " (reading the checkpoint included)"
        )
        print(
            f"{label}: {way:6s} {seconds:6.1f} s{extra}; {meta['image_file']}, {meta['text_file']}; "
            f"cosine to fp32 open_clip: images >= {(ref_img * img).sum(1).min():.5f}, "
            f"texts >= {(ref_txt * txt).sum(1).min():.5f}",
            flush=True,
        )
    batch = pixels.numpy()
    best = {way: 0.0 for way in towers}
    for tower in towers.values():
        tower(batch)  # warm-up
    for _ in range(3):  # alternated, so a busy moment on the shared machine hits both
        for way, tower in towers.items():
            best[way] = max(best[way], len(batch) / _timed(lambda: tower(batch)))
    print(
        f"{label}: image tower, best of 3 alternated rounds of {len(batch)} images: "
        + ", ".join(f"{way} {rate:.1f} images/s" for way, rate in best.items())
        + f"; cosine between the two ways' image embeddings >= {(results['export'] * results['build']).sum(1).min():.5f}"
    )


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
