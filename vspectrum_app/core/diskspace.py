"""Free space: checked before large writes, and the one sentence when the disk is full."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class DiskFullError(Exception):
    pass


def free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


def disk_full_message(folder: Path, needed_bytes: int | None = None) -> str:
    need = f", {needed_bytes / 1e6:.1f} MB needed" if needed_bytes else ""
    return f"the disk holding {folder} is full: {free_bytes(folder) / 1e6:.1f} MB free{need}."


def require_free(folder: Path, needed_bytes: int) -> None:
    """Refuse a large write up front rather than fail half-way through it."""
    if free_bytes(folder) < needed_bytes:
        raise DiskFullError(disk_full_message(folder, needed_bytes))


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL_ERRNOS or "database or disk is full" in str(exc)
