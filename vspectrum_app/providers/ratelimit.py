"""A sliding-window rate limiter: never more than N request starts (and T estimated tokens)
in any window of 60 s, retries included. Waiters are served in order. A single request
larger than the whole token budget is let through alone rather than blocked forever."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Callable

# Requests reach the server a little after they leave; the margin keeps the server's
# view of any 60 s window within the limit too.
SAFETY_MARGIN_S = 0.25


class RateLimiter:
    def __init__(self, requests_per_minute: int, tokens_per_minute: int | None = None, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.rpm, self.tpm = requests_per_minute, tokens_per_minute
        self.window = window_s + SAFETY_MARGIN_S
        self._clock = clock
        self._starts: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self, tokens: int = 0) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self.window:
                    self._starts.popleft()
                while self._tokens and self._tokens[0][0] <= now - self.window:
                    self._tokens.popleft()
                used = sum(n for _, n in self._tokens)
                tokens_ok = self.tpm is None or not self._tokens or used + tokens <= self.tpm
                if len(self._starts) < self.rpm and tokens_ok:
                    self._starts.append(now)
                    if tokens:
                        self._tokens.append((now, tokens))
                    return
                waits = []
                if len(self._starts) >= self.rpm:
                    waits.append(self._starts[0] + self.window - now)
                if not tokens_ok:
                    waits.append(self._tokens[0][0] + self.window - now)
                await asyncio.sleep(max(min(waits), 0.001))
