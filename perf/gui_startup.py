"""The app's start-up time and the library grid's cost at 50,000 items (issue: desktop app).

1. process start to main window shown, over a bare PySide6 window started the same way
   (goal < 1.5 s absolute on this machine);
2. the thumbnail grid with 50,000 tiles: memory added, time to fill the model, and the
   cost of scrolling from top to bottom page by page (thumbnails decoded off-thread,
   bounded cache).

    python -m perf.gui_startup
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE = (
    "import time,sys; t=time.perf_counter(); from PySide6.QtWidgets import QApplication, QMainWindow; "
    "app=QApplication([]); w=QMainWindow(); w.show(); app.processEvents(); print('shown', flush=True)"
)
APP = (
    "import sys; from vspectrum_app.gui.app import main; "
    "main(['vspectrum', '--print-startup-time', '--exit-after-show'])"
)


def _time_to_shown(code: str, runs: int = 5) -> float:
    samples = []
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for line in proc.stdout:
            if "shown" in line:
                samples.append(time.perf_counter() - start)
                break
        proc.wait(timeout=60)
    return statistics.median(samples)


def main(argv=None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VSPECTRUM_DATA_DIR"] = os.environ["VSPECTRUM_CONFIG_DIR"] = tmp
        bare = _time_to_shown(BARE)
        app = _time_to_shown(APP)
        print(
            f"(1) process start to window shown (median of 5): app {app:.3f} s, bare PySide6 window {bare:.3f} s, "
            f"ratio {app / bare:.2f} (goal: app < 1.5 s)"
        )
        _grid(Path(tmp))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _grid(tmp: Path, n: int = 50_000) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from tests.plugins.library import make_image_bytes
    from vspectrum_app.gui.panes.library import Tile, TileModel
    from vspectrum_app.gui.thumbnails import ThumbnailCache

    app = QApplication.instance() or QApplication([])
    thumbs_dir = tmp / "thumbs"
    thumbs_dir.mkdir()
    distinct = 500  # 500 real thumbnail files shared by 50,000 tiles (each tile its own cache key)
    for i in range(distinct):
        (thumbs_dir / f"{i}.jpg").write_bytes(make_image_bytes(seed=i, size=(144, 256)))
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QListView

    before = _rss_mib()
    cache = ThumbnailCache()
    model = TileModel(cache, lambda key: thumbs_dir / f"{int(key.split('-')[1]) % distinct}.jpg")
    start = time.perf_counter()
    model.set_tiles([Tile(i, f"k-{i}", "jpg", "tiktok", "2024-08-01", 0.5) for i in range(n)])
    fill = time.perf_counter() - start
    view = QListView()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setIconSize(QSize(96, 160))
    view.setGridSize(QSize(120, 195))
    view.setUniformItemSizes(True)
    view.setLayoutMode(QListView.LayoutMode.Batched)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
    view.resize(1100, 800)
    view.setModel(model)
    view.show()
    bar = view.verticalScrollBar()
    start = time.perf_counter()
    columns = max(1, view.viewport().width() // 120)
    expected = (n // columns) * 195 - view.viewport().height()
    while bar.maximum() < 0.95 * expected and time.perf_counter() - start < 60:
        app.processEvents()  # the batched layout finishes over many event-loop turns
    layout = time.perf_counter() - start
    steps = []
    start = time.perf_counter()
    stride = max(bar.pageStep(), bar.maximum() // 300)  # 300 jumps spread over the whole grid
    while bar.value() < bar.maximum():
        t = time.perf_counter()
        bar.setValue(bar.value() + stride)
        app.processEvents()
        view.viewport().repaint()
        steps.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    cache.wait()
    app.processEvents()
    after = _rss_mib()
    p50 = statistics.median(steps) * 1000
    p99 = sorted(steps)[int(len(steps) * 0.99) - 1] * 1000
    print(
        f"(2) grid of {n:,} tiles: model filled in {fill * 1000:.0f} ms, laid out in {layout:.2f} s; "
        f"{len(steps)} jumps of {stride} px top to bottom "
        f"in {total:.2f} s (per jump: scroll, paint, request thumbnails: p50 {p50:.1f} ms, p99 {p99:.1f} ms); peak memory +{after - before:.0f} MiB; "
        f"thumbnail cache holds {len(cache)} (cap {cache.capacity})"
    )


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # skip Qt's teardown at interpreter exit (it can crash in garbage collection)
