"""A sliding-window rate limiter: never more than N request starts (and T estimated tokens)
in any window of 60 s, retries included. Waiters are served in order. A single request
larger than the whole token budget is let through alone rather than blocked forever.

A wait is never silent: ``on_wait(seconds, cause)`` (cause "requests" or "tokens") is called
before each sleep of a second or more, so the run can say why it stalls.

The request limit holds for the whole machine, not one process: with a ``SharedWindow`` the
starts are also recorded in a small file per provider (under the user data folder, locked
with ``flock`` while read and written), so two runs, or the window and the CLI, on one
provider send no more than its limit together. Tokens per minute stay per process. Where
``flock`` is missing (Windows) the window is per process."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Awaitable, Callable

try:
    import fcntl
except ImportError:  # Windows: the window stays per process
    fcntl = None  # type: ignore[assignment]

# Requests reach the server a little after they leave; the margin keeps the server's
# view of any 60 s window within the limit too.
SAFETY_MARGIN_S = 0.25
REPORTED_WAIT_S = 1.0  # shorter waits are not worth a message


class SharedWindow:
    """The request starts of one provider on this machine, in a file every process shares."""

    def __init__(self, key: str, folder: Path | None = None):
        if folder is None:
            from vspectrum_app.core.paths import data_dir

            folder = data_dir() / "ratelimits"
        self.path = folder / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".json")

    def claim(self, limit: int, window: float, now: float) -> float:
        """Record a start at ``now`` and return 0 when fewer than ``limit`` started in the last
        ``window`` seconds; else the seconds until one may. ``now`` is the monotonic clock, which
        is one clock for every process of the machine (since boot); starts from before a reboot
        lie in the future and are dropped."""
        if fcntl is None:
            return 0.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                starts = [float(t) for t in json.loads(os.pread(fd, 1 << 20, 0) or b"[]")]
            except (ValueError, TypeError):
                starts = []  # a torn or foreign file: start afresh rather than block for ever
            starts = sorted(t for t in starts if now - window < t <= now + window)
            if len(starts) >= limit:
                return max(starts[len(starts) - limit] + window - now, 0.001)
            data = json.dumps(starts + [now]).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            return 0.0
        finally:
            os.close(fd)  # releases the flock


class RateLimiter:
    def __init__(
        self,
        requests_per_minute: int,
        tokens_per_minute: int | None = None,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedWindow | None = None,
    ):
        self.rpm, self.tpm = requests_per_minute, tokens_per_minute
        self.window = window_s + SAFETY_MARGIN_S
        self._clock = clock
        self.shared = shared
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
                shared_wait = 0.0
                if len(self._starts) < self.rpm and tokens_ok:
                    if self.shared is not None:
                        shared_wait = self.shared.claim(self.rpm, self.window, now)
                    if not shared_wait:
                        self._starts.append(now)
                        if tokens:
                            self._tokens.append((now, tokens))
                        return
                waits = [shared_wait] if shared_wait else []
                if len(self._starts) >= self.rpm:
                    waits.append(self._starts[0] + self.window - now)
                if not tokens_ok:
                    waits.append(self._tokens[0][0] + self.window - now)
                wait = max(min(waits), 0.001)
                if self.on_wait is not None and wait >= REPORTED_WAIT_S:
                    self.on_wait(wait, "requests" if shared_wait or len(self._starts) >= self.rpm else "tokens")
                await (self.sleep or asyncio.sleep)(wait)
