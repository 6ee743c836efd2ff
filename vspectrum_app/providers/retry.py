"""Retries with exponential backoff and full jitter, honouring Retry-After; and a circuit
breaker per provider, so that a dead or hopelessly slow server stops a run (resumable)
instead of being retried call after call for as long as the run lasts."""

from __future__ import annotations

import asyncio
import random
from typing import Awaitable, Callable, TypeVar

from vspectrum_app.providers.errors import ProviderCallError, Retryable

T = TypeVar("T")
MAX_RETRY_AFTER_S = 300.0


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    max_attempts: int = 6,
    base_s: float = 1.0,
    cap_s: float = 60.0,
    rng: random.Random | None = None,
    on_retry: Callable[[Retryable, float, int], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    rng = rng or random.Random()
    for attempt in range(1, max_attempts + 1):
        try:
            return await call()
        except Retryable as exc:
            if attempt == max_attempts:
                raise
            if exc.retry_after is not None:
                delay = min(max(exc.retry_after, 0.0), MAX_RETRY_AFTER_S)
            else:
                delay = rng.uniform(0, min(cap_s, base_s * 2 ** (attempt - 1)))
            if on_retry:
                on_retry(exc, delay, attempt)
            await sleep(delay)
    raise AssertionError("unreachable")


FAILURES_BEFORE_PAUSE = 8


class ProviderUnavailable(ProviderCallError):
    """The breaker is open: this provider's remaining calls wait for a resume."""


class CircuitBreaker:
    """Counts consecutive connection failures and timeouts of one provider (any call, any
    attempt); any answer resets the count. At ``threshold`` it opens and stays open for the
    rest of the run: every call sent to a server that does not answer may be billed, and a
    closed port would otherwise be retried for the whole run."""

    def __init__(self, provider: str, threshold: int = FAILURES_BEFORE_PAUSE):
        self.provider, self.threshold = provider, threshold
        self.consecutive = 0
        self.reason: str | None = None

    @property
    def open(self) -> bool:
        return self.reason is not None

    def check(self) -> None:
        if self.reason is not None:
            raise ProviderUnavailable(self.reason)

    def success(self) -> None:
        self.consecutive = 0

    def failure(self, exc: Retryable) -> None:
        if not exc.unreachable:
            return  # 429s and 5xx are answers: the server is there
        self.consecutive += 1
        if self.consecutive >= self.threshold and self.reason is None:
            self.reason = (
                f"{self.provider} did not answer {self.consecutive} calls in a row (connection failures "
                "or timeouts); its calls are paused: check the server, then resume the run"
            )
