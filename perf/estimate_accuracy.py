"""How honest the benchmark's estimate is (issue 25): real small runs against the local VLM
test server, each estimated first (`bench run --dry-run`, the same estimate the Benchmark pane
shows), then run; the server counts what it was sent.

1. a library with many repeats: 12 images, 2 values x 10 keywords x k=5 (100 items);
2. a library without: 300 images, 1 value x 10 keywords x k=1;
3. on library 1 again with a third value: its images are answered already, nothing is sent;
4. on library 2, a modality comparison (a describer and a text-only model).

Prints estimated calls vs requests the server received (goal: within 25 %), the old estimate
(every turn of every item) for contrast, and the estimated vs the measured time.

    python -m perf.estimate_accuracy
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

VALUES = ["Power", "Hedonism", "Benevolence"]


def main(argv=None) -> None:
    from tests.plugins.clip import make_tiny_clip
    from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["VSPECTRUM_DATA_DIR"] = os.environ["VSPECTRUM_CONFIG_DIR"] = str(root / "user")
        os.environ["VSPECTRUM_API_KEY_LAB"] = VALID_KEY
        server = FakeVLMServer(answer=_answer, latency_s=0.02).start()
        try:
            ProviderStore().save(
                ProviderConfig(
                    name="lab",
                    kind="openai-compatible",
                    base_url=server.openai_base_url,
                    models=["m1"],
                    concurrency=8,
                    requests_per_minute=100_000,
                    timeout_s=30,
                )
            )
            clip = make_tiny_clip(root / "clip")
            repeats = _library(root / "repeats", 12, clip)
            distinct = _library(root / "distinct", 300, clip)
            print(
                "case                                    items  images  estimated  sent  ratio  old-estimate  est-s  wall-s"
            )
            _case("1 many repeats (k=5, 2 values)", repeats, clip, server, VALUES[:2], 5)
            _case("2 no repeats (k=1, 1 value)", distinct, clip, server, VALUES[:1], 1)
            _case("3 library 1 + a value, all answered", repeats, clip, server, VALUES, 5)
            _case(
                "4 library 2, modality comparison",
                distinct,
                clip,
                server,
                VALUES[1:2],
                1,
                "--describe-with",
                "lab:describer",
                "--text-model",
                "lab:textonly",
            )
        finally:
            server.stop()


def _answer(req) -> str:
    """As a model answers: a description says what this image shows (here its colour)."""
    if req.question.startswith("Describe") and req.image is not None:
        r, g, b = req.image_rgb_mean()
        return f"A picture in red {r:.0f}, green {g:.0f} and blue {b:.0f}."
    return {1: "Yes.", 2: "It looks pleasant."}.get(req.turn, "A picture.")


def _library(folder: Path, n: int, clip):
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.library.catalog import open_workspace
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import build_index

    ws = open_workspace(folder)
    for i in range(n):
        add_image(
            ws, make_image_bytes(seed=1000 + i, color=(i * 7 % 256, 255 - i * 5 % 256, 90)), source_name=f"{i}.jpg"
        )
    build_index(ws, clip)
    return ws


def _case(label: str, ws, clip, server, values: list[str], k: int, *extra: str) -> None:
    from vspectrum_app.bench.ops import Run, run
    from vspectrum_app.bench.store import RunStore
    from tests.plugins.reporting import RecordingReporter
    from vspectrum_app.library.ops import ClipOptions

    params = Run(
        targets=("lab:m1",),
        values=tuple(values),
        k=k,
        clip=ClipOptions(clip_config=Path(clip.config), clip_checkpoint=Path(clip.checkpoint)),
    )
    if extra:
        params = replace(params, describe_with=extra[1], text_models=(extra[3],))
    dry = RecordingReporter()
    run(replace(params, dry_run=True), ws, dry)
    est = dry.of_type("estimate")[-1]
    before = len(server.log)
    start = time.perf_counter()
    outcome = run(params, ws, RecordingReporter())
    wall = time.perf_counter() - start
    sent = len(server.log) - before
    items = RunStore(ws).items(outcome.run_id, status=None)
    images = len({i["image_sha256"] for i in items})
    old = sum(3 if i["mode"] == "vlm" else 2 for i in items) + (images if extra else 0)
    ratio = est["calls"] / sent if sent else float(est["calls"] == 0)
    print(
        f"{label:<40} {len(items):>5} {images:>7} {est['calls']:>10} {sent:>5} {ratio:>6.2f} {old:>13} "
        f"{est['seconds']:>6.1f} {wall:>7.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
