"""Memory of `library index` and the time of a cold `library search`, by library size (issue 16, item 3).

For each size N a workspace of N generated screenshots (small distinct JPEGs written in bulk
through the real catalog schema; no thumbnails, which neither command reads), then, each in a
new process through the real CLI (``python -m vspectrum_app ...``):

1. ``library index``: its peak RSS (VmHWM). Tiny model (64-d, the tests' one): every image is
   embedded. ViT-B-32 (real architecture, random seeded weights: nothing can be downloaded
   here): embedding 50k on 2 cores takes hours, so N - ``--embed`` images get stored random
   unit vectors first (as a previous run would have left them, no index file), and the
   process embeds ``--embed`` images with ViT-B-32 while rebuilding the index from the N -
   ``--embed`` stored vectors, listing the todo over all N images; the index it ends with
   holds N vectors. Goal: flat in N apart from the index itself (N x dim x 4 bytes plus the
   graph), under 1.5 GB at 50k with ViT-B-32.
2. ``library search "<new keyword>"`` (text not cached): wall time of the whole process, the
   parts inside it (import of the CLI, text encoding, index open, the HNSW query; the encode
   may overlap the index open), and whether torch was imported. Goal: under 1 s at 50k.
   Before the timed run one search with another keyword warms the disk cache and lets the
   backend prepare its files once (a user's first search after indexing does the same).

    python -m perf.index_memory [--sizes 2000,10000,50000] [--models tiny,vit-b-32] [--embed 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

from perf._util import PEAK_MB, app_folders, clustered_unit_vectors, run_child

BASES = 64  # distinct base pictures; each file is one of them plus 4 distinct trailing bytes


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.index_memory")
    parser.add_argument("--sizes", default="2000,10000,50000")
    parser.add_argument("--models", default="tiny,vit-b-32")
    parser.add_argument("--embed", type=int, default=1000, help="images ViT-B-32 embeds per run (default 1000)")
    parser.add_argument("--backend", default="auto", help="--backend of both commands (default auto, the app's)")
    args, _ = parser.parse_known_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with app_folders() as tmp:
        print(f"machine: {os.cpu_count()} cores (shared); backend {args.backend}; sizes {sizes}", flush=True)
        for model in args.models.split(","):
            spec = _model(model, tmp)
            _prepare_backend(spec, args.backend)
            for n in sizes:
                embed = n if model == "tiny" else min(args.embed, n)
                root = make_library(tmp / f"ws-{model}-{n}", n)
                if embed < n:
                    _store_vectors(root, spec, n - embed)
                peak, seconds = index_peak(root, spec, args.backend)
                print(
                    f"  {model} N={n:>6}: `library index` embedded {embed}, indexed {n}: peak RSS {peak:.0f} MB, "
                    f"{seconds:.1f} s",
                    flush=True,
                )
                cold = cold_search(root, spec, args.backend, n)
                print(
                    f"  {model} N={n:>6}: cold `library search` {cold['wall']:.2f} s wall (goal < 1 s at 50k): "
                    f"imports {cold['imports']:.2f} s, text encode {cold['encode']:.2f} s, index open "
                    f"{cold['open']:.2f} s, query {cold['query'] * 1000:.1f} ms; torch imported: {cold['torch']}; "
                    f"peak RSS {cold['peak']:.0f} MB",
                    flush=True,
                )


def _model(name: str, tmp: Path):
    if name == "tiny":
        from tests.plugins.clip import make_tiny_clip

        spec = make_tiny_clip(tmp / "tiny")
    else:
        from perf.encoder_backends import _random_vit_b_32

        spec = _random_vit_b_32(tmp)
    print(f"model {name}: {spec.describe()}", flush=True)
    return spec


def _prepare_backend(spec, backend: str) -> None:
    """Export the model (and, for auto, measure the candidates) once, here: every later process finds them."""
    from vspectrum_app.encoders.backends import load_embedder

    start = time.perf_counter()
    embedder = load_embedder(spec, backend=backend)
    print(f"  backend ready in {time.perf_counter() - start:.1f} s: {embedder.describe()}", flush=True)


def _clip_args(spec) -> list[str]:
    return ["--clip-model", spec.model, "--clip-config", spec.config, "--clip-checkpoint", spec.checkpoint]


def make_library(root: Path, n: int) -> Path:
    """A workspace with ``n`` distinct JPEGs: files and catalog rows written in bulk (``add_image``
    verifies and thumbnails each one, minutes at 50k)."""
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.core import clock
    from vspectrum_app.library.catalog import open_workspace

    bases = [make_image_bytes(seed=i, color=(4 * i, 255 - 4 * i, 90)) for i in range(BASES)]
    ws = open_workspace(root)
    rows = []
    for i in range(n):
        data = bases[i % BASES] + i.to_bytes(4, "big")  # bytes after the JPEG's end: distinct hash, same picture
        sha = hashlib.sha256(data).hexdigest()
        path = ws.image_path(sha, "jpg")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rows.append((sha, "jpg", 96, 64, len(data), f"shot{i}.jpg", clock.now()))
    with ws.transaction() as conn:
        conn.executemany(
            "INSERT INTO images(sha256, ext, width, height, bytes, source_name, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    ws.close()
    return root


def _store_vectors(root: Path, spec, count: int) -> None:
    """Random unit vectors for the first ``count`` images, as an earlier run would have stored them."""
    from vspectrum_app.library.catalog import open_workspace
    from vspectrum_app.library.indexer import register_model

    dim = _dim(spec)
    ws = open_workspace(root)
    key = register_model(ws, spec, dim)
    vectors = clustered_unit_vectors(count, dim, clusters=max(1, count // 50))
    ids = [r[0] for r in ws.db.execute("SELECT id FROM images ORDER BY id LIMIT ?", (count,))]
    with ws.transaction() as conn:
        conn.executemany(
            "INSERT INTO embeddings(image_id, model_key, vector) VALUES (?, ?, ?)",
            [(i, key, v.tobytes()) for i, v in zip(ids, vectors)],
        )
    ws.close()


def _dim(spec) -> int:
    from vspectrum_app.encoders.backends import load_embedder

    return int(load_embedder(spec, backend="onnx").dim)


def index_peak(root: Path, spec, backend: str) -> tuple[float, float]:
    argv = ["-w", str(root), "library", "index", "--backend", backend, "--json", *_clip_args(spec)]
    got = run_child(
        f"""
import json, time
start = time.perf_counter()
from vspectrum_app.cli import main
rc = main({argv!r})
{PEAK_MB}
print(json.dumps({{'rc': rc, 'peak_mb': peak, 's': time.perf_counter() - start}}))
""",
        timeout=3600,
    )
    if got["rc"] != 0:
        raise SystemExit(f"library index failed with exit code {got['rc']}")
    return got["peak_mb"], got["s"]


# The child times the parts of the search by wrapping them (the benchmark's code, not the app's).
COLD_SEARCH = """
import json, sys, time
t0 = time.perf_counter()
from vspectrum_app.cli import main
import vspectrum_app.library.search as search
from vspectrum_app.library.index import VectorIndex
parts = {'imports': time.perf_counter() - t0, 'encode': 0.0, 'open': 0.0, 'query': 0.0}
def timed(name, fn):
    def wrapper(*a, **kw):
        t = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            parts[name] += time.perf_counter() - t
    return wrapper
search.open_index = timed('open', search.open_index)
search.Searcher.text_vectors = timed('encode', search.Searcher.text_vectors)
VectorIndex.query = timed('query', VectorIndex.query)
rc = main(ARGV)
PEAK
print(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules, 'peak': peak, **parts}))
"""


def cold_search(root: Path, spec, backend: str, n: int) -> dict:
    def run(query: str) -> tuple[dict, float]:
        argv = ["-w", str(root), "library", "search", query, "--backend", backend, "--json", *_clip_args(spec)]
        start = time.perf_counter()
        got = run_child(COLD_SEARCH.replace("ARGV", repr(argv)).replace("PEAK", PEAK_MB))
        return got, time.perf_counter() - start

    run("a warm-up query")
    got, wall = run(f"handshake {n}")
    if got["rc"] != 0:
        raise SystemExit(f"library search failed with exit code {got['rc']}")
    return {**got, "wall": wall}


if __name__ == "__main__":
    main()
