"""A cold ``vspectrum library search`` at 50k images with ViT-B-32, against the torch path in
the same run (issue 30, item 2).

ViT-B-32's real architecture with random seeded weights (``perf.encoder_backends``: nothing
can be downloaded here, open_clip builds it); a workspace of ``--n`` catalogued screenshots
whose stored vectors are clustered random unit vectors (``perf.index_memory``; embedding 50k
on two cores takes hours, and the search only reads the index). Setup, done once and kept
under ``--cache``: the checkpoint, the ONNX export (and auto's recorded choice), the library,
and its index (built by a first search).

Each timed run is a new process, ``python -m vspectrum_app -w WS library search "<keyword>"
--json --backend B`` with a keyword never searched before (its text vector is not cached in
the catalog), timed from outside (interpreter start included). Rounds alternate the backends
(the shared machine's load drifts); the median per backend is quoted with the ratio
torch / backend, and each child's CPU time (user + system: on a shared machine it moves
less with the load than the wall time does). Each child also reports whether torch or
open_clip was imported. ``--before DIR``: the fast paths of another checkout of the project
too (e.g. ``git archive main | tar -x -C DIR``), in the same rounds, for a before/after
table from one run. Last, one ``python -X importtime`` run of the fast path lists the
imports that cost most.

    python -m perf.cold_search [--n 50000] [--rounds 5] [--backends auto,onnx] [--cache DIR] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = (
    "import json, runpy, sys, time; sys.argv = ['vspectrum', *ARGV]\n"
    "try:\n    runpy.run_module('vspectrum_app', run_name='__main__')\nexcept SystemExit as e:\n    rc = e.code\n"
    "print(json.dumps({'rc': rc, 'heavy': sorted(m for m in ('torch', 'open_clip', 'openvino') if m in sys.modules)}))"
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.cold_search")
    parser.add_argument("--n", type=int, default=50_000, help="images in the library")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default="auto,onnx", help="fast paths measured against torch")
    parser.add_argument("--cache", type=Path, default=None, help="keep the model, export and library here")
    parser.add_argument("--before", type=Path, default=None, help="also time the fast paths of this checkout")
    args, _ = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "VSPECTRUM_DATA_DIR": str(cache / "data"),
            "VSPECTRUM_CONFIG_DIR": str(cache / "config"),
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(env)
        spec = _model(cache)
        ws = _library(cache, spec, args.n)
        clip = ["--clip-model", spec.model, "--clip-config", spec.config, "--clip-checkpoint", spec.checkpoint]
        fast = args.backends.split(",")
        runs = [("torch", ROOT), *((b, ROOT) for b in fast)]
        if args.before:
            runs += [(b, args.before.resolve()) for b in fast]
        label = {run: run[0] if run[1] == ROOT else f"{run[0]} (before)" for run in runs}
        for b, root in runs:  # warm-up: the disk cache, the index (built by the first), the optimised text graph
            _search(ws, clip, b, f"warm-up {b}", env, root)
        print(
            f"machine: {os.cpu_count()} cores (shared), load average {_load()}; ViT-B-32 random weights; "
            f"{args.n:,} images indexed; cold `library search` in a new process, {args.rounds} rounds alternating",
            flush=True,
        )
        walls: dict[tuple[str, Path], list[float]] = {run: [] for run in runs}
        cpus: dict[tuple[str, Path], list[float]] = {run: [] for run in runs}
        heavy: dict[tuple[str, Path], set[str]] = {run: set() for run in runs}
        stamp = int(time.time())
        for r in range(args.rounds):
            for run in runs:
                wall, cpu, loaded = _search(ws, clip, run[0], f"keyword {stamp} {r} {label[run]}", env, run[1])
                walls[run].append(wall)
                cpus[run].append(cpu)
                heavy[run] |= set(loaded)
        base = statistics.median(walls[runs[0]])
        print(f"  load average after: {_load()}")
        width = max(len(v) for v in label.values())
        print(f"  {'backend':<{width}} {'median':>8} {'min':>7} {'max':>7}  {'torch/this':>10}  {'CPU':>6}  imported")
        for run in runs:
            med = statistics.median(walls[run])
            print(
                f"  {label[run]:<{width}} {med:>7.2f}s {min(walls[run]):>6.2f}s {max(walls[run]):>6.2f}s  "
                f"{base / med:>9.2f}x  {statistics.median(cpus[run]):>5.2f}s  {', '.join(sorted(heavy[run])) or '-'}",
                flush=True,
            )
        print("  goal: >= 3x the torch path and under 1 s")
        _importtime(ws, clip, fast[0], env)


def _model(cache: Path):
    """The random ViT-B-32 checkpoint and its ONNX export (and auto's choice), made once."""
    from vspectrum_app.core.settings import Settings
    from vspectrum_app.encoders.embedder import ClipSpec

    if not (cache / "vit-b-32-random.pt").exists():
        from perf.encoder_backends import _random_vit_b_32

        _random_vit_b_32(cache)
    spec = ClipSpec.from_settings(Settings.load())
    from vspectrum_app.encoders.backends import load_embedder

    start = time.perf_counter()
    embedder = load_embedder(spec, backend="auto")
    print(f"model ready in {time.perf_counter() - start:.1f} s (auto: {embedder.describe()})", flush=True)
    return spec


def _library(cache: Path, spec, n: int) -> Path:
    root = cache / f"ws-{n}"
    if not (root / ".ready").exists():
        from perf.index_memory import _store_vectors, make_library

        start = time.perf_counter()
        make_library(root, n)
        _store_vectors(root, spec, n)
        (root / ".ready").write_text("")
        print(f"library of {n:,} made in {time.perf_counter() - start:.0f} s", flush=True)
    return root


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _search(
    ws: Path, clip: list[str], backend: str, query: str, env: dict, root: Path = ROOT
) -> tuple[float, float, list[str]]:
    """(wall seconds, CPU seconds, heavy modules imported) of one search in a new process."""
    argv = ["-w", str(ws), "library", "search", query, "--json", "--backend", backend, *clip]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD.replace("ARGV", repr(argv))],
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    last = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"rc": done.returncode}
    if done.returncode != 0 or last["rc"] not in (0, None):
        raise SystemExit(f"search with {backend} failed: {done.stderr[-1500:]}")
    return wall, cpu, last["heavy"]


def _importtime(ws: Path, clip: list[str], backend: str, env: dict, top: int = 12) -> None:
    argv = ["-w", str(ws), "library", "search", f"importtime {time.time()}", "--json", "--backend", backend, *clip]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vspectrum_app", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _self, cumulative, name = line[len("import time:") :].split("|")
            rows.append((int(cumulative), len(name) - len(name.lstrip()), name.strip()))
    roots = [r for r in rows if r[1] <= 1]  # top-level imports (what the process itself asked for)
    total = sum(r[0] for r in roots) / 1e6
    print(f"  -X importtime, {backend}: {total:.2f} s of imports; top-level ones costing most:")
    for cumulative, _depth, name in sorted(roots, reverse=True)[:top]:
        print(f"    {cumulative / 1e3:>7.1f} ms  {name}")


if __name__ == "__main__":
    main()
