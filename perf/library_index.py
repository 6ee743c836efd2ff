"""Library benchmarks (issue: foundation):

1. index throughput end to end (decode, preprocess, embed, insert) over the bare model's
   encode rate on preloaded tensors, same model and batch size, same run (goal >= 0.9);
2. HNSW search latency p50/p99 and recall@10 against exact search, clustered vectors
   (``perf.search_scale``; goal p50 < 0.5 ms at 50k, < 2 ms at 1M, recall >= 0.99);
3. keyword search end to end, text encoding included: cold, cached in memory, cached in the
   catalog.

    python -m perf.library_index [--quick] [--sizes 50000,1000000] [--images 128]
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from perf._util import percentiles_ms


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.library_index")
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--sizes", default=None, help="index sizes for the latency test (default 50000,1000000)")
    parser.add_argument("--images", type=int, default=None, help="images for the throughput test (default 128)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: throughput,latency,keyword")
    args, _ = parser.parse_known_args(argv)
    sizes = [int(s) for s in (args.sizes or ("20000" if args.quick else "50000,1000000")).split(",")]
    n_images = args.images or (64 if args.quick else 128)
    skip = set(args.skip.split(","))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VSPECTRUM_DATA_DIR"] = os.environ["VSPECTRUM_CONFIG_DIR"] = tmp
        ws = None
        if "throughput" not in skip or "keyword" not in skip:
            ws, embedder, spec = bench_throughput(Path(tmp), n_images, run="throughput" not in skip)
        if "latency" not in skip:
            bench_latency(sizes)
        if "keyword" not in skip:
            bench_keyword(ws, spec, embedder)


def _screenshot_like(i: int) -> bytes:
    """A 720x1280 JPEG with structure (gradients, blocks, noise), like a phone screenshot."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(i)
    base = np.linspace(0, 255, 1280, dtype=np.float32)[:, None, None] * rng.uniform(0.2, 1, (1, 1, 3))
    arr = np.broadcast_to(base, (1280, 720, 3)).copy()
    arr += rng.normal(0, 12, arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = rng.integers(0, 650), rng.integers(0, 1200)
        draw.rectangle(
            [x, y, x + rng.integers(20, 300), y + rng.integers(20, 200)], fill=tuple(rng.integers(0, 255, 3))
        )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def bench_throughput(tmp: Path, n_images: int, run: bool = True):
    import torch

    from vspectrum_app.encoders.embedder import ClipSpec
    from vspectrum_app.encoders.backends import load_embedder
    from vspectrum_app.library.images import decode_rgb
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import build_index
    from vspectrum_app.library.catalog import open_workspace

    spec = ClipSpec(model="ViT-B-32", pretrained=None)  # real architecture, random weights (no hub here)
    embedder = load_embedder(spec, backend="torch")  # torch vs ONNX side by side: perf/encoder_backends.py
    batch = 32
    blobs = [_screenshot_like(i) for i in range(n_images)]
    ws = open_workspace(tmp / "ws")
    for i, blob in enumerate(blobs):
        add_image(ws, blob, source_name=f"shot{i}.jpg")
    print(
        f"(1) index throughput: ViT-B-32, batch {batch}, {n_images} screenshots 720x1280, "
        f"{torch.get_num_threads()} torch threads"
    )
    if not run:
        build_index(ws, spec, embedder=embedder)
        return ws, embedder, spec
    # Baseline: the bare model on tensors already decoded and preprocessed.
    tensors = [
        embedder.preprocess_batch([decode_rgb(b, embedder.input_size) for b in blobs[i : i + batch]])
        for i in range(0, n_images, batch)
    ]
    embedder.encode_batch(tensors[0][:2])  # warm-up
    start = time.perf_counter()
    for t in tensors:
        embedder.encode_batch(t)
    bare = n_images / (time.perf_counter() - start)
    report = build_index(ws, spec, embedder=embedder, batch_size=batch)
    e2e = report.embedded / report.seconds
    print(f"  bare encode on preloaded tensors: {bare:.2f} images/s")
    print(f"  end to end (decode+preprocess+embed+commit+insert): {e2e:.2f} images/s")
    print(f"  ratio end-to-end / bare: {e2e / bare:.3f}  (goal >= 0.9)")
    return ws, embedder, spec


def bench_latency(sizes: list[int]) -> None:
    """HNSW latency and recall: ``perf.search_scale`` (the generator and method are stated there)."""
    from perf.search_scale import main as search_scale

    print("(2) HNSW search", flush=True)
    search_scale(["--sizes", ",".join(str(n) for n in sizes)])


def bench_keyword(ws, spec, embedder) -> None:
    from vspectrum_app.library.search import Searcher

    print("(3) keyword search end to end (text encoding + HNSW + catalog rows), ViT-B-32 text tower")
    words = ["handshake", "skydiving", "family dinner", "luxury car", "prayer", "police", "graduation", "concert"]
    searcher = Searcher(ws, spec, embedder=embedder)
    searcher.search("warm-up", 5)
    cold = []
    for w in words:
        t = time.perf_counter()
        searcher.search(w, 5)
        cold.append(time.perf_counter() - t)
    warm = []
    for w in words * 5:
        t = time.perf_counter()
        searcher.search(w, 5)
        warm.append(time.perf_counter() - t)
    fresh = Searcher(ws, spec, embedder=embedder)  # a new process would find the vectors in the catalog
    catalog = []
    for w in words:
        t = time.perf_counter()
        fresh.search(w, 5)
        catalog.append(time.perf_counter() - t)
    c50, _ = percentiles_ms(cold)
    w50, w99 = percentiles_ms(warm)
    k50, _ = percentiles_ms(catalog)
    print(
        f"  cold (encode text): p50 {c50:.1f} ms; cached in memory: p50 {w50:.2f} ms, p99 {w99:.2f} ms; "
        f"cached in the catalog (new searcher): p50 {k50:.2f} ms; cold/cached x{c50 / w50:.0f}"
    )


if __name__ == "__main__":
    main()
