"""The one model-calling service: every part that asks a model (benchmark turns, the describer
and text-only models, persona sessions and their replays, the provider Test) calls through it.

Per provider and process it holds the client, the concurrency, the rate limit (shared with the
other processes of the machine: ``ratelimit.SharedWindow``), the circuit breaker and the price.
A call is retried by ``retry.with_retries``; its cost is reckoned from the provider's price
(``prices.call_cost``: 0 is free, no price is unknown) and added to the service's running total.
What a call was and what it answered comes back as a ``CallResult``, which each part writes
to its own call log (``bench_calls``, ``persona_calls``) in the shape ``request_record`` gives.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Coroutine, TypeVar

from vspectrum_app.core import clock
from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.core.secrets import redact
from vspectrum_app.providers.clients import (
    ChatClient,
    Completion,
    Message,
    Params,
    estimate_tokens,
    make_client,
    request_tokens,
)
from vspectrum_app.providers.errors import AuthFailed, Retryable
from vspectrum_app.providers.prices import Price, PriceTable, call_cost, format_cost, load_table, price_for
from vspectrum_app.providers.ratelimit import RateLimiter, SharedWindow
from vspectrum_app.providers.retry import CircuitBreaker, with_retries

if TYPE_CHECKING:
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

T = TypeVar("T")
LATENCY_GUESS_S = 2.0  # a call's latency for an estimate when none of the provider's is logged
_POLL_S = 0.25  # how often a blocking caller looks at the cancel flag
WaitFn = Callable[[str, float, str, "str | None"], None]  # (provider, seconds, cause, reason)


@dataclass
class CallResult:
    """One call as sent and answered: what every call log stores."""

    provider: str
    model: str
    completion: Completion
    latency_s: float
    cost_usd: float | None  # None: no price known (or the server counted no tokens)
    created_at: str


@dataclass
class Spent:
    """The running cost of the calls sent: known dollars, and the models with no price."""

    usd: float = 0.0
    calls: int = 0
    unpriced: set[str] = field(default_factory=set)

    def add(self, target: str, cost: float | None) -> None:
        self.calls += 1
        if cost is None:
            self.unpriced.add(target)
        else:
            self.usd += cost

    def describe(self) -> str:
        return format_cost(self.usd if self.calls else 0.0, self.unpriced)


def request_record(
    config: ProviderConfig, model: str, params: Params, messages: list[Message], image_sha256: str | None
) -> dict[str, Any]:
    """What identifies a call and is logged: never the key, never the image bytes (its hash,
    on the first message). The endpoint is part of it: a provider re-pointed elsewhere is
    another model."""
    return {
        "provider": config.name,
        "kind": config.kind,
        "base_url": config.effective_base_url,
        "model": model,
        "params": params.to_json(),
        "messages": [
            {"role": m.role, "text": m.text, "image_sha256": image_sha256 if n == 0 else None}
            for n, m in enumerate(messages)
        ],
    }


def seconds_at_limits(calls: int, rpm: int, concurrency: int, latency_s: float) -> float:
    """How long ``calls`` take at a provider's limits: the slower of its rate limit (``rpm``
    starts in any window of 60 s, the first ``rpm`` at once) and its latency over its
    concurrency. The one pace every estimate (benchmark, persona) uses."""
    if calls <= 0:
        return 0.0
    by_rate = ((calls - 1) // rpm) * 60.0
    return max(by_rate, math.ceil(calls / concurrency) * latency_s)


class ProviderLine:
    """One provider in this process: client, concurrency, limits, breaker, whether its key failed."""

    def __init__(self, config: ProviderConfig, client_factory: Callable[..., ChatClient], shared_limits: bool):
        self.config = config
        self.semaphore = asyncio.Semaphore(config.concurrency)
        shared = SharedWindow(f"{config.name} {config.effective_base_url}") if shared_limits else None
        self.limiter = RateLimiter(config.requests_per_minute, config.tokens_per_minute, shared=shared)
        self.breaker = CircuitBreaker(config.name)
        self.dead: str | None = None
        self.latency = [0.0, 0]  # total seconds and count of calls answered
        self.calls_sent = 0  # calls whose first attempt has left (retries not counted)
        self.client: ChatClient | None
        try:
            self.client = client_factory(config, self.limiter.acquire)
        except Exception as exc:  # a missing key: this provider stops, the others go on
            self.client, self.dead = None, str(exc)

    def mean_latency(self) -> float | None:
        return self.latency[0] / self.latency[1] if self.latency[1] else None


class ModelService:
    """Calls models for one job. ``cancelled``: asked before each attempt leaves (a stop sends
    nothing new); ``on_wait``: told of every stall of a second or more and its cause."""

    def __init__(
        self,
        providers: ProviderStore | None = None,
        *,
        client_factory: Callable[..., ChatClient] = make_client,
        reporter: Reporter | None = None,
        shared_limits: bool = True,
        prices: PriceTable | None = None,
    ):
        if providers is None:
            from vspectrum_app.providers.config import ProviderStore

            providers = ProviderStore()
        self.providers = providers
        self.reporter = reporter or NullReporter()
        self.on_wait: WaitFn | None = None
        self._client_factory = client_factory
        self._shared = shared_limits
        self._prices = prices
        self._price_cache: dict[tuple[str, str], Price | None] = {}
        self.lines: dict[str, ProviderLine] = {}
        self.sending: set[asyncio.Task[Any]] = set()  # attempts on the wire: a stop waits for them
        self.counts: Counter[str] = Counter()  # sent (attempts), retries
        self.spent = Spent()

    def line(self, name: str) -> ProviderLine:
        """The provider ``name`` (from the provider settings), opened on first use."""
        if name not in self.lines:
            self.open(self.providers.get(name))
        return self.lines[name]

    def open(self, config: ProviderConfig) -> ProviderLine:
        """Open a provider from its configuration (a caller that was given one, not a name)."""
        line = ProviderLine(config, self._client_factory, self._shared)
        line.limiter.on_wait = lambda seconds, cause: self._wait(config.name, seconds, cause, None)
        self.lines[config.name] = line
        return line

    def price(self, provider: str, model: str) -> Price | None:
        key = (provider, model)
        if key not in self._price_cache:
            if self._prices is None:
                self._prices = load_table()
            self._price_cache[key] = price_for(self.line(provider).config, model, self._prices)
        return self._price_cache[key]

    def _wait(self, provider: str, seconds: float, cause: str, reason: str | None) -> None:
        if self.on_wait is not None:
            self.on_wait(provider, seconds, cause, reason)

    async def call(
        self, provider: str, model: str, messages: list[Message], params: Params, attempts: int | None = None
    ) -> CallResult:
        """Send one request (tried ``attempts`` times, default the provider's ``max_retries``) and
        account for it. Raises the errors of ``providers.errors``; ``asyncio.CancelledError`` once
        the job is stopped."""
        line = self.line(provider)
        first = [True]

        async def attempt() -> Completion:
            async with line.semaphore:
                # checked after the wait: a key rejected meanwhile must not be sent again
                if line.dead or line.client is None:
                    raise AuthFailed(line.dead or f"{provider} has no client")
                if self.reporter.cancelled():
                    raise asyncio.CancelledError
                line.breaker.check()
                self.counts["sent"] += 1
                if first[0]:
                    line.calls_sent, first[0] = line.calls_sent + 1, False
                request_tokens.set(estimate_tokens(messages, params))
                task = asyncio.current_task()
                assert task is not None  # this coroutine runs as a task
                self.sending.add(task)
                try:
                    completion = await line.client.complete(model, messages, params)
                except Retryable as exc:
                    line.breaker.failure(exc)
                    line.breaker.check()
                    raise
                finally:
                    self.sending.discard(task)
                line.breaker.success()
                return completion

        def on_retry(exc: Retryable, delay: float, attempt_no: int) -> None:
            self.counts["retries"] += 1
            self.reporter.log(f"{exc} - retry {attempt_no} in {delay:.1f} s", "warning")
            if delay >= 1:
                self._wait(provider, delay, "retry", redact(str(exc)))

        started = time.monotonic()
        tries = max(attempts or line.config.max_retries, 1)
        completion = await with_retries(attempt, max_attempts=tries, on_retry=on_retry)
        latency = time.monotonic() - started
        line.latency[0] += latency
        line.latency[1] += 1
        cost = call_cost(self.price(provider, model), completion.input_tokens, completion.output_tokens)
        self.spent.add(f"{provider}:{model}", cost)
        return CallResult(provider, model, completion, latency, cost, clock.now())

    async def close(self) -> None:
        for line in self.lines.values():
            if line.client is not None:
                await line.client.close()


class BlockingService:
    """The service for synchronous callers (the persona loop drives a synchronous browser):
    its event loop runs in a worker thread, so the caller's own loop is never nested, and a
    call in progress stays cancellable through the reporter."""

    def __init__(self, service: ModelService):
        self.service = service
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="model-calls", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        reporter = self.service.reporter
        while True:
            try:
                return future.result(timeout=_POLL_S)
            except concurrent.futures.TimeoutError:
                if reporter.cancelled():
                    future.cancel()
                    reporter.check_cancelled()

    def call(self, provider: str, model: str, messages: list[Message], params: Params) -> CallResult:
        return self.run(self.service.call(provider, model, messages, params))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.service.close(), self._loop).result(timeout=5)
        except Exception:  # a client that cannot close cleanly holds nothing we need
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
