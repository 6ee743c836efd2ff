"""The persona agent loop: for each video, capture the screenshot 2 s in, ask the model (in
the persona), then watch for 45 s on a yes or scroll at once on a no.

The loop only knows two small interfaces, so the same code drives the simulated platform
and the real ones, and a model or a control policy:

- ``Feed``: the short-video feed in a browser (``persona.feeds``).
- ``Decider``: turns a screenshot into a decision (``persona.deciders``).

Every step is committed to the workspace before the next video; ``resume`` replays the
recorded steps of an unfinished trial onto a fresh simulator session with the same seed
(same seed and same actions give the same feed), then continues without asking the model
again for anything it already answered. A feed that cannot be replayed (a real platform)
goes on where it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from vspectrum_app.core.atomic import atomic_write_bytes
from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.persona.store import SessionConfig, SessionStore, Step

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace


@dataclass
class FeedItem:
    item_id: str
    url: str | None = None
    topics: list[str] = field(default_factory=list)


@dataclass
class Decision:
    decision: str  # yes | no | unparsed | refusal
    raw_answer: str | None = None
    parsed: dict[str, Any] = field(default_factory=dict)
    score: float | None = None  # ISQ S%
    call: dict[str, Any] | None = None  # the model call behind it (persona.asker.call_row), for the call log


class Feed(Protocol):
    replays: bool  # whether the same seed and the same actions give the same feed again

    def start_trial(self, trial: int, seed: int) -> None: ...
    def current(self) -> FeedItem: ...
    def capture(self, at_s: float) -> bytes: ...
    def watch(self, seconds: float) -> None: ...
    def next(self) -> None: ...
    def profile(self) -> dict[str, Any] | None: ...
    def close(self) -> None: ...


class Decider(Protocol):
    def decide(self, image: bytes, prompt: str) -> Decision: ...


class FeedDiverged(Exception):
    """On resume, the replayed feed served another video than the one recorded."""


def run_session(
    ws: Workspace,
    session_id: str,
    feed: Feed,
    decider: Decider,
    reporter: Reporter | None = None,
    spent: Callable[[], tuple[int, str]] | None = None,
) -> None:
    """``spent``: the model calls sent so far and their cost in words, shown with each step."""
    reporter = reporter or NullReporter()
    store = SessionStore(ws)
    cfg = store.config(session_id)
    total = cfg.trials * cfg.scrolls
    done_total = len(store.steps(session_id))
    store.set_status(session_id, "running")
    reporter.progress(done_total, total, "starting")
    for trial in range(cfg.trials):
        recorded = store.steps(session_id, trial)
        if len(recorded) >= cfg.scrolls:
            continue
        feed.start_trial(trial, seed=trial_seed(cfg, trial))
        if recorded and feed.replays:
            _replay(feed, recorded, cfg, reporter)
        elif recorded:
            reporter.log(
                f"trial {trial + 1} goes on in its browser profile after {len(recorded)} recorded videos "
                f"(a real platform cannot be replayed)"
            )
        for position in range(len(recorded), cfg.scrolls):
            reporter.check_cancelled()
            step = _one_video(ws, session_id, cfg, feed, decider, trial, position)
            store.add_step(session_id, step, profile=feed.profile())
            done_total += 1
            reporter.emit(
                "persona_step",
                session_id=session_id,
                trial=trial,
                position=position,
                decision=step.decision,
                score=step.score,
                dwell_s=step.dwell_s,
                item_id=step.item_id,
                topics=step.item_topics,
                related=step.related,
                image=str(screenshot_path(ws, session_id, trial, position)),
                **(dict(zip(("calls", "cost"), spent())) if spent else {}),
            )
            reporter.progress(done_total, total, f"trial {trial + 1}/{cfg.trials}")
            feed.next()
    store.set_status(session_id, "done")


def trial_seed(cfg: SessionConfig, trial: int) -> int:
    """A fresh, reproducible feed profile per trial."""
    return cfg.seed * 1000 + trial


def screenshot_path(ws: Workspace, session_id: str, trial: int, position: int) -> Path:
    return ws.root / "persona" / session_id / f"t{trial:02d}-p{position:03d}.jpg"


def _one_video(
    ws: Workspace, session_id: str, cfg: SessionConfig, feed: Feed, decider: Decider, trial: int, position: int
) -> Step:
    item = feed.current()
    image = feed.capture(cfg.capture_at_s)
    path = screenshot_path(ws, session_id, trial, position)
    atomic_write_bytes(path, image)
    decision = decider.decide(image, cfg.prompt)
    dwell = cfg.watch_s if decision.decision == "yes" else 0.0
    feed.watch(dwell)
    return Step(
        trial=trial,
        position=position,
        decision=decision.decision,
        dwell_s=dwell,
        item_id=item.item_id,
        item_url=item.url,
        item_topics=item.topics,
        image_sha256=hashlib.sha256(image).hexdigest(),
        prompt=cfg.prompt,
        raw_answer=decision.raw_answer,
        parsed=decision.parsed,
        score=decision.score,
        related=is_related(item.topics, cfg.persona) if item.topics else None,
        call=decision.call,
    )


def _replay(feed: Feed, recorded: list[Step], cfg: SessionConfig, reporter: Reporter) -> None:
    """Do again what the recorded steps did (the capture wait included: it is dwell too)."""
    reporter.log(f"replaying {len(recorded)} recorded videos of trial {recorded[0].trial + 1} to restore the feed")
    for step in recorded:
        reporter.check_cancelled()
        item = feed.current()
        if step.item_id and item.item_id != step.item_id:
            raise FeedDiverged(
                f"resume: the feed served {item.item_id} where {step.item_id} was recorded "
                f"(trial {step.trial + 1}, video {step.position + 1}); the simulator's catalogue changed?"
            )
        feed.capture(cfg.capture_at_s)
        feed.watch(step.dwell_s)
        feed.next()


def is_related(topics: list[str], persona: dict[str, Any]) -> bool:
    """Whether an item's topics touch what the persona is meant to pull the feed towards
    (its declared topics or Schwartz values). Used for the simulator's objective measure."""
    wanted = {t.lower() for t in persona.get("topics", [])} | {v.lower() for v in persona.get("values", [])}
    return bool(wanted & {t.lower() for t in topics})
