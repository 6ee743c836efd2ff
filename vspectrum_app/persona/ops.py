"""Persona sessions as data: new sessions, resuming them, and counterfactual replay.
``persona.cli`` builds its options from these classes, ``gui.jobs`` starts them (core.operations),
and ``run`` does them in this process (what the CLI's handlers call)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vspectrum_app.core import events
from vspectrum_app.core.operations import Operation, Options, argument, option
from vspectrum_app.core.protocol import CAPTURE_AT_S

if TYPE_CHECKING:
    from vspectrum_app.core.jobs import Reporter
    from vspectrum_app.core.workspace import Workspace
    from vspectrum_app.persona.prompts import PromptTemplates
    from vspectrum_app.persona.runner import RunOptions
    from vspectrum_app.persona.store import SessionConfig, SessionStore


@dataclass(frozen=True, kw_only=True)
class BrowserOptions(Options):
    """How the sessions' browser runs (new sessions and resumed ones)."""

    headless: bool | None = option("--headless", help="no visible window (default: visible when there is a display)")
    browser: str | None = option(
        "--browser", metavar="PATH", help="Chromium/Chrome/Edge executable (default: Settings, then found)"
    )
    sim_url: str | None = option("--sim-url", help="a running simulator (default: one is started for the run)")
    start_url: str | None = option(
        "--start-url", help="real platforms: start from this page instead of the platform's feed"
    )
    wall_timeout: float | None = option(
        "--wall-timeout", help="seconds to wait for you at a login wall (default 300 watched, 0 headless)"
    )

    def from_settings(self, settings: Mapping[str, Any]) -> BrowserOptions:
        return replace(self, browser=self.browser or settings.get("browser_executable"))


@dataclass(frozen=True)
class SessionsRan:
    """The sessions a persona job ran (none for a dry run), each summed up in plain sentences."""

    session_ids: tuple[str, ...]
    summaries: tuple[str, ...]  # persona.report.human_summary of each session, in the same order


SESSION_EVENTS: tuple[type[events.Event], ...] = (events.PersonaSession, events.PersonaStep)


@dataclass(frozen=True, kw_only=True)
class Run(Operation):
    command: ClassVar[tuple[str, ...]] = ("persona", "run")
    result_type: ClassVar[type[SessionsRan]] = SessionsRan
    event_types: ClassVar[tuple[type[events.Event], ...]] = (events.Estimate, *SESSION_EVENTS)  # Estimate: dry run
    persona: tuple[str, ...] = option(
        "--persona",
        repeat=True,
        required=True,
        default=(),
        metavar="NAME",
        help="a persona from `persona list` (repeat for several)",
    )
    provider: str | None = option("--provider", help="provider for bare --model names (see `vspectrum providers list`)")
    model: tuple[str, ...] = option(
        "--model", repeat=True, default=(), metavar="[PROVIDER:]MODEL", help="model to role-play (repeat for several)"
    )
    strategy: str = option(
        "--strategy",
        choices=("simple", "isq", "control"),
        default="simple",
        help="simple (yes/no), isq (the seven questions) or control (random watch/skip, no model)",
    )
    control_rate: float | None = option("--control-rate", help="control: probability of watching (default 0.2)")
    match: str | None = option("--match", metavar="SESSION", help="control: use this session's watch rate")
    platform: str = option("--platform", choices=("sim", "tiktok", "youtube", "instagram"), default="sim")
    skin: str = option(
        "--skin", choices=("tiktok", "youtube", "instagram"), default="tiktok", help="the simulator's layout"
    )
    trials: int = option("--trials", default=10, help="trials, each on a fresh feed profile (default 10)")
    scrolls: int = option("--scrolls", default=100, help="videos per trial (default 100)")
    window: int = option("--window", default=50, help="n of 'first/last n videos' (default 50)")
    watch_s: float = option("--watch", default=45.0, help="seconds watched on a yes (default 45)")
    capture_at_s: float = option(
        "--capture-at",
        default=CAPTURE_AT_S,
        help=f"screenshot this many seconds into each video (default {CAPTURE_AT_S:g})",
    )
    threshold: float = option("--threshold", default=60.0, help="ISQ: watch when S%% exceeds this (default 60)")
    temperature: float | None = option("--temperature")
    seed: int = option("--seed", default=0, help="trial t's feed uses seed SEED*1000+t")
    prompt_file: Path | None = option(
        "--prompt-file", help="a prompt template instead of the paper's ({traits}, {max_trait})"
    )
    dry_run: bool = option(
        "--dry-run", default=False, help="print the model calls, tokens, cost and time; send nothing, record nothing"
    )
    speed: float = option("--speed", default=10.0, group="simulator", help="virtual clock speed (default 10)")
    images: str | None = option(
        "--images",
        metavar="DIR",
        group="simulator",
        help="serve this folder (sub-folders are topics), not the workspace",
    )
    run_options: BrowserOptions = BrowserOptions()


@dataclass(frozen=True, kw_only=True)
class Resume(Operation):
    command: ClassVar[tuple[str, ...]] = ("persona", "resume")
    result_type: ClassVar[type[SessionsRan]] = SessionsRan
    event_types: ClassVar[tuple[type[events.Event], ...]] = SESSION_EVENTS
    sessions: tuple[str, ...] = argument(nargs="+", metavar="SESSION")
    run_options: BrowserOptions = BrowserOptions()


@dataclass(frozen=True, kw_only=True)
class Replay(Operation):
    command: ClassVar[tuple[str, ...]] = ("persona", "replay")
    result_type: ClassVar[type[SessionsRan]] = SessionsRan
    event_types: ClassVar[tuple[type[events.Event], ...]] = SESSION_EVENTS
    source: str = argument(metavar="SESSION")
    persona: str | None = option("--persona", help="another persona (default: the session's)")
    provider: str | None = option("--provider")
    model: str | None = option("--model", metavar="[PROVIDER:]MODEL", help="another model (default: the session's)")
    strategy: str | None = option("--strategy", choices=("simple", "isq"))
    prompt_file: Path | None = option("--prompt-file")


def run(params: Run | Resume | Replay, ws: Workspace, reporter: Reporter) -> list[str]:
    """Do the operation in this process: new sessions, resumed ones, or a replay; returns the
    ids of the sessions it ran (the CLI prints their reports)."""
    match params:
        case Run():
            sessions = _new_sessions(params, ws, reporter)
            return [] if params.dry_run else _execute(sessions, params.run_options, ws, reporter)
        case Resume():
            return _execute(_check_sessions(params, ws), params.run_options, ws, reporter)
        case Replay():
            return _replay(params, ws, reporter)
    raise TypeError(f"not a persona operation: {params!r}")


def ran(ws: Workspace, session_ids: list[str]) -> SessionsRan:
    """What a persona job sends back: the sessions and their summaries."""
    from vspectrum_app.persona.report import human_summary, session_report

    return SessionsRan(tuple(session_ids), tuple(human_summary(session_report(ws, s)) for s in session_ids))


def _run_options(o: BrowserOptions) -> RunOptions:
    from vspectrum_app.crawl import browser as browsers
    from vspectrum_app.persona.runner import RunOptions

    headless = (not browsers.has_display()) if o.headless is None else o.headless
    wall = o.wall_timeout if o.wall_timeout is not None else (0.0 if headless else 300.0)
    return RunOptions(
        headless=headless,
        browser=o.browser,
        sim_url=o.sim_url,
        start_url=o.start_url,
        wall_timeout_s=wall,
    )


def _templates(path: Path | None, strategy: str) -> PromptTemplates:
    from vspectrum_app.persona.prompts import PromptTemplates, load_template

    if path is None:
        return PromptTemplates()
    text = load_template(path)
    return PromptTemplates(**{strategy: text}) if strategy in ("simple", "isq") else PromptTemplates()


def _models(refs: tuple[str, ...], default_provider: str | None) -> list[tuple[str | None, str | None]]:
    """(provider, model) per ``--model``; with ``--provider`` every name is bare (a ':' stays part
    of the name, Ollama tags). None given: none."""
    from vspectrum_app.providers.refs import parse_refs

    return [(r.provider, r.model) for r in parse_refs(refs, default_provider)] if refs else []


def _new_sessions(args: Run, ws: Workspace, reporter: Reporter) -> list[str]:
    """Record the new sessions; with ``dry_run`` only say what they would send and cost."""
    from vspectrum_app.core.errors import UserError
    from vspectrum_app.persona.personas import PersonaLibrary
    from vspectrum_app.persona.runner import session_config, watch_rate
    from vspectrum_app.persona.store import SessionStore

    library = PersonaLibrary(ws)
    personas = [library.get(name) for name in args.persona]
    models = _models(args.model, args.provider)
    if args.strategy == "control":
        if models:
            raise UserError("the control policy uses no model: leave out --model")
        rate = watch_rate(ws, args.match) if args.match else (0.2 if args.control_rate is None else args.control_rate)
        if not 0 <= rate <= 1:
            raise UserError("--control-rate must be between 0 and 1")
        models = [(None, None)]
    elif not models:
        raise UserError("say which model role-plays: --model PROVIDER:MODEL (or --strategy control)")
    else:
        rate = 0.2
    settings = dict(
        platform=args.platform,
        skin=args.skin,
        trials=args.trials,
        scrolls=args.scrolls,
        window=args.window,
        watch_s=args.watch_s,
        capture_at_s=args.capture_at_s,
        threshold=args.threshold,
        temperature=args.temperature,
        seed=args.seed,
        control_rate=rate,
        time_scale=args.speed,
    )
    templates = _templates(args.prompt_file, args.strategy)
    configs = [
        session_config(
            persona, args.strategy, provider=provider, model=model, templates=templates, images=args.images, **settings
        )
        for persona in personas
        for provider, model in models
    ]
    store = SessionStore(ws)
    if args.dry_run:
        _announce_estimate(configs, store, reporter)
        return []
    return [store.create(cfg) for cfg in configs]


def _announce_estimate(configs: list[SessionConfig], store: SessionStore, reporter: Reporter) -> None:
    from vspectrum_app.persona.estimate import estimate_sessions
    from vspectrum_app.providers.config import ProviderStore

    est = estimate_sessions(configs, ProviderStore(), store)
    reporter.log(est.headline())
    reporter.emit(
        "estimate",
        headline=est.headline(),
        cost=est.cost,
        calls=est.calls,
        input_tokens=est.input_tokens,
        output_tokens=est.output_tokens,
        cost_usd=est.cost_usd,
        seconds=est.seconds,
        items=est.videos,
    )


def _check_sessions(args: Resume, ws: Workspace) -> list[str]:
    from vspectrum_app.persona.store import SessionStore

    store = SessionStore(ws)
    for s in args.sessions:
        store.config(s)  # an unknown id fails before anything starts
    return list(args.sessions)


def _replay(args: Replay, ws: Workspace, reporter: Reporter) -> list[str]:
    from vspectrum_app.persona.personas import PersonaLibrary
    from vspectrum_app.persona.runner import RunOptions, execute, new_replay
    from vspectrum_app.persona.store import SessionStore

    persona = PersonaLibrary(ws).get(args.persona) if args.persona else None
    provider, model = (_models((args.model,) if args.model else (), args.provider) or [(None, None)])[0]
    strategy = args.strategy or SessionStore(ws).config(args.source).strategy
    session = new_replay(
        ws,
        args.source,
        persona=persona,
        strategy=args.strategy,
        provider=provider,
        model=model,
        templates=_templates(args.prompt_file, strategy) if args.prompt_file else None,
    )
    reporter.emit("persona_session", session_id=session, index=1, count=1, replay_of=args.source)
    reporter.log(f"replay {session} of {args.source}")
    execute(ws, session, reporter, RunOptions())
    return [session]


def _execute(sessions: list[str], options: BrowserOptions, ws: Workspace, reporter: Reporter) -> list[str]:
    from vspectrum_app.persona.runner import execute

    run_options = _run_options(options)
    for n, session in enumerate(sessions, 1):
        reporter.emit("persona_session", session_id=session, index=n, count=len(sessions))
        reporter.log(f"session {session} ({n}/{len(sessions)})")
        execute(ws, session, reporter, run_options)
    return sessions
