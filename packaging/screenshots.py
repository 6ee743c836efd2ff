"""Save real screenshots of each pane of the app into a folder (for the README).

Builds a demo workspace (the pilot screenshots when ../shared is present, generated images
otherwise), indexes it with a tiny CLIP model, runs a short benchmark against the local
fake VLM server of the test suite and a short persona session on the simulated platform
(headless Chromium), then opens the window at 1280x720 and grabs every pane in the light
theme (<pane>.png) and the dark one (<pane>-dark.png), each chosen as a user would (View > Theme).

    python packaging/screenshots.py docs/screenshots      (offscreen, or under xvfb-run)
    python packaging/screenshots.py OUT --size 1024x640   (also at other sizes: <pane>-1024x640.png)
    python packaging/screenshots.py OUT --theme dark --size 1366x768 --size 1920x1080
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path, sizes: tuple[tuple[int, int], ...] = (), themes: tuple[str, ...] = ("light", "dark")) -> None:
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
    # the pilot screenshots beside the checkout (or beside the worktrees' folder)
    pilot = next(
        (p / "shared" / "data" / "pilot" for p in ROOT.parents[:2] if (p / "shared" / "data" / "pilot").is_dir()),
        ROOT.parent / "shared" / "data" / "pilot",
    )
    sources = [pilot / d for d in ("gpt4o-tiktok", "gpt4o-youtube", "gppt4o-Ins")] if pilot.is_dir() else []
    if not sources:
        folder = tmp / "images"
        folder.mkdir()
        for i in range(60):
            (folder / f"shot{i}.jpg").write_bytes(
                make_image_bytes(seed=i, size=(144, 256), color=(i * 4 % 255, 120, 255 - i * 4 % 255))
            )
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
    ProviderStore().save(
        ProviderConfig(
            name="demo",
            kind="openai-compatible",
            base_url=server.openai_base_url,
            models=["vlm-1", "vlm-2"],
            concurrency=8,
            requests_per_minute=5000,
        )
    )
    cli(
        [
            "-w",
            str(ws),
            "bench",
            "run",
            "--model",
            "demo:vlm-1",
            "--model",
            "demo:vlm-2",
            "--k",
            "2",
            "--clip-config",
            spec.config,
            "--clip-checkpoint",
            spec.checkpoint,
        ]
    )
    cli(
        [
            "-w",
            str(ws),
            "annotate",
            "create",
            "pilot",
            "--per-value",
            "10",
            "--raters",
            "3",
            "--clip-config",
            spec.config,
            "--clip-checkpoint",
            spec.checkpoint,
        ]
    )
    persona_run = _persona_session(cli, ws, tmp, server)

    from PySide6.QtWidgets import QApplication

    from vspectrum_app.gui.context import AppContext
    from vspectrum_app.gui.main_window import MainWindow
    from vspectrum_app.gui.panes import PANES

    from vspectrum_app.gui import style

    app = QApplication.instance() or QApplication([])
    out.mkdir(parents=True, exist_ok=True)
    style.apply(app, "light")
    for scheme in themes:  # <pane>.png in the light theme, <pane>-dark.png in the dark one
        ctx = AppContext()
        window = MainWindow(ctx)
        window.set_theme(scheme)  # View > Theme: the window and its plots
        window.resize(*SIZE)
        window.show()
        window.open_workspace(ws)
        for title, _, _ in PANES:
            pane = window.show_pane(title)
            if title == "Library":
                pane.search_value("Hedonism")
                _settle(app, 60_000, lambda: "results" in pane.status.full_text())  # the first search loads CLIP
                pane.grid.setCurrentIndex(pane.model.index(0))
            if title == "Annotation":
                pane.annotator.setText("Demo")
                pane.start()
                pane.choose("yes")
            if title == "Benchmark":
                pane._load_existing(
                    ctx.workspace
                    and __import__("vspectrum_app.bench.store", fromlist=["RunStore"])
                    .RunStore(ctx.workspace)
                    .runs()[-1]["id"]
                )
            if title == "Persona":
                _show_persona_session(app, pane, persona_run)
            if title == "Results":  # the scores are computed on a worker thread: wait for them
                _settle(app, 60_000, lambda: bool(pane.reports))
            for size in (SIZE, *sizes):
                window.resize(*size)
                _settle(app, 600)
                name = (
                    f"{title.lower()}{'' if size == SIZE else '-%dx%d' % size}"
                    f"{'' if scheme == 'light' else '-dark'}.png"
                )
                window.grab().save(str(out / name))
                print(f"saved {out / name}")
            window.resize(*SIZE)
        window.close()
        ctx.jobs.cancel_all(wait_ms=5000)
    server.stop()


SIZE = (1280, 720)  # the README's screenshots: the size a laptop shows
PERSONA_RUN = {"trials": 2, "scrolls": 30, "window": 10, "watch": 30, "speed": 50}


def _persona_session(cli, ws: Path, tmp: Path, server) -> dict:
    """A finished persona session on the simulator: a hedonist persona, the fake VLM saying yes to
    red screenshots (the Hedonism topic), so the feed visibly drifts towards Hedonism."""
    from tests.plugins.sim import make_topic_folder
    from tests.plugins.vlm_server import VALID_KEY
    from vspectrum_app.library.catalog import open_workspace
    from vspectrum_app.persona.personas import Persona, PersonaLibrary
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

    def hedonist(req):
        r, g, b = req.image_rgb_mean()
        yes = r > g + 40 and r > b + 40
        return "{'decision': '%s', 'reason': 'it looks %s', 'trait_num': '%s'}" % (
            "yes" if yes else "no",
            "fun" if yes else "dull",
            "2" if yes else "NA",
        )

    server.answer = hedonist
    os.environ["VSPECTRUM_API_KEY_LAB"] = VALID_KEY
    ProviderStore().save(
        ProviderConfig(
            name="lab",
            kind="openai-compatible",
            base_url=server.openai_base_url,
            models=["m1"],
            requests_per_minute=10_000,
            timeout_s=5.0,
            max_retries=3,
        )
    )
    with open_workspace(ws) as w:
        PersonaLibrary(w).save(
            Persona(
                name="Hedonist",
                values=("Hedonism",),
                statements=("I love parties", "I live for fun", "red is my colour", "I never miss a festival"),
            )
        )
    images = make_topic_folder(tmp / "topics", 24)
    run = {"persona": "Hedonist", "model": "lab:m1", "images": str(images), **PERSONA_RUN}
    cli(
        [
            "-w",
            str(ws),
            "persona",
            "run",
            "--persona",
            run["persona"],
            "--model",
            run["model"],
            "--headless",
            "--images",
            run["images"],
            "--seed",
            "3",
            *(a for k in PERSONA_RUN for a in (f"--{k}", str(run[k]))),
        ]
    )
    return run


def _show_persona_session(app, pane, run: dict) -> None:
    """The pane as it looks after running ``run`` from its form: the form filled in, the live view
    fed the session's steps as the job's events would have been, the session selected."""
    from PySide6.QtCore import Qt

    from vspectrum_app.core import events
    from vspectrum_app.persona.agent import screenshot_path
    from vspectrum_app.persona.store import SessionStore

    for checklist, value in ((pane.personas, run["persona"]), (pane.models, run["model"])):
        for i in range(checklist.count()):
            if checklist.item(i).data(Qt.ItemDataRole.UserRole) == value:
                checklist.item(i).setCheckState(Qt.CheckState.Checked)
    spins = {
        "trials": pane.trials,
        "scrolls": pane.scrolls,
        "window": pane.window_n,
        "watch": pane.watch,
        "speed": pane.speed,
    }
    for name, spin in spins.items():
        spin.setValue(run[name])
    pane.seed.setValue(3)
    pane.images.setText(run["images"])
    ws = pane.ctx.workspace
    store = SessionStore(ws)
    session = store.list()[-1]["id"]
    steps = store.steps(session)
    live = pane.live
    live.reset(run["scrolls"])
    live.session_started(events.PersonaSession(session_id=session))
    live.steps = []  # added back one by one below, as the job's events would
    live.counts = dict.fromkeys(live.counts, 0)
    for s in steps:
        live.add_step(
            events.PersonaStep(
                session_id=session,
                trial=s.trial,
                position=s.position,
                decision=s.decision,
                score=s.score,
                dwell_s=s.dwell_s,
                item_id=s.item_id,
                topics=list(s.item_topics),
                related=s.related,
                image=str(screenshot_path(ws, session, s.trial, s.position)),
            )
        )
    live.progress.on_progress(len(steps), len(steps), f"trial {run['trials']}/{run['trials']}")
    pane.controls.set_status(f"Finished: 1 session(s), {len(steps)} videos this run; see Results.", kind="success")
    pane.load_sessions(select=[session])
    pane.tabs.setCurrentWidget(live)
    _settle(app, 30_000, lambda: pane.results.data is not None and pane.results.data["ids"] == [session])
    from vspectrum_app.persona import ops as persona_ops

    # the summary the job's result event prints in the log
    pane._on_event(events.Result(data=persona_ops.ran(ws, [session])))


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
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--size", action="append", default=[], metavar="WxH", help="also grab at this window size")
    ap.add_argument(
        "--theme", action="append", choices=("light", "dark"), help="grab in this theme only (default: both)"
    )
    a = ap.parse_args()
    main(a.out, tuple(tuple(int(v) for v in size.split("x")) for size in a.size), tuple(a.theme or ("light", "dark")))
