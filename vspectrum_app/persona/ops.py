"""Persona sessions as data: new sessions, resuming them, and counterfactual replay.
``persona.cli`` builds its options from these classes and ``gui.jobs`` starts them (core.operations)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from vspectrum_app.core.operations import Operation, Options, argument, option


@dataclass(frozen=True, kw_only=True)
class BrowserOptions(Options):
    """How the sessions' browser runs (new sessions and resumed ones)."""

    headless: bool | None = option("--headless", help="no visible window (default: visible when there is a display)")
    browser: str | None = option("--browser", metavar="PATH",
                                 help="Chromium/Chrome/Edge executable (default: Settings, then found)")
    sim_url: str | None = option("--sim-url", help="a running simulator (default: one is started for the run)")
    start_url: str | None = option("--start-url",
                                   help="real platforms: start from this page instead of the platform's feed")
    wall_timeout: float | None = option("--wall-timeout", help="seconds to wait for you at a login wall (default 300 "
                                                               "watched, 0 headless)")


@dataclass(frozen=True, kw_only=True)
class Run(Operation):
    command: ClassVar[tuple[str, ...]] = ("persona", "run")
    persona: tuple[str, ...] = option("--persona", repeat=True, required=True, default=(), metavar="NAME",
                                      help="a persona from `persona list` (repeat for several)")
    provider: str | None = option("--provider",
                                  help="provider for bare --model names (see `vspectrum providers list`)")
    model: tuple[str, ...] = option("--model", repeat=True, default=(), metavar="[PROVIDER:]MODEL",
                                    help="model to role-play (repeat for several)")
    strategy: str = option("--strategy", choices=("simple", "isq", "control"), default="simple",
                           help="simple (yes/no), isq (the seven questions) or control (random watch/skip, no model)")
    control_rate: float | None = option("--control-rate", help="control: probability of watching (default 0.2)")
    match: str | None = option("--match", metavar="SESSION", help="control: use this session's watch rate")
    platform: str = option("--platform", choices=("sim", "tiktok", "youtube", "instagram"), default="sim")
    skin: str = option("--skin", choices=("tiktok", "youtube", "instagram"), default="tiktok",
                       help="the simulator's layout")
    trials: int = option("--trials", default=10, help="trials, each on a fresh feed profile (default 10)")
    scrolls: int = option("--scrolls", default=100, help="videos per trial (default 100)")
    window: int = option("--window", default=50, help="n of 'first/last n videos' (default 50)")
    watch_s: float = option("--watch", default=45.0, help="seconds watched on a yes (default 45)")
    capture_at_s: float = option("--capture-at", default=2.0,
                                 help="screenshot this many seconds into each video (default 2)")
    threshold: float = option("--threshold", default=60.0, help="ISQ: watch when S%% exceeds this (default 60)")
    temperature: float | None = option("--temperature")
    seed: int = option("--seed", default=0, help="trial t's feed uses seed SEED*1000+t")
    prompt_file: Path | None = option("--prompt-file",
                                      help="a prompt template instead of the paper's ({traits}, {max_trait})")
    speed: float = option("--speed", default=10.0, group="simulator", help="virtual clock speed (default 10)")
    images: str | None = option("--images", metavar="DIR", group="simulator",
                                help="serve this folder (sub-folders are topics), not the workspace")
    run_options: BrowserOptions = BrowserOptions()


@dataclass(frozen=True, kw_only=True)
class Resume(Operation):
    command: ClassVar[tuple[str, ...]] = ("persona", "resume")
    sessions: tuple[str, ...] = argument(nargs="+", metavar="SESSION")
    run_options: BrowserOptions = BrowserOptions()


@dataclass(frozen=True, kw_only=True)
class Replay(Operation):
    command: ClassVar[tuple[str, ...]] = ("persona", "replay")
    source: str = argument(metavar="SESSION")
    persona: str | None = option("--persona", help="another persona (default: the session's)")
    provider: str | None = option("--provider")
    model: str | None = option("--model", metavar="[PROVIDER:]MODEL", help="another model (default: the session's)")
    strategy: str | None = option("--strategy", choices=("simple", "isq"))
    prompt_file: Path | None = option("--prompt-file")
