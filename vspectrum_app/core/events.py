"""The job protocol's events: one typed class per event a job child emits, one wire format.

A job child (``vspectrum --events ...``) writes one JSON object per line on stdout:
``{"v": 1, "type": "answer", "t": 1700000000.123, ...fields}``. ``encode`` writes that line
(``core.jobs.JsonLinesReporter``); ``decode`` reads it back into an ``Event`` for the window's
job runner (``gui.jobs.Job``) and for the GUI tests' fake job, so that both read the protocol
the same way. A line that is not an event decodes to ``Output`` (the command's own text),
``Garbled`` (broken JSON or fields) or ``Unknown`` (a type this version does not know):
never to an exception, since a child's bad line must not take the window down.

``WIRE_VERSION`` goes up when a field changes meaning or is removed; adding a field with a
default does not need it (older readers ignore fields they do not know).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

WIRE_VERSION = 1

_REGISTRY: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True)
class Event:
    """An event from a job child; ``t`` is when the child emitted it (seconds since the epoch)."""

    type: ClassVar[str] = ""
    t: float | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("type"):
            _REGISTRY[cls.type] = cls

    def fields(self) -> dict[str, Any]:
        """The event's own fields (without ``t``), as the wire carries them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "t"}


# -- every job ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Progress(Event):
    type: ClassVar[str] = "progress"
    done: int = 0
    total: int | None = None  # None: unknown
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class Log(Event):
    type: ClassVar[str] = "log"
    level: str = "info"  # info, warning, error
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class Result(Event):
    """The command's result, once, at the end: on the wire the ``core.wire`` form of the
    operation's ``result_type``; read back by ``core.operations.decode_line``, that instance."""

    type: ClassVar[str] = "result"
    data: Any = None


@dataclass(frozen=True, kw_only=True)
class Error(Event):
    """A failure in one sentence; the job has failed (``provider``: the provider it concerns)."""

    type: ClassVar[str] = "error"
    message: str = ""
    provider: str | None = None


# -- bench run / resume -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Estimate(Event):
    """``bench run --dry-run``: what the run would cost."""

    type: ClassVar[str] = "estimate"
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    items: int | None = None
    per_provider: dict[str, Any] = field(default_factory=dict)
    retrieval: dict[str, Any] = field(default_factory=dict)
    k: int | None = None
    shortfall: dict[str, Any] = field(default_factory=dict)  # values short of k: keyword -> images found
    found: int = 0  # requests answered already in the workspace: not sent
    cost: str = ""  # the cost in words (providers.prices.format_cost): "free", "~$0.42", "cost unknown ..."
    headline: str = ""  # the estimate in one sentence, as the CLI prints it
    batch: bool = False  # priced at the batch APIs' discount (``bench run --batch``)


@dataclass(frozen=True, kw_only=True)
class RunCreated(Event):
    type: ClassVar[str] = "run_created"
    run_id: str
    items: int = 0


@dataclass(frozen=True, kw_only=True)
class Waiting(Event):
    """A stall and its cause: a rate limit (``requests``/``tokens``) or a retry's back-off."""

    type: ClassVar[str] = "waiting"
    provider: str = ""
    cause: str = ""
    limit: str | None = None
    seconds: float = 0.0
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class BatchState(Event):
    """A batch of a ``--batch`` run changed state (the provider's word: validating,
    in_progress, finalizing, completed, ended, expired, failed...)."""

    type: ClassVar[str] = "batch"
    provider: str = ""
    batch_id: str = ""
    round: int = 0
    state: str = ""
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class ItemError(Event):
    """One item failed (asked again on resume)."""

    type: ClassVar[str] = "item_error"
    item_id: int | None = None
    target: str = ""
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class Answer(Event):
    type: ClassVar[str] = "answer"
    run_id: str | None = None
    item_id: int | None = None
    target: str
    mode: str = "vlm"
    value: str
    keyword: str = ""
    image_id: int | None = None
    image_sha256: str | None = None  # the image's cluster in the score's interval
    answer_class: str
    answer: str = ""
    reason: str = ""
    variant: str = "paper"  # the wording of the like question it answers (bench.variants; "paper": the run's own)


@dataclass(frozen=True, kw_only=True)
class RunStatus(Event):
    type: ClassVar[str] = "run_status"
    items_done: int = 0
    items_total: int = 0
    calls_sent: int = 0
    calls_cached: int = 0
    calls_left: int = 0
    eta_s: float = 0.0
    errors: int = 0
    refusal: int = 0
    unparsed: int = 0
    retries: int = 0
    cost_usd: float = 0.0  # of the calls sent so far, priced ones only
    cost: str = ""  # the same in words (providers.prices.format_cost)


# -- crawl ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Capture(Event):
    """One video of a crawl: stored, a duplicate, flagged, ... (``image``: its thumbnail)."""

    type: ClassVar[str] = "capture"
    session_id: str | None = None
    position: int | None = None
    outcome: str = ""
    flags: list[str] = field(default_factory=list)
    image: str | None = None
    offset_s: float | None = None
    link: str | None = None
    author: str | None = None
    caption: str | None = None
    post_date: str | None = None


# -- persona ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PersonaSession(Event):
    """A persona session starts (``index`` of ``count`` in this job; ``replay_of`` for a replay)."""

    type: ClassVar[str] = "persona_session"
    session_id: str
    index: int = 1
    count: int = 1
    replay_of: str | None = None


@dataclass(frozen=True, kw_only=True)
class PersonaStep(Event):
    """One video of a persona session and the decision on it."""

    type: ClassVar[str] = "persona_step"
    session_id: str | None = None
    trial: int
    position: int
    decision: str
    score: float | None = None
    dwell_s: float = 0.0
    item_id: str | None = None
    topics: list[str] = field(default_factory=list)
    related: bool | None = None
    image: str | None = None
    calls: int = 0  # model calls sent so far in this session's run
    cost: str = ""  # what they cost, in words (providers.prices.format_cost)


# -- sim serve --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Serving(Event):
    type: ClassVar[str] = "serving"
    url: str


# -- what decode gives for lines that are not (known) events -----------------------------------


@dataclass(frozen=True, kw_only=True)
class Output(Event):
    """A line of the command's human-readable output (not JSON)."""

    text: str


@dataclass(frozen=True, kw_only=True)
class Unknown(Event):
    """A well-formed event of a type this version does not know (a newer child, say)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Garbled(Event):
    """A line that looks like an event but cannot be read; ``reason`` says why."""

    line: str
    reason: str


def registry() -> dict[str, type[Event]]:
    """Every event type a job child emits, by its wire name."""
    return dict(_REGISTRY)


def make(kind: str, t: float | None = None, **data: Any) -> Event:
    """The typed event for ``kind`` (``Unknown`` for a type not registered). A field the type
    does not declare, or a missing required one, raises TypeError: the emitter has drifted."""
    cls = _REGISTRY.get(kind)
    if cls is None:
        return Unknown(t=t, kind=kind, data=data)
    return cls(t=t, **data)


def encode(event: Event) -> str:
    """The event as one JSON line (without the newline)."""
    if isinstance(event, Unknown):
        payload = {"type": event.kind, **event.data}
    else:
        payload = {"type": event.type, **event.fields()}
    return json.dumps({"v": WIRE_VERSION, **payload, "t": event.t}, default=str)


def decode(line: str) -> Event:
    """One line of a job child's stdout as an Event; never raises."""
    line = line.strip()
    if not line.startswith("{"):
        return Output(text=line)
    try:
        raw = json.loads(line)
    except ValueError as exc:
        return Garbled(line=line, reason=f"not JSON ({exc})")
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return Garbled(line=line, reason="no event type")
    kind, t, data = raw.pop("type"), raw.pop("t", None), raw
    data.pop("v", None)
    t = t if isinstance(t, (int, float)) and not isinstance(t, bool) else None
    cls = _REGISTRY.get(kind)
    if cls is None:
        return Unknown(t=t, kind=kind, data=data)
    known = {f.name for f in dataclasses.fields(cls)}
    try:
        values = {k: _coerce(cls, k, v) for k, v in data.items() if k in known}  # newer fields: ignored
        return cls(t=t, **values)
    except (TypeError, ValueError) as exc:
        return Garbled(line=line, reason=f"bad {kind} event ({exc})")


_HINTS: dict[type, dict[str, Any]] = {}


def _coerce(cls: type[Event], name: str, value: Any) -> Any:
    """Numbers as their declared type (a JSON 3.0 for an int field, say); others as sent."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    hint = hints.get(name)
    if value is None:
        return None
    if hint in (int, int | None) and not isinstance(value, bool):
        return int(value)
    if hint in (float, float | None) and not isinstance(value, bool):
        return float(value)
    return value
