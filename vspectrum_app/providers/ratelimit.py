"""A sliding-window rate limiter: never more than N request starts (and T estimated tokens)
in any window of 60 s, retries included. Waiters are served in order. A single request
larger than the whole token budget is let through alone rather than blocked forever.

A wait is never silent: ``on_wait(seconds, cause)`` (cause "requests" or "tokens") is called
before each sleep of a second or more, so the run can say why it stalls."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Awaitable, Callable

# Requests reach the server a little after they leave; the margin keeps the server's
# view of any 60 s window within the limit too.
SAFETY_MARGIN_S = 0.25
REPORTED_WAIT_S = 1.0  # shorter waits are not worth a message


class RateLimiter:
    def __init__(
        self,
        requests_per_minute: int,
        tokens_per_minute: int | None = None,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rpm, self.tpm = requests_per_minute, tokens_per_minute
        self.window = window_s + SAFETY_MARGIN_S
        self._clock = clock
        self._starts: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()
        self._lock = asyncio.Lock()
        self.on_wait: Callable[[float, str], None] | None = None
        self.sleep: Callable[[float], Awaitable[None]] | None = None  # asyncio.sleep unless a test sets one

    def describe(self) -> str:
        """The limit in words, e.g. "60/min" or "60/min and 40000 tokens/min"."""
        return f"{self.rpm}/min" + (f" and {self.tpm} tokens/min" if self.tpm else "")

    def seconds_for(self, calls: int) -> float:
        """The least time the limit allows for ``calls`` more request starts, counting the
        starts already in the current window (the ETA's lower bound; tokens not counted)."""
        now = self._clock()
        recent = sorted(t for t in self._starts if t > now - self.window)
        if calls <= 0:
            return 0.0
        free_now = max(self.rpm - len(recent), 0)
        if calls <= free_now:
            return 0.0
        # the k-th start beyond the free slots waits for the k-th oldest start to leave the window,
        # and every further full round of rpm starts takes one more window
        beyond = calls - free_now
        rounds, k = divmod(beyond - 1, self.rpm)
        base = recent[k] + self.window - now if k < len(recent) else self.window
        return max(base, 0.0) + rounds * self.window

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
                wait = max(min(waits), 0.001)
                if self.on_wait is not None and wait >= REPORTED_WAIT_S:
                    self.on_wait(wait, "requests" if len(self._starts) >= self.rpm else "tokens")
                await (self.sleep or asyncio.sleep)(wait)
