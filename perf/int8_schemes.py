"""Each backend's precision choice on a full-size ViT-B-32, and indexing with it against torch, in one run.

ViT-B-32 architecture with random seeded weights (open_clip builds it; nothing is
downloaded), saved as a checkpoint the Settings point at, as a user's own model would be.

1. ``--backend onnx`` and ``--backend openvino`` (when installed) load as the app does: the
   export (its dynamic int8 schemes, per-channel in a reduced range first), then
   ``precision.choose`` times every scheme the backend runs on the first generated check
   pictures and checks them, fastest first, on the whole check gallery until one passes;
   every trial is printed (cosine min, mean top-10 overlap and its 95 % lower bound,
   images/s, or why it was not checked) with the time the choice took.
2. ``build_index`` over N generated 720x1280 screenshots (default 400) with torch fp32 and
   with each backend's chosen precision, each on a fresh workspace, alternated rounds (best
   of two): images/s and the ratio to torch (goal >= 2). Same search results: the queries'
   top-10 from each index's stored vectors against torch's (text queries, each backend's own
   text tower, and image queries; goal >= 0.9), and the largest difference of a query-image
   similarity over every pair (goal <= 0.02).

    python -m perf.int8_schemes [--images 400] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np

from perf._util import app_folders

from perf.encoder_backends import QUERIES, _random_vit_b_32


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.int8_schemes")
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2, help="alternated indexing rounds per backend (best kept)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (the export is reused next time)")
    args, _ = parser.parse_known_args(argv)
    with app_folders(args.keep) as tmp:
        spec = _random_vit_b_32(tmp)
        print(f"machine: {os.cpu_count()} cores (shared); ViT-B-32, random seeded weights", flush=True)
        embedders, choices = load_backends(spec)
        from perf.library_index import _screenshot_like

        blobs = [_screenshot_like(i) for i in range(args.images)]
        index_all(tmp, spec, embedders, choices, blobs, args.rounds)


def load_backends(spec):
    """torch, and each fast backend as ``--backend`` loads it (export, then its precision choice)."""
    from tests.plugins.reporting import RecordingReporter
    from vspectrum_app.encoders import onnx_export, precision
    from vspectrum_app.encoders.backends import load_embedder

    embedders = {"torch": load_embedder(spec, backend="torch")}
    choices = {}
    print("(1) precision per backend: every scheme tried on the check pictures, the fastest that passes kept")
    print(
        f"  {'backend':9} {'precision':32} {'cosine min':>10} {'top-10 overlap':>14} {'95 % low':>8} "
        f"{'images/s':>9}  passed"
    )
    for backend in ("onnx", "openvino"):
        if not precision.installed(backend if backend == "openvino" else "onnxruntime"):
            print(f"  {backend}: not installed")
            continue
        reporter = RecordingReporter()
        start = time.perf_counter()
        embedder = load_embedder(spec, reporter, backend=backend)
        seconds = time.perf_counter() - start
        for e in reporter.of_type("log"):
            if e["level"] == "warning" or "measured in" in e["message"]:
                print(f"  {e['level']}: {e['message']}")
        folder = onnx_export.cache_folder(spec.model_key)
        choice = precision.recorded(folder, onnx_export.cached_meta(spec.model_key) or {}, backend)
        if choice is None or embedder.backend != backend:
            print(f"  {backend}: fell back to {embedder.describe()}")
            continue
        for t in choice.trials:
            if t.missing or t.error:
                print(f"  {backend:9} {t.precision:32} {t.missing or t.error}")
            elif t.skipped:
                print(f"  {backend:9} {t.precision:32} {'':10} {'':14} {'':8} {t.rate:9.2f}  not checked: {t.skipped}")
            else:
                print(
                    f"  {backend:9} {t.precision:32} {t.cosine_min:10.5f} {t.overlap:14.3f} {t.overlap_low:8.3f} "
                    f"{t.rate:9.2f}  {'yes' if t.passed else 'no'}"
                )
        print(f"  -> {choice.summary()}; loading took {seconds:.0f} s (export, quantisation, measurement: once)")
        embedders[backend], choices[backend] = embedder, choice.best
    return embedders, choices


def index_all(tmp: Path, spec, embedders, choices, blobs: list[bytes], rounds: int) -> None:
    from vspectrum_app.library.catalog import open_workspace
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import build_index, load_vectors

    print(
        f"(2) build_index over {len(blobs)} generated 720x1280 screenshots, alternated rounds, best of {rounds}",
        flush=True,
    )
    rates = {name: 0.0 for name in embedders}
    vectors: dict[str, np.ndarray] = {}
    for r in range(rounds):
        for name, e in embedders.items():
            root = tmp / f"ws-{name}-{r}"
            shutil.rmtree(root, ignore_errors=True)  # a kept folder's earlier run
            ws = open_workspace(root)
            for i, blob in enumerate(blobs):
                add_image(ws, blob, source_name=f"shot{i}.jpg")
            report = build_index(ws, spec, embedder=e)
            assert report.embedded == len(blobs), report
            rates[name] = max(rates[name], report.embedded / report.seconds)
            ids, vecs = load_vectors(ws, report.model_key)
            vectors[name] = vecs[np.argsort(ids)]
            ws.close()
            shutil.rmtree(root, ignore_errors=True)
            print(f"  round {r + 1} {name}: {report.embedded / report.seconds:.2f} images/s", flush=True)
    texts = {name: e.encode_texts(QUERIES) for name, e in embedders.items()}
    ref, ref_text = vectors["torch"], texts["torch"]
    print(
        f"  {'backend':9} {'precision':32} {'cosine min':>10} {'images/s':>9} {'x torch':>8} "
        f"{'top-10 overlap text/image':>26} {'max |sim diff|':>14}"
    )
    print(f"  {'torch':9} {'fp32':32} {1.0:10.5f} {rates['torch']:9.2f} {1.0:8.2f} {'1.000 / 1.000':>26} {0.0:14.4f}")
    for name in [n for n in embedders if n != "torch"]:
        got, got_text = vectors[name], texts[name]
        cos = float((ref * got).sum(axis=1).min())
        text_overlap = _overlap(ref, got, ref_text, got_text)
        image_overlap = _overlap(ref, got, ref[:50], got[:50])
        diff = max(
            float(np.abs(ref_text @ ref.T - got_text @ got.T).max()),
            float(np.abs(ref[:50] @ ref.T - got[:50] @ got.T).max()),
        )
        chosen = choices[name]
        print(
            f"  {name:9} {chosen.precision:32} {cos:10.5f} {rates[name]:9.2f} {rates[name] / rates['torch']:8.2f} "
            f"{f'{text_overlap:.3f} / {image_overlap:.3f}':>26} {diff:14.4f}",
            flush=True,
        )
    print("  goals: x torch >= 2, top-10 overlap >= 0.9, max |sim diff| <= 0.02 (cosine min: 400 indexed images)")


def _overlap(lib_a, lib_b, q_a, q_b, k: int = 10) -> float:
    from vspectrum_app.encoders.precision import top_k_overlap

    return top_k_overlap(lib_a, lib_b, q_a, q_b, k)


if __name__ == "__main__":
    main()
