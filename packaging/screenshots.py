"""Save real screenshots of each pane of the app into a folder (for the README).

Builds a demo workspace (the pilot screenshots when ../shared is present, generated images
otherwise), indexes it with a tiny CLIP model, runs a short benchmark against the local
fake VLM server of the test suite, then opens the window and grabs every pane.

    python packaging/screenshots.py docs/screenshots      (offscreen, or under xvfb-run)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["HF_HUB_OFFLINE"] = "1"
    tmp = Path(tempfile.mkdtemp(prefix="vspectrum-shots-"))
    os.environ["VSPECTRUM_DATA_DIR"] = str(tmp / "data")
    os.environ["VSPECTRUM_CONFIG_DIR"] = str(tmp / "config")
    from tests.plugins.clip import make_tiny_clip
    from tests.plugins.library import make_image_bytes
    from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
    from vspectrum_app.cli import main as cli
    from vspectrum_app.core.settings import Settings
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

    ws = tmp / "workspace"
    pilot = ROOT.parent / "shared" / "data" / "pilot"
    sources = [pilot / d for d in ("gpt4o-tiktok", "gpt4o-youtube", "gppt4o-Ins")] if pilot.is_dir() else []
    if not sources:
        folder = tmp / "images"
        folder.mkdir()
        for i in range(60):
            (folder / f"shot{i}.jpg").write_bytes(make_image_bytes(seed=i, size=(144, 256),
                                                                   color=(i * 4 % 255, 120, 255 - i * 4 % 255)))
        sources = [folder]
    spec = make_tiny_clip(tmp / "clip")
    settings = Settings.load()
    settings.update(clip_config=spec.config, clip_checkpoint=spec.checkpoint, default_workspace=str(ws))
    settings.save()
    cli(["-w", str(ws), "library", "import", *map(str, sources)])
    cli(["-w", str(ws), "library", "index", "--clip-config", spec.config, "--clip-checkpoint", spec.checkpoint])

    def opinionated(req):
        if req.question.startswith("Describe"):
            return "A short video frame with people and text."
        if req.question.startswith("Why"):
            return "The scene looks lively and the colours are warm."
        r, g, b = req.image_rgb_mean()
        return "Yes." if (int(r + g) + int(req.model[-1])) % 3 else "No."

    server = FakeVLMServer(answer=opinionated).start()
    os.environ["VSPECTRUM_API_KEY_DEMO"] = VALID_KEY
    ProviderStore().save(ProviderConfig(name="demo", kind="openai-compatible", base_url=server.openai_base_url,
                                        models=["vlm-1", "vlm-2"], concurrency=8, requests_per_minute=5000))
    cli(["-w", str(ws), "bench", "run", "--model", "demo:vlm-1", "--model", "demo:vlm-2", "--k", "2",
         "--clip-config", spec.config, "--clip-checkpoint", spec.checkpoint])
    cli(["-w", str(ws), "annotate", "create", "pilot", "--per-value", "10", "--raters", "3",
         "--clip-config", spec.config, "--clip-checkpoint", spec.checkpoint])

    from PySide6.QtWidgets import QApplication

    from vspectrum_app.gui.context import AppContext
    from vspectrum_app.gui.main_window import MainWindow
    from vspectrum_app.gui.panes import PANES

    app = QApplication.instance() or QApplication([])
    ctx = AppContext()
    window = MainWindow(ctx)
    window.resize(1400, 860)
    window.show()
    window.open_workspace(ws)
    out.mkdir(parents=True, exist_ok=True)
    for title, _, _ in PANES:
        pane = window.show_pane(title)
        if title == "Library":
            pane.search_value("Hedonism")
            _settle(app, 60_000, lambda: "results" in pane.status.text())  # the first search loads CLIP
            pane.grid.setCurrentIndex(pane.model.index(0))
        if title == "Annotation":
            pane.annotator.setText("Demo")
            pane.start()
            pane.choose("yes")
        if title == "Benchmark":
            pane._load_existing(ctx.workspace and __import__("vspectrum_app.bench.store", fromlist=["RunStore"])
                                .RunStore(ctx.workspace).runs()[-1]["id"])
        _settle(app, 600)
        window.grab().save(str(out / f"{title.lower()}.png"))
        print(f"saved {out / (title.lower() + '.png')}")
    server.stop()
    window.close()


def _settle(app, ms: int, until=None) -> None:
    import time

    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        app.processEvents()
        if until and until():
            for _ in range(20):
                app.processEvents()
                time.sleep(0.02)
            return
        time.sleep(0.02)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
