"""What the catalog knows about each index file, checked before native code reads the file.

hnswlib trusts its input: a flipped byte in a saved index can make ``load_index`` read out
of bounds and kill the process (a segfault no ``try`` can catch). So every save records the
file's SHA-256, size, element count and dimension in the catalog, and ``verified`` compares
them before the file is handed to hnswlib; a file that does not match (or has no record) is
not loaded, and the caller rebuilds it from the stored embeddings.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from vspectrum_app.core import clock
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
]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record(ws: Workspace, model_key: str, path: Path, count: int, dim: int) -> None:
    """Remember the index file just saved (call right after the write-then-rename)."""
    ws.ensure_schema("index_files", MIGRATIONS)
    with ws.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO index_files(model_key, sha256, size, count, dim, saved_at) VALUES (?, ?, ?, ?, ?, ?)",
            (model_key, file_sha256(path), path.stat().st_size, count, dim, clock.now()),
        )


def problem(ws: Workspace, model_key: str, path: Path, dim: int) -> str | None:
    """Why ``path`` must not be loaded, or None when it is the file the catalog recorded."""
    if not path.exists():
        return "missing"
    if not _has_table(ws):
        return "no checksum recorded"
    row = ws.db.execute("SELECT sha256, size, count, dim FROM index_files WHERE model_key = ?", (model_key,)).fetchone()
    if row is None:
        return "no checksum recorded"
    if row["dim"] != dim:
        return f"dimension {row['dim']} recorded, {dim} expected"
    try:
        size = path.stat().st_size
        if size != row["size"]:
            return f"size {size} bytes, {row['size']} recorded"
        if file_sha256(path) != row["sha256"]:
            return "checksum mismatch"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return None


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
