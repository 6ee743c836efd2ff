"""Embedding on the GPU against the in-run CPU baseline (issue: the GPU when there is one):

1. bare fp32 open_clip on the CPU, on preloaded pixels, batch 32: the baseline;
2. the same network on the device the product chooses (``--device auto``: CUDA, then MPS),
   through the product's embedder with its own precision (fp16 on CUDA) and batch size
   (from free GPU memory), on preloaded pixels: images/s and ratio to the baseline;
3. end to end ``build_index`` on that device over a generated library (decode and
   preprocess on CPU threads, overlapped with the GPU): images/s, ratio to the baseline and
   to the bare GPU rate.

The model is the default architecture (``--model``, any open_clip name) with random weights
seeded identically for both devices, so no download is needed; the cosine between the GPU's
and the CPU's embeddings of the same images is printed as a sanity check of fp16. Without a
GPU only the baseline is measured.

    python -m perf.gpu_embed [--images 4096] [--cpu-images 128] [--model ViT-B-32]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

DISTINCT = 64  # generated pictures; the library repeats them with distinct bytes appended


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.gpu_embed")
    parser.add_argument("--images", type=int, default=None, help="images on the GPU (default 4096)")
    parser.add_argument("--cpu-images", type=int, default=128, help="images for the CPU baseline (default 128)")
    parser.add_argument("--model", default="ViT-B-32", help="open_clip architecture (random weights)")
    args, _ = parser.parse_known_args(argv)
    n_gpu = args.images or 4096
    n_cpu = min(args.cpu_images, n_gpu)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from vspectrum_app.encoders.device import torch_availability
    from vspectrum_app.encoders.embedder import ClipSpec

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VSPECTRUM_DATA_DIR"] = os.environ["VSPECTRUM_CONFIG_DIR"] = tmp
        spec = ClipSpec(model=args.model, pretrained=None)
        blobs = _library(n_gpu)
        print(
            f"machine: {os.cpu_count()} cores, {torch.get_num_threads()} torch threads; {args.model}, random "
            f"seeded weights; generated 720x1280 screenshots",
            flush=True,
        )
        cpu = _embedder(spec, "cpu")
        baseline, cpu_vectors = bare_rate(cpu, blobs[:n_cpu], cpu.batch_size)
        print(
            f"(1) CPU baseline, bare fp32 open_clip, batch {cpu.batch_size}: {baseline:.2f} images/s ({n_cpu} images)"
        )
        cuda, mps = torch_availability()
        if not (cuda or mps):
            print("No CUDA or MPS GPU is visible to torch here, so only the CPU baseline was measured.")
            return
        gpu = _embedder(spec, "auto")
        name = torch.cuda.get_device_name(0) if gpu.device == "cuda" else "Apple MPS"
        batch = gpu.batch_size
        print(
            f"device: {gpu.device} ({name}); precision {'fp16' if gpu.fp16 else 'fp32'}; "
            f"batch {batch} (chosen by the product{_free_memory(gpu.device)})",
            flush=True,
        )
        rate, gpu_vectors = bare_rate(gpu, blobs, batch)
        cos = (gpu_vectors[:n_cpu] * cpu_vectors).sum(axis=1)
        print(
            f"(2) bare on {gpu.device}, preloaded pixels: {rate:.2f} images/s ({n_gpu} images); "
            f"ratio to the CPU baseline {rate / baseline:.1f}; cosine to the CPU's fp32 vectors min {cos.min():.4f}"
        )
        e2e = end_to_end(Path(tmp), spec, gpu, blobs)
        print(
            f"(3) end to end build_index on {gpu.device} (decode on CPU threads overlapped): {e2e:.2f} images/s; "
            f"ratio to the CPU baseline {e2e / baseline:.1f}, to the bare {gpu.device} rate {e2e / rate:.3f}"
        )


def _library(n: int) -> list[bytes]:
    """``n`` screenshot-like JPEGs, distinct by content hash (bytes after the JPEG's end marker
    are ignored by decoders), generated from ``DISTINCT`` pictures to keep the set-up short."""
    from perf.library_index import _screenshot_like

    pictures = [_screenshot_like(i) for i in range(min(n, DISTINCT))]
    return [pictures[i % len(pictures)] + i.to_bytes(4, "big") for i in range(n)]


def _embedder(spec, device: str):
    import torch

    from vspectrum_app.encoders.backends import load_embedder

    torch.manual_seed(0)  # the same random network on every device
    return load_embedder(spec, backend="torch", device=device)


def bare_rate(embedder, blobs: list[bytes], batch: int) -> tuple[float, np.ndarray]:
    """Images/s of ``encode_batch`` on pixels decoded and preprocessed beforehand (on the CPU;
    the copy to the device is part of the product's path and of the time), and the vectors."""
    from vspectrum_app.library.images import decode_rgb

    pixels = [
        embedder.preprocess_batch([decode_rgb(b, embedder.input_size) for b in blobs[i : i + batch]])
        for i in range(0, len(blobs), batch)
    ]
    for _ in range(2):  # warm-up: allocator, kernel selection
        embedder.encode_batch(pixels[0])
    start = time.perf_counter()
    vectors = [embedder.encode_batch(p) for p in pixels]  # returns numpy: each call waits for the device
    return len(blobs) / (time.perf_counter() - start), np.concatenate(vectors)


def end_to_end(tmp: Path, spec, embedder, blobs: list[bytes]) -> float:
    from vspectrum_app.library.catalog import open_workspace
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import build_index

    ws = open_workspace(tmp / "ws")
    for i, blob in enumerate(blobs):
        add_image(ws, blob, source_name=f"shot{i}.jpg")
    report = build_index(ws, spec, embedder=embedder)  # batch size: the embedder's own
    ws.close()
    return report.embedded / report.seconds


def _free_memory(device: str) -> str:
    if device != "cuda":
        return ""
    import torch

    free, total = torch.cuda.mem_get_info()
    return f" from {free / 2**30:.0f} of {total / 2**30:.0f} GiB free"


if __name__ == "__main__":
    main()
