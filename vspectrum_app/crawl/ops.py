"""A crawl as data. ``crawl.cli`` builds its options from this class and ``gui.jobs`` starts
it (core.operations)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vspectrum_app.core.operations import Operation, option
from vspectrum_app.crawl.adapters import PLATFORMS
from vspectrum_app.library.ops import ClipOptions


@dataclass(frozen=True, kw_only=True)
class Crawl(Operation):
    command: ClassVar[tuple[str, ...]] = ("crawl",)
    platform: str | None = option("--platform", choices=("sim", *PLATFORMS), help="where to crawl")
    skin: str = option("--skin", choices=PLATFORMS, default="tiktok",
                       help="the simulator's layout (with --platform sim)")
    count: int = option("--count", default=20, help="new captures to store (default 20)")
    headless: bool | None = option("--headless", help="no visible window (default: visible when there is a display)")
    delay: float | None = option("--delay", help="seconds between videos (default: Settings; 0 on the simulator)")
    url: str | None = option("--url", help="start page (default: the platform's feed)")
    wall_timeout: float | None = option("--wall-timeout", help="seconds to wait for you at a login wall or captcha "
                                                               "(default 300 watched, 0 headless)")
    browser: str | None = option("--browser", metavar="PATH",
                                 help="Chromium/Chrome/Edge executable (default: Settings, then found)")
    no_index: bool = option("--no-index", default=False, help="do not embed the captures after the crawl")
    sim_url: str | None = option("--sim-url", group="simulator",
                                 help="a running simulator (default: one is started for the crawl)")
    images: str | None = option("--images", metavar="DIR", group="simulator",
                                help="serve this folder instead of the workspace")
    seed: int = option("--seed", default=0, group="simulator", help="the recommender's seed")
    speed: float = option("--speed", default=1.0, group="simulator", help="virtual clock speed")
    inject: str | None = option("--inject", group="simulator", help="test material, e.g. black:2,ad:4,login:6 (see "
                                                                     "`vspectrum sim serve --help`)")
    clip: ClipOptions = ClipOptions()
