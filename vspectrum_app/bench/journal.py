"""Answers a run received but could not store in the catalog (a full disk, a failing write).

The journal is a file reserved when the run starts (``posix_fallocate``: the blocks are the
file's before the disk can fill), so that writing into it later needs no new space. A call
whose answer arrived after the catalog refused a write is written here as one JSON line and
fsync'd; ``bench resume`` (and the next ``bench run`` of the run) reads the lines back into the
call log before anything is sent, so an answer already paid for is never asked again.

The file is ``journal/bench-<run>.jsonl`` in the workspace: zero bytes after the last line
(the unused reserve); a line cut short by a crash is ignored.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

RESERVE_BYTES = 512 * 1024  # ~250 answers of 2 KB: far more than a run has in flight


def journal_path(root: Path, run_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return Path(root) / "journal" / f"bench-{safe}.jsonl"


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The records in a journal (none when there is no file); damaged lines are skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    records = []
    for line in data.split(b"\0", 1)[0].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the last line of a process killed while writing it
        if isinstance(record, dict) and isinstance(record.get("cache_key"), str):
            records.append(record)
    return records


class CallJournal:
    """The reserved journal of one execution of a run."""

    def __init__(self, path: Path, reserve: int = RESERVE_BYTES):
        self.path = path
        self.size = reserve
        self.offset = 0
        self.written = 0  # records kept
        self.lost = 0  # records that did not fit (or could not be written)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.posix_fallocate(self._fd, 0, reserve)
            except (AttributeError, OSError) as exc:  # no fallocate here (macOS, some filesystems)
                if getattr(exc, "errno", None) == errno.ENOSPC:
                    raise
                os.pwrite(self._fd, b"\0" * reserve, 0)
            os.fsync(self._fd)
        except BaseException:
            self.close(keep=False)
            raise

    def add(self, record: dict[str, Any]) -> bool:
        """Keep one call; False when it does not fit or cannot be written (then it is lost)."""
        line = json.dumps(record, ensure_ascii=True, default=str).encode() + b"\n"  # ASCII: never a NUL byte
        if self._fd < 0 or self.offset + len(line) > self.size:
            self.lost += 1
            return False
        try:
            os.pwrite(self._fd, line, self.offset)
            os.fsync(self._fd)
        except OSError:
            self.lost += 1
            return False
        self.offset += len(line)
        self.written += 1
        return True

    def close(self, keep: bool) -> None:
        """Close; the file stays only when ``keep`` and it holds something."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if not (keep and self.written):
            self.path.unlink(missing_ok=True)
