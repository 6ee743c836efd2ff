"""Indexing on this machine vs on a local Ray instance (issue 16, item 5).

Same screenshots (720x1280 JPEGs, ``perf.library_index._screenshot_like``), same model
(ViT-B-32 architecture, random weights: no hub needed), same batch size, two fresh
workspaces: ``build_index`` (the local pipeline, all cores) against ``build_index_on_ray``
on ``ray.init(num_cpus=N)`` (one encoder actor per CPU, each with one thread). The Ray
figure includes starting the actors and loading one model per actor (seconds that a long
run spreads thin), so it is printed with and without the first batch.

    python -m perf.ray_index [--images 96] [--cpus 2] [--model ViT-B-32]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from perf.library_index import _screenshot_like


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.ray_index")
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument("--batch", type=int, default=16)
    args, _ = parser.parse_known_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import ray
    except ImportError:
        print("Ray is not installed (pip install '.[ray]'): nothing to compare")
        return
    from vspectrum_app.core.jobs import Reporter
    from vspectrum_app.encoders.embedder import ClipSpec
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import build_index
    from vspectrum_app.library.ray_index import build_index_on_ray
    from vspectrum_app.core.workspace import Workspace

    class FirstBatch(Reporter):
        """Notes when the first vectors are stored (Ray: after the actors have started)."""

        def progress(self, done, total, message=""):
            if done and not hasattr(self, "at"):
                self.at, self.done = time.perf_counter(), done

    spec = ClipSpec(model=args.model, pretrained=None)
    blobs = [_screenshot_like(i) for i in range(args.images)]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VSPECTRUM_DATA_DIR"] = os.environ["VSPECTRUM_CONFIG_DIR"] = tmp
        spaces = []
        for name in ("local", "ray"):
            ws = Workspace.open(Path(tmp) / name)
            for i, blob in enumerate(blobs):
                add_image(ws, blob, source_name=f"s{i}.jpg")
            spaces.append(ws)
        print(
            f"{args.images} screenshots 720x1280, {args.model} (random weights), batch {args.batch}, "
            f"torch backend, {args.cpus} CPUs",
            flush=True,
        )
        local = build_index(spaces[0], spec, batch_size=args.batch, backend="torch")
        local_rate = local.embedded / local.seconds
        print(f"  local pipeline: {local_rate:.2f} images/s ({local.seconds:.1f} s)", flush=True)
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        try:
            first = FirstBatch()
            start = time.perf_counter()
            remote = build_index_on_ray(
                spaces[1], spec, reporter=first, batch_size=args.batch, backend="torch", device="cpu"
            )
            total = time.perf_counter() - start
        finally:
            ray.shutdown()
        rate = remote.embedded / total
        steady = (remote.embedded - first.done) / max(1e-9, start + total - first.at)
        print(
            f"  Ray local ({args.cpus} actors): {rate:.2f} images/s with actor start-up ({total:.1f} s), "
            f"{steady:.2f} images/s after the first batch"
        )
        print(f"  ratio Ray / local: {rate / local_rate:.2f} overall, {steady / local_rate:.2f} after start-up")


if __name__ == "__main__":
    main()
