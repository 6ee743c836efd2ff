"""Retries with exponential backoff and full jitter, honouring Retry-After."""

from __future__ import annotations

import asyncio
import random
from typing import Awaitable, Callable, TypeVar

from vspectrum_app.providers.errors import Retryable

T = TypeVar("T")
MAX_RETRY_AFTER_S = 300.0


async def with_retries(call: Callable[[], Awaitable[T]], *, max_attempts: int = 6, base_s: float = 1.0,
                       cap_s: float = 60.0, rng: random.Random | None = None,
                       on_retry: Callable[[Retryable, float, int], None] | None = None,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
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
