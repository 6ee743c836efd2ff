"""One process owns a benchmark run, a persona session or a crawl at a time.

A lock is a file ``locks/<kind>-<key>.lock`` in the workspace holding the owner's pid, host
and start time, with an OS lock (``flock``) on it while the owner lives: the kernel drops
that when the process ends, however it ends (kill -9 included), so a lock left by a dead
process is recognised as stale and taken over. Where ``flock`` is unavailable the pid is
checked instead (a lock recorded on this host by a pid that no longer exists is stale).

Used by the runners (``hold``) and by the GUI, which offers Resume only for runs nobody
holds (``is_locked`` / ``lock_holder``).
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class RunLockedError(Exception):
    """Another live process holds the lock; the message names it."""


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    since: str

    def describe(self) -> str:
        return f"process {self.pid} on {self.host} (since {self.since})"


def lock_path(root: Path, kind: str, key: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
    return Path(root) / "locks" / f"{kind}-{safe}.lock"


@contextmanager
def hold(root: Path, kind: str, key: str, what: str | None = None) -> Iterator[Holder]:
    """Own ``kind``/``key`` for the block, or raise RunLockedError naming who owns it."""
    path = lock_path(root, kind, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd, path):
            holder = _read(path)
            who = holder.describe() if holder else "another process"
            raise RunLockedError(
                f"{what or f'{kind} {key}'} is being run by {who}; nothing was sent. "
                "Wait for it to finish or stop it first."
            )
        me = Holder(os.getpid(), socket.gethostname(), time.strftime("%Y-%m-%dT%H:%M:%S"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me.__dict__).encode(), 0)
        os.fsync(fd)
        try:
            yield me
        finally:
            os.ftruncate(fd, 0)  # an empty lock file is a free one, whatever the OS lock says
    finally:
        os.close(fd)  # releases the flock


def lock_holder(root: Path, kind: str, key: str) -> Holder | None:
    """Who holds the lock now, or None when nobody (or only a dead process) does."""
    path = lock_path(root, kind, key)
    if not path.exists():
        return None
    holder = _read(path)
    if holder is None:
        return None
    if fcntl is not None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return holder  # someone holds it exclusively: alive
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None  # the recorded owner is gone: stale
        finally:
            os.close(fd)
    return holder if not _dead_here(holder) else None


def is_locked(root: Path, kind: str, key: str) -> bool:
    return lock_holder(root, kind, key) is not None


def _try_lock(fd: int, path: Path) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False
    holder = _read(path)
    return holder is None or _dead_here(holder)


def _read(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text() or "null")
        return Holder(int(data["pid"]), str(data["host"]), str(data.get("since", "?"))) if data else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _dead_here(holder: Holder) -> bool:
    if holder.host != socket.gethostname():
        return False  # cannot tell for another machine: treated as alive
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
