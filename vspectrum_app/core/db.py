"""SQLite access: WAL mode, explicit transactions, and versioned migrations per component.

Each part of the app (library, bench, annotate, ...) owns its tables and its own list of
migrations, applied in order and recorded in ``schema_versions``; parts never edit each
other's lists, so they can evolve independently.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the catalog. Autocommit mode: callers group writes with ``transaction``."""
    if readonly:  # a read-only disk: no -shm file can be made, so SQLite must not expect changes
        conn = sqlite3.connect(
            f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=30,
        )
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def check_readable(conn: sqlite3.Connection) -> None:
    """Raise sqlite3.DatabaseError now for a file that is not a database or has a damaged schema.
    (A full ``quick_check`` reads every page: too slow for each command; damage deeper in the
    file surfaces at the query that meets it, and the CLI reports it with ``explain``.)"""
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def explain(exc: BaseException, path: Path) -> str:
    """One sentence for a failed catalog access (damaged, full disk, read-only, locked)."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return f"the catalog {path} is on a read-only disk or folder: nothing can be changed in it."
    if "full" in text:
        from vspectrum_app.core.diskspace import disk_full_message

        return disk_full_message(path.parent)
    if "locked" in text or "busy" in text:
        return f"the catalog {path} is locked by another process; try again when it has finished."
    return (
        f"the catalog {path} is damaged ({exc}); restore it from a backup, or move it aside and run "
        "`vspectrum library repair` to rebuild it from the image files."
    )


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (KeyboardInterrupt included)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection, component: str) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    return row[0] if row else 0


def migrate(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> int:
    """Apply ``migrations[current:]`` for ``component``; each one in its own transaction.

    Returns the resulting version. A catalog written by a newer app version is refused
    rather than silently misread.
    """
    current = schema_version(conn, component)
    if current > len(migrations):
        raise SchemaTooNew(
            f"This workspace's '{component}' data is at schema version {current}, newer than this "
            f"app understands ({len(migrations)}). Update Value-Spectrum Studio to open it."
        )
    for version, script in enumerate(migrations[current:], start=current + 1):
        with transaction(conn):
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions(component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, version),
            )
    return len(migrations)


def shadow_schema(conn: sqlite3.Connection, migrations: Sequence[str]) -> None:
    """On a read-only catalog, a component never used there gets empty TEMP tables (in memory),
    so that its read commands answer "nothing yet" instead of failing on a missing table."""
    import re

    for script in migrations:
        for statement in _statements(script):
            if re.match(r"CREATE\s+(UNIQUE\s+)?INDEX", statement, re.I):
                continue  # indexes only speed up queries on data a read-only catalog does not hold
            conn.execute(re.sub(r"^CREATE\s+(TABLE|VIEW|TRIGGER)", r"CREATE TEMP \1", statement, flags=re.I))


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would commit implicitly)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buf.strip()[:80]}")
    return statements


class SchemaTooNew(Exception):
    pass
