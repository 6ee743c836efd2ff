"""Creating and running persona sessions: what ``vspectrum persona run|resume|replay`` (and
through them the Persona pane) call.

A session's configuration records everything that defines the measurement (persona,
prompt text, model, platform, trials, durations, seeds, the simulator's catalogue and
clock); ``RunOptions`` holds only how to reach things this time (browser, window).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from vspectrum_app.core import locks
from vspectrum_app.core.jobs import Cancelled, NullReporter, Reporter
from vspectrum_app.persona.agent import Decider, Feed, run_session
from vspectrum_app.persona.metrics import window_problem
from vspectrum_app.persona.personas import Persona
from vspectrum_app.persona.prompts import PromptTemplates
from vspectrum_app.persona.store import PersonaSessionError, SessionConfig, SessionStore

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace
    from vspectrum_app.providers.clients import ChatClient
    from vspectrum_app.providers.config import ProviderStore
    from vspectrum_app.sim.server import SimServer

STRATEGIES = ("simple", "isq", "control")
SESSION_LOCK = "persona-session"  # core.locks kind: ``locks.is_locked(ws.root, SESSION_LOCK, sid)``
TEMPLATE_KEY = "prompt_template"  # SessionConfig.extra: the unrendered template the prompt came from


@dataclass
class RunOptions:
    headless: bool = True
    browser: str | None = None
    sim_url: str | None = None  # a running simulator (default: one is started per run)
    start_url: str | None = None  # real platforms: the page to start from (default: the feed)
    wall_timeout_s: float = 0.0  # real platforms: time given to the user at a login wall


def new_session(ws: Workspace, persona: Persona, strategy: str, **options: Any) -> str:
    """Record a session (not started); ``options`` are ``session_config``'s."""
    return SessionStore(ws).create(session_config(persona, strategy, **options))


def session_config(
    persona: Persona,
    strategy: str,
    *,
    provider: str | None = None,
    model: str | None = None,
    templates: PromptTemplates | None = None,
    images: str | None = None,
    **settings: Any,
) -> SessionConfig:
    """A new session's configuration, checked (what ``new_session`` records and a dry run prices)."""
    if strategy not in STRATEGIES:
        raise PersonaSessionError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    if strategy != "control" and not (provider and model):
        raise PersonaSessionError("a model session needs a provider and a model")
    templates = templates or PromptTemplates()
    prompt = "" if strategy == "control" else templates.render(strategy, persona)
    cfg = SessionConfig(
        persona=persona.to_json(), strategy=strategy, provider=provider, model=model, prompt=prompt, **settings
    )
    if strategy != "control":
        cfg.extra[TEMPLATE_KEY] = getattr(templates, strategy)  # what a replay renders for another persona
    if cfg.platform == "sim":
        cfg.extra["images"] = str(Path(images).resolve()) if images else None  # else the workspace
    _validate(cfg)
    return cfg


def new_replay(
    ws: Workspace,
    source: str,
    *,
    persona: Persona | None = None,
    strategy: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    templates: PromptTemplates | None = None,
) -> str:
    """Counterfactual replay: the source session's recorded feed (its finished trials), shown
    to another model, persona or strategy. Nothing reacts to the new decisions."""
    store = SessionStore(ws)
    src = store.config(source)
    steps = store.steps(source)
    done = sorted({s.trial for s in steps if s.position == src.scrolls - 1})
    if not done:
        raise PersonaSessionError(f"session {source} has no finished trial to replay")
    if done != list(range(len(done))):
        raise PersonaSessionError(
            f"session {source}: trials {done} are finished but not the first ones; resume it before replaying"
        )
    persona_json = persona.to_json() if persona else src.persona
    strategy = strategy or src.strategy
    if strategy == "control":
        raise PersonaSessionError("a replay needs a model (a control policy does not look at the feed)")
    provider, model = provider or src.provider, model or src.model
    if not (provider and model):
        raise PersonaSessionError("say which model to replay the feed to: --provider and --model")
    template = getattr(templates, strategy) if templates else _source_template(src, source, strategy, persona_json)
    if template is None:  # an older session, the same persona: its exact prompt again
        prompt, extra = src.prompt, dict(src.extra)
    else:
        prompt = PromptTemplates(**{strategy: template}).render(strategy, Persona.from_json(persona_json))
        extra = {**src.extra, TEMPLATE_KEY: template}
    cfg = replace(
        src,
        persona=persona_json,
        strategy=strategy,
        provider=provider,
        model=model,
        prompt=prompt,
        trials=len(done),
        replay_of=source,
        extra=extra,
    )
    return store.create(cfg)


def _source_template(src: SessionConfig, source: str, strategy: str, persona_json: dict[str, Any]) -> str | None:
    """The prompt template a replay inherits: the source session's exact one (its strategy's
    default when the replay asks with another strategy). For a session recorded before
    templates were kept: None (reuse its rendered prompt) when the persona is the same, the
    default template when that is what it sent; otherwise the user must give it."""
    if strategy != src.strategy:
        return str(getattr(PromptTemplates(), strategy))
    if TEMPLATE_KEY in src.extra:
        kept: str | None = src.extra[TEMPLATE_KEY]
        return kept
    if persona_json == src.persona:
        return None
    if src.prompt == PromptTemplates().render(strategy, Persona.from_json(src.persona)):
        return str(getattr(PromptTemplates(), strategy))
    raise PersonaSessionError(
        f"session {source} was recorded with an edited prompt whose template was not kept: "
        f"give it with --prompt-file to replay it to another persona"
    )


def execute(
    ws: Workspace,
    session_id: str,
    reporter: Reporter | None = None,
    options: RunOptions | None = None,
    *,
    providers: ProviderStore | None = None,
    client_factory: Callable[..., ChatClient] | None = None,
) -> str:
    """Run (or resume) a session to its end; returns its final status. A crash, a cancel or
    a dead key leaves it resumable: every finished video is already committed."""
    reporter = reporter or NullReporter()
    options = options or RunOptions()
    store = SessionStore(ws)
    cfg = store.config(session_id)
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(locks.hold(ws.root, SESSION_LOCK, session_id, f"persona session {session_id}"))
            decider, spent = _decider(cfg, session_id, store, reporter, providers, client_factory, stack)
            feed = _feed(ws, cfg, session_id, options, reporter, stack)
            stack.callback(feed.close)
            run_session(ws, session_id, feed, decider, reporter, spent)
    except locks.RunLockedError:
        raise  # the other process owns the session and its status
    except (Cancelled, KeyboardInterrupt):
        store.set_status(session_id, "cancelled", "cancelled; resume to go on")
        raise
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        store.set_status(session_id, "failed", message)
        done = len(store.steps(session_id))
        raise PersonaSessionError(
            f"session {session_id} stopped after {done} videos ({message}); they are saved: "
            f"`vspectrum persona resume {session_id}` goes on"
        ) from exc
    return "done"


def watch_rate(ws: Workspace, session_id: str) -> float:
    """A finished session's share of yes decisions: the control policy's rate to match."""
    steps = SessionStore(ws).steps(session_id)
    if not steps:
        raise PersonaSessionError(f"session {session_id} has no steps yet: nothing to match")
    return sum(s.decision == "yes" for s in steps) / len(steps)


def _validate(cfg: SessionConfig) -> None:
    if cfg.trials < 1 or cfg.scrolls < 1:
        raise PersonaSessionError("trials and scrolls must be at least 1")
    problem = window_problem(cfg.window, cfg.scrolls)  # before anything is asked of a model
    if problem:
        raise PersonaSessionError(problem)
    if cfg.watch_s < 0 or cfg.capture_at_s < 0 or cfg.time_scale <= 0:
        raise PersonaSessionError("watch time and capture moment must not be negative, the clock speed positive")


def _decider(
    cfg: SessionConfig,
    session_id: str,
    store: SessionStore,
    reporter: Reporter,
    providers: ProviderStore | None,
    client_factory: Callable[..., ChatClient] | None,
    stack: contextlib.ExitStack,
) -> tuple[Decider, Callable[[], tuple[int, str]] | None]:
    """The session's decider, and what its model calls have cost so far (None: no model)."""
    from vspectrum_app.persona.deciders import ControlDecider, ModelDecider

    if cfg.strategy == "control":
        # seeded per run and by what was already done, so a resumed control session
        # does not replay the same random draws
        return ControlDecider(cfg.control_rate, seed=cfg.seed * 100_003 + len(store.steps(session_id))), None
    from vspectrum_app.persona.asker import ModelAsker
    from vspectrum_app.providers.clients import Params, make_client
    from vspectrum_app.providers.config import ProviderStore
    from vspectrum_app.providers.service import ModelService

    assert cfg.provider and cfg.model  # new_session refuses a model session without them
    configs = providers or ProviderStore()
    service = ModelService(configs, client_factory=client_factory or make_client, reporter=reporter)
    asker = ModelAsker(configs.get(cfg.provider), cfg.model, Params(temperature=cfg.temperature), service)
    stack.callback(asker.close)
    decider = ModelDecider(
        asker, cfg.strategy, threshold=cfg.threshold, max_trait=len(cfg.persona.get("statements", [])) or None
    )
    return decider, lambda: (asker.calls, asker.service.spent.describe())


def _feed(
    ws: Workspace,
    cfg: SessionConfig,
    session_id: str,
    options: RunOptions,
    reporter: Reporter,
    stack: contextlib.ExitStack,
) -> Feed:
    if cfg.replay_of:
        from vspectrum_app.persona.feeds import RecordedFeed

        return RecordedFeed(ws, cfg.replay_of)
    from vspectrum_app.persona.feeds import BrowserFeed

    sim_base = None
    if cfg.platform == "sim":
        sim_base = options.sim_url or stack.enter_context(_sim_server(ws, cfg, reporter)).url
    return BrowserFeed(
        platform=cfg.platform,
        session_id=session_id,
        skin=cfg.skin if cfg.platform == "sim" else None,
        sim_base=sim_base,
        start_url=options.start_url,
        headless=options.headless,
        browser=options.browser,
        reporter=reporter,
        wall_timeout_s=options.wall_timeout_s,
    )


def _sim_server(ws: Workspace, cfg: SessionConfig, reporter: Reporter) -> SimServer:
    from vspectrum_app.sim.catalog import Catalog
    from vspectrum_app.sim.clock import VirtualClock
    from vspectrum_app.sim.server import SimPlatform, SimServer

    images = cfg.extra.get("images")
    catalog = Catalog.from_folder(Path(images)) if images else Catalog.from_workspace(ws)
    reporter.log(
        f"simulated platform: {len(catalog)} videos from {images or 'the workspace'}, clock x{cfg.time_scale:g}"
    )
    return SimServer(SimPlatform(catalog, VirtualClock(speed=cfg.time_scale), seed=cfg.seed))
