"""What persona sessions will send and cost before they run (``persona run --dry-run``):
one model call per video for a model strategy (none for the control policy), priced and paced
by the same functions as the benchmark's estimate (providers.prices, providers.service)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vspectrum_app.core.jobs import format_duration
from vspectrum_app.providers.clients import IMAGE_TOKENS
from vspectrum_app.providers.prices import format_cost, load_table, price_for
from vspectrum_app.providers.service import LATENCY_GUESS_S, seconds_at_limits

if TYPE_CHECKING:
    from vspectrum_app.persona.store import SessionConfig, SessionStore
    from vspectrum_app.providers.config import ProviderStore

# A Simple answer is a short dict; an ISQ answer seven fields with reasons.
ANSWER_TOKENS = {"simple": 40, "isq": 200}
ANSWER_MAX_TOKENS = 300  # providers.clients.DEFAULT_MAX_TOKENS: what a persona call may answer


@dataclass
class PersonaEstimate:
    sessions: int = 0
    videos: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0  # of the priced models (``unpriced`` are not in it)
    unpriced: set[str] = field(default_factory=set)
    seconds: float = 0.0  # model calls at the limits and the capture moments, on the feed's clock
    watch_s: float = 0.0  # more if every video is watched (a yes watches for --watch seconds)

    @property
    def cost(self) -> str:
        return format_cost(self.cost_usd, self.unpriced, estimate=True)

    def headline(self) -> str:
        return (
            f"{self.sessions} session(s), {self.videos} videos: {self.calls} model calls; "
            f"~{self.input_tokens:,} input and ~{self.output_tokens:,} output tokens; {self.cost}; "
            f"~{format_duration(self.seconds)} at the configured limits, plus up to "
            f"{format_duration(self.watch_s)} of watching"
        )


def estimate_sessions(
    configs: list[SessionConfig], providers: ProviderStore, store: SessionStore | None = None, done: int = 0
) -> PersonaEstimate:
    """``configs`` run one after another; ``done``: videos already recorded (a resume); ``store``
    gives the providers' logged latency."""
    est = PersonaEstimate(sessions=len(configs))
    table = load_table()
    for cfg in configs:
        videos = max(cfg.trials * cfg.scrolls - done, 0)
        est.videos += videos
        scale = cfg.time_scale if cfg.platform == "sim" else 1.0
        est.seconds += videos * cfg.capture_at_s / scale
        est.watch_s += videos * cfg.watch_s / scale
        if cfg.strategy == "control" or not (cfg.provider and cfg.model):
            continue
        provider = providers.get(cfg.provider)
        tin, tout = cfg_tokens(cfg)
        est.calls += videos
        est.input_tokens += videos * tin
        est.output_tokens += videos * tout
        price = price_for(provider, cfg.model, table)
        if price is None:
            est.unpriced.add(f"{cfg.provider}:{cfg.model}")
        else:
            est.cost_usd += videos * (tin * price.input_per_mtok + tout * price.output_per_mtok) / 1e6
        latency = (store.mean_latency(cfg.provider) if store is not None else None) or LATENCY_GUESS_S
        est.seconds += seconds_at_limits(videos, provider.requests_per_minute, 1, latency)  # one video at a time
    return est


def cfg_tokens(cfg: SessionConfig) -> tuple[int, int]:
    """A call's input (the prompt at ~4 characters a token and the screenshot) and output tokens."""
    return len(cfg.prompt) // 4 + IMAGE_TOKENS, min(ANSWER_TOKENS.get(cfg.strategy, 40), ANSWER_MAX_TOKENS)
