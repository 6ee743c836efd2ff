"""What the catalog knows about each index file, checked before native code reads the file.

hnswlib trusts its input: a flipped byte in a saved index can make ``load_index`` read out
of bounds and kill the process (a segfault no ``try`` can catch). So every save records the
file's SHA-256, size, element count and dimension in the catalog, and ``problem`` compares
them before the file is handed to hnswlib; a file that does not match (or has no record) is
not loaded, and the caller rebuilds it from the stored embeddings.

Hashing the whole file costs 3 s at a million vectors (2.2 GB), on every new search
process. So, as git does for its working tree, the file's identity (size, mtime, ctime,
inode) is recorded once the hash has vouched for it, and a file whose identity is unchanged
is not hashed again. Any write changes mtime and ctime (ctime cannot be set back), a copy or
a replacement changes the inode; each of those makes the next open hash the file in full.
One gap needs care: a write in the same clock tick as the recorded identity leaves mtime
unchanged. So an identity only counts once the file had been left alone (mtime and ctime)
for ``SETTLED_NS`` before it was taken ("racily clean" in git's terms); a fresh save is hashed again on its
first open, which then records an identity that can be trusted.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

from vspectrum_app.core import clock
from vspectrum_app.core.atomic import Written
from vspectrum_app.core.workspace import Workspace

MIGRATIONS: list[str] = [
    """
    CREATE TABLE index_files (
        model_key TEXT PRIMARY KEY,
        sha256    TEXT NOT NULL,
        size      INTEGER NOT NULL,
        count     INTEGER NOT NULL,
        dim       INTEGER NOT NULL,
        saved_at  TEXT NOT NULL
    );
    """,
    # the file's identity when its hash last vouched for it, or NULL (see the module's docstring)
    "ALTER TABLE index_files ADD COLUMN identity TEXT;",
]

# File times are coarse (a kernel tick on Linux, 2 s on FAT): an identity is trusted only
# when the file was last modified at least this long before the identity was taken.
SETTLED_NS = 3_000_000_000


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def identity(path: Path) -> tuple[str, bool]:
    """(the file's identity, whether it can be trusted: last changed ``SETTLED_NS`` ago)."""
    taken_ns = _now_ns()
    st = os.stat(path)
    settled = max(st.st_mtime_ns, st.st_ctime_ns) < taken_ns - SETTLED_NS
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}", settled


_now_ns = time.time_ns  # the wall clock file times are written with (a test moves it on)


class UnsavedIndexError(Exception):
    """The file at the index's path is not one a save produced (empty, or not the file checked)."""


def record(ws: Workspace, model_key: str, path: Path, count: int, dim: int, written: Written | None = None) -> bool:
    """Remember the index file just saved (call right after the write-then-rename), with the
    size and checksum ``atomic_replace_from`` took of the checked temporary file (or, without
    them, of ``path``). An empty file is never recorded as valid: no save of hnswlib's is empty.
    Returns False, recording nothing, when ``path`` is no longer the file ``written`` describes:
    another process saved over it meanwhile and records its own."""
    st = path.stat()
    if written is None:
        written = Written(st.st_size, file_sha256(path), st.st_ino)
    elif st.st_ino != written.inode or st.st_size != written.size:
        return False
    if st.st_size == 0:
        raise UnsavedIndexError(f"the index file {path.name} is empty; it was not recorded.")
    ws.ensure_schema("index_files", MIGRATIONS)
    with ws.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO index_files(model_key, sha256, size, count, dim, saved_at, identity) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (model_key, written.sha256, st.st_size, count, dim, clock.now()),
        )
    return True


def problem(ws: Workspace, model_key: str, path: Path, dim: int) -> str | None:
    """Why ``path`` must not be loaded, or None when it is the file the catalog recorded."""
    if not path.exists():
        return "missing"
    if not _has_table(ws):
        return "no checksum recorded"
    row = ws.db.execute("SELECT * FROM index_files WHERE model_key = ?", (model_key,)).fetchone()
    if row is None:
        return "no checksum recorded"
    if row["dim"] != dim:
        return f"dimension {row['dim']} recorded, {dim} expected"
    try:
        size = path.stat().st_size
        if size != row["size"]:
            return f"size {size} bytes, {row['size']} recorded"
        ident, settled = identity(path)
        if "identity" in row.keys() and row["identity"] == ident:
            return None  # the very file the hash vouched for (stored only once settled)
        if file_sha256(path) != row["sha256"]:
            return "checksum mismatch"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if settled and not ws.readonly:
        try:
            _remember_identity(ws, model_key, row["sha256"], ident)
        except sqlite3.OperationalError:  # busy past the timeout: the next open hashes again
            pass
    return None


def _remember_identity(ws: Workspace, model_key: str, sha256: str, ident: str) -> None:
    ws.ensure_schema("index_files", MIGRATIONS)  # an older catalog gains the column here
    with ws.transaction() as conn:  # only if no save replaced the record meanwhile
        conn.execute(
            "UPDATE index_files SET identity = ? WHERE model_key = ? AND sha256 = ?", (ident, model_key, sha256)
        )


def recorded_count(ws: Workspace, model_key: str) -> int | None:
    if not _has_table(ws):
        return None
    row = ws.db.execute("SELECT count FROM index_files WHERE model_key = ?", (model_key,)).fetchone()
    return None if row is None else int(row[0])


def _has_table(ws: Workspace) -> bool:
    return (
        ws.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'index_files'").fetchone()
        is not None
    )
