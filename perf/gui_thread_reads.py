"""Reads the window used to make on the GUI thread (docs/gui.md, "Background work": nothing
over 50 ms there): listing the benchmark runs with their progress counts every run's items,
so it grows with the workspace and is read on the worker pool (Results, Annotation panes).
The Fig. 6 aggregation and one run's report are timed beside it, for scale.

    python -m perf.gui_thread_reads [--items 100000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _median_ms(fn, repeats: int = 5) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m perf.gui_thread_reads")
    parser.add_argument("--items", type=int, default=100_000, help="benchmark items in the workspace (4 runs)")
    args = parser.parse_args(argv)

    from vspectrum_app.bench.report import run_report, value_means
    from vspectrum_app.bench.store import RunStore
    from vspectrum_app.core.values import SCHWARTZ_VALUES
    from vspectrum_app.core.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp) / "ws")
        store = RunStore(ws)
        per_run = args.items // 4
        for _ in range(4):
            items = [
                {
                    "target": f"m{(n // 10) % 5}",
                    "mode": "vlm",
                    "value": SCHWARTZ_VALUES[n % 10],
                    "keyword": f"k{n % 50}",
                    "rank": n,
                    "image_id": n,
                    "image_sha256": f"s{n}",
                    "repeat": 0,
                }
                for n in range(per_run)
            ]
            run_id = store.create_run({"targets_label": [f"m{t}" for t in range(5)]}, items)
        rows = store.items(run_id, status=None)
        store.finish_items([(r["id"], "yes" if r["rank"] % 3 else "no", ["Yes."]) for r in rows])
        print(f"  RunStore.runs() over {args.items} items: {_median_ms(store.runs):.1f} ms (median of 5)")
        report = run_report(ws, run_id)
        print(
            f"  value_means over {len(report['scores'])} cells: "
            f"{_median_ms(lambda: value_means(report['scores'])):.3f} ms"
        )
        print(f"  run_report of one run ({per_run} answers): {_median_ms(lambda: run_report(ws, run_id), 1):.0f} ms")
        ws.close()


if __name__ == "__main__":
    main()
