"""A crawl as data. ``crawl.cli`` builds its options from this class and ``gui.jobs`` starts
it (core.operations)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from vspectrum_app.core import events
from vspectrum_app.core.jobs import Reporter
from vspectrum_app.core.operations import Operation, option
from vspectrum_app.core.protocol import CRAWL_DELAY_S
from vspectrum_app.core.workspace import Workspace
from vspectrum_app.crawl.adapters import PLATFORMS
from vspectrum_app.library.ops import ClipOptions


@dataclass(frozen=True)
class Crawled:
    """How a crawl ended: the crawler's report (``crawl.session.CrawlReport``) and the embedding."""

    session_id: str
    status: str  # done, stopped, blocked, failed
    message: str | None
    positions: int  # videos seen
    stored: int
    image_ids: tuple[int, ...]  # the stored captures
    duplicates: int
    flagged: int
    restarts: int
    index: str | None = None  # "N embedded" or "skipped" once embedded; None: not embedded


@dataclass(frozen=True, kw_only=True)
class Crawl(Operation):
    command: ClassVar[tuple[str, ...]] = ("crawl",)
    result_type: ClassVar[type[Crawled]] = Crawled
    event_types: ClassVar[tuple[type[events.Event], ...]] = (events.Capture,)
    platform: str | None = option("--platform", choices=("sim", *PLATFORMS), help="where to crawl")
    skin: str = option(
        "--skin", choices=PLATFORMS, default="tiktok", help="the simulator's layout (with --platform sim)"
    )
    count: int = option("--count", default=20, help="new captures to store (default 20)")
    headless: bool | None = option("--headless", help="no visible window (default: visible when there is a display)")
    delay: float | None = option(
        "--delay", help=f"seconds between videos (default: Settings, else {CRAWL_DELAY_S:g}; 0 on the simulator)"
    )
    url: str | None = option("--url", help="start page (default: the platform's feed)")
    wall_timeout: float | None = option(
        "--wall-timeout", help="seconds to wait for you at a login wall or captcha (default 300 watched, 0 headless)"
    )
    browser: str | None = option(
        "--browser", metavar="PATH", help="Chromium/Chrome/Edge executable (default: Settings, then found)"
    )
    no_index: bool = option("--no-index", default=False, help="do not embed the captures after the crawl")
    sim_url: str | None = option(
        "--sim-url", group="simulator", help="a running simulator (default: one is started for the crawl)"
    )
    images: str | None = option(
        "--images",
        metavar="DIR",
        group="simulator",
        help="serve this folder of images (default: the simulator's own test pictures, new to the workspace)",
    )
    workspace_images: bool = option(
        "--workspace-images",
        default=False,
        group="simulator",
        help="serve the workspace's own screenshots (every video is then a duplicate)",
    )
    seed: int = option("--seed", default=0, group="simulator", help="the recommender's seed")
    speed: float = option("--speed", default=1.0, group="simulator", help="virtual clock speed")
    inject: str | None = option(
        "--inject",
        group="simulator",
        help="test material, e.g. black:2,ad:4,login:6 (see `vspectrum sim serve --help`)",
    )
    clip: ClipOptions = ClipOptions()

    def from_settings(self, settings: Mapping[str, Any]) -> Crawl:
        # the simulator is not slowed down by the delay meant for the real sites
        delay = self.delay if self.delay is not None or self.platform == "sim" else settings.get("crawl_delay_s")
        return replace(
            self,
            delay=None if delay is None else float(delay),
            browser=self.browser or settings.get("browser_executable"),
        )


def run(params: Crawl, ws: Workspace, reporter: Reporter) -> Crawled:
    """Crawl in this process (starting a simulator for ``--platform sim`` unless one is given),
    then embed the new captures."""
    from vspectrum_app.core.errors import UserError
    from vspectrum_app.crawl import browser as browsers
    from vspectrum_app.crawl.session import CrawlConfig, Crawler

    if not params.platform:
        raise UserError("say where to crawl: --platform sim|tiktok|youtube|instagram")
    if params.count < 1:
        raise UserError("--count must be at least 1")
    headless = (not browsers.has_display()) if params.headless is None else params.headless
    is_sim = params.platform == "sim"
    with contextlib.ExitStack() as stack:
        start_url = params.url
        if is_sim and not start_url:
            from vspectrum_app.sim.server import feed_url

            base = params.sim_url or stack.enter_context(_sim_server(params, ws, reporter, stack)).url
            start_url = feed_url(base, params.skin, seed=params.seed, inject=params.inject)
        delay = params.delay if params.delay is not None else (0.0 if is_sim else CRAWL_DELAY_S)
        cfg = CrawlConfig(
            platform=params.platform,
            skin=params.skin if is_sim else None,
            count=params.count,
            start_url=start_url,
            headless=headless,
            delay_s=delay,
            wall_timeout_s=params.wall_timeout if params.wall_timeout is not None else (0.0 if headless else 300.0),
            browser=params.browser,
        )
        report = Crawler(ws, cfg, reporter).run()
    return Crawled(
        session_id=report.session_id,
        status=report.status,
        message=report.message,
        positions=report.positions,
        stored=len(report.stored),
        image_ids=tuple(report.stored),
        duplicates=report.duplicates,
        flagged=report.flagged,
        restarts=report.restarts,
        index=_embed(ws, report.stored, params, reporter) if report.stored and not params.no_index else None,
    )


def summary(r: Crawled) -> str:
    """The crawl's outcome in one line (the CLI prints it, the Crawl pane logs it)."""
    return (
        f"crawl {r.session_id}: {r.status}; {r.stored} stored, {r.duplicates} duplicates, "
        f"{r.flagged} flagged, {r.positions} videos seen"
        + (f"; {r.message}" if r.message else "")
        + (f"; index: {r.index}" if r.index else "")
    )


def _sim_server(params: Crawl, ws: Workspace, reporter: Reporter, stack: contextlib.ExitStack) -> Any:
    """The simulator serving --images, the workspace (--workspace-images), or by default a batch
    of its own test pictures that the workspace has not seen (sim.material)."""
    import tempfile

    from vspectrum_app.crawl.store import CrawlStore
    from vspectrum_app.sim import material
    from vspectrum_app.sim.catalog import Catalog
    from vspectrum_app.sim.clock import VirtualClock
    from vspectrum_app.sim.server import SimPlatform, SimServer

    if params.images:
        catalog, source = Catalog.from_folder(Path(params.images)), params.images
    elif params.workspace_images:
        catalog, source = Catalog.from_workspace(ws), "the workspace's screenshots"
    else:
        batch = len(CrawlStore(ws).sessions()) + 1
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vspectrum-sim-")))
        catalog = Catalog.from_folder(material.write_batch(folder, batch, material.items_for(params.count)))
        source = f"its own test pictures (batch {batch})"
    reporter.log(f"simulated platform with {len(catalog)} items from {source}")
    return SimServer(SimPlatform(catalog, VirtualClock(speed=params.speed), seed=params.seed)).start()


def _embed(ws: Workspace, image_ids: list[int], params: Crawl, reporter: Reporter) -> str:
    """Embed the new captures now; a model that cannot load leaves them for `library index`."""
    from vspectrum_app.encoders.embedder import ClipModelUnavailable
    from vspectrum_app.library.indexer import ensure_embedded

    try:
        done = ensure_embedded(ws, image_ids, params.clip.spec(), reporter)
    except ClipModelUnavailable as exc:
        reporter.log(f"captures kept but not embedded ({exc}); run `vspectrum library index` later", "warning")
        return "skipped"
    return f"{done.embedded} embedded"
