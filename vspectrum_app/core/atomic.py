"""Write-then-rename, so a crash never leaves a half-written file where a good one was.

What was written is checked before it replaces anything: a library that writes a file itself
(hnswlib) may not report a full disk (its C++ stream fails silently and leaves a short or
empty file), so the temporary file's size is compared with what was expected and it is hashed
before the rename; a short, empty or rejected file is removed and the good one stays."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vspectrum_app.core import diskspace


class IncompleteWriteError(OSError):
    """A written file was not what was expected (short, empty or rejected by its check); the
    file it was to replace is untouched. errno is ENOSPC when the disk is (nearly) full."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


@dataclass(frozen=True)
class Written:
    """The file moved to the path: its size and SHA-256, taken from the checked temporary file,
    and its inode (another process's later save replaces it with another one)."""

    size: int
    sha256: str
    inode: int = 0


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            size = os.fstat(f.fileno()).st_size
        if size != len(data):  # write() raises on a full disk; a file system that lies does not
            raise _incomplete(path, size, len(data))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_replace_from(
    path: Path,
    writer: Callable[[str], object],
    *,
    expected_size: int | None = None,
    check: Callable[[str], None] | None = None,
) -> Written:
    """Call ``writer(tmp_path)`` to produce a file, check it, then move it over ``path`` atomically.

    For libraries (hnswlib, Pillow) that insist on writing to a path themselves. The file must
    not be empty, must be ``expected_size`` bytes when that is given, and must pass ``check``
    (which raises to reject it); otherwise ``IncompleteWriteError`` (or what ``check`` raised)
    and ``path`` is left as it was. Returns the size and SHA-256 of what was moved into place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer(tmp)
        digest = hashlib.sha256()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
            size, inode = f.tell(), os.fstat(f.fileno()).st_ino
        if size == 0 or (expected_size is not None and size != expected_size):
            raise _incomplete(path, size, expected_size)
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Written(size, digest.hexdigest(), inode)


def _incomplete(path: Path, size: int, expected: int | None) -> IncompleteWriteError:
    wanted = f" of {expected:,}" if expected is not None else ""
    if diskspace.free_bytes(path.parent) < max(expected or 0, 1 << 20):
        return IncompleteWriteError(errno.ENOSPC, diskspace.disk_full_message(path.parent), str(path))
    return IncompleteWriteError(
        errno.EIO,
        f"writing {path.name} stopped after {size:,}{wanted} bytes (a full disk or a file size limit?); "
        "the file already there was kept.",
        str(path),
    )
