"""Benchmark engine against the local fake VLM server (issue: benchmark engine):

1. throughput with a fixed server latency L and concurrency C, over the ideal C / L
   (goal >= 0.9);
2. the rate limiter: most requests the server saw in any window, against the limit
   (a 6 s window stands in for 60 s so the benchmark stays short; same code);
3. a cached re-run's wall time over the first run's (goal < 0.02).

    python -m perf.engine_throughput [--quick]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.engine_throughput")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=8)
    args, _ = parser.parse_known_args(argv)
    images = 40 if args.quick else 100
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VSPECTRUM_DATA_DIR"] = os.environ["VSPECTRUM_CONFIG_DIR"] = tmp
        _throughput(Path(tmp), images, args.latency, args.concurrency)
        _rate_limit(Path(tmp), 20 if args.quick else 40)


def _setup(tmp: Path, name: str, n_images: int, server, concurrency: int, rpm: int):
    from tests.plugins.library import make_image_bytes
    from tests.plugins.vlm_server import VALID_KEY
    from vspectrum_app.bench.prompts import PromptSet
    from vspectrum_app.bench.store import RunStore
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.catalog import open_workspace
    from vspectrum_app.providers.clients import Params
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

    os.environ["VSPECTRUM_API_KEY_LAB"] = VALID_KEY
    ProviderStore().save(
        ProviderConfig(
            name="lab",
            kind="openai-compatible",
            base_url=server.openai_base_url,
            concurrency=concurrency,
            requests_per_minute=rpm,
            timeout_s=30,
        )
    )
    ws = open_workspace(tmp / name)
    items = []
    for i in range(n_images):
        image_id, _ = add_image(ws, make_image_bytes(seed=i, size=(96, 160)), source_name=f"{i}.jpg")
        sha = ws.db.execute("SELECT sha256 FROM images WHERE id = ?", (image_id,)).fetchone()[0]
        items.append(
            {
                "target": "lab:m",
                "mode": "vlm",
                "value": "Power",
                "keyword": "money",
                "rank": i + 1,
                "image_id": image_id,
                "image_sha256": sha,
                "repeat": 0,
            }
        )
    manifest = {
        "prompts": PromptSet().to_json(),
        "params": Params().to_json(),
        "fresh": False,
        "describe_with": None,
        "seed": 0,
        "targets_label": ["lab:m"],
        "values": ["Power"],
    }
    store = RunStore(ws)
    return ws, store, lambda: store.create_run(manifest, items)


def _throughput(tmp: Path, n_images: int, latency: float, concurrency: int) -> None:
    from vspectrum_app.bench.runner import execute_run

    import openai  # noqa: F401  (one-time import cost is start-up, not throughput)

    server = _ServerProcess(latency)
    try:
        ws, store, new_run = _setup(tmp, "throughput", n_images, server, concurrency, rpm=100_000)
        execute_run(ws, new_run())  # warm-up: connections, the SDK's lazy imports
        ws.db.execute("DELETE FROM bench_calls")  # a cold cache for the measured run
        start = time.perf_counter()
        outcome = execute_run(ws, new_run())
        first = time.perf_counter() - start
        rate = outcome.sent / first
        ideal = concurrency / latency
        print(
            f"(1) {outcome.sent} calls, server latency {latency * 1000:.0f} ms, concurrency {concurrency}: "
            f"{rate:.1f} calls/s; ideal C/L {ideal:.1f}/s; ratio {rate / ideal:.3f} (goal >= 0.9)"
        )
        start = time.perf_counter()
        again = execute_run(ws, new_run())
        cached = time.perf_counter() - start
        print(
            f"(3) identical re-run: {again.sent} calls sent, {again.cached} from the workspace, "
            f"{cached:.3f} s vs {first:.3f} s: ratio {cached / first:.4f} (goal < 0.02)"
        )
        ws.close()
    finally:
        server.stop()


class _ServerProcess:
    """The fake server in its own process, so that its CPU work does not slow the engine."""

    def __init__(self, latency: float):
        import subprocess
        import sys

        root = Path(__file__).resolve().parents[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.plugins.vlm_server", "--latency", str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        self.url = self.proc.stdout.readline().strip()
        self.openai_base_url = self.url + "/v1"

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def _rate_limit(tmp: Path, n_images: int) -> None:
    import vspectrum_app.providers.ratelimit as rl
    from tests.plugins.vlm_server import FakeVLMServer
    from vspectrum_app.bench.runner import execute_run

    window, limit = 6.0, 12
    original = rl.RateLimiter.__init__

    def short_window(self, rpm, tpm=None, window_s=60.0, clock=time.monotonic, shared=None):
        original(self, rpm, tpm, window_s=window, clock=clock, shared=shared)

    rl.RateLimiter.__init__ = short_window
    server = FakeVLMServer(latency_s=0.02).start()
    try:
        ws, store, new_run = _setup(tmp, "ratelimit", n_images, server, concurrency=8, rpm=limit)
        start = time.perf_counter()
        outcome = execute_run(ws, new_run())
        elapsed = time.perf_counter() - start
        times = sorted(r.time for r in server.log)
        worst = max(sum(1 for u in times[i:] if u < t + window) for i, t in enumerate(times))
        ideal = (len(times) - limit) / limit * (window + rl.SAFETY_MARGIN_S)
        print(
            f"(2) {outcome.sent} calls at {limit} per {window:.0f} s window: most in any window {worst} "
            f"(limit {limit}); took {elapsed:.1f} s, the limit allows no less than {ideal:.1f} s"
        )
        ws.close()
    finally:
        rl.RateLimiter.__init__ = original
        server.stop()


if __name__ == "__main__":
    main()
