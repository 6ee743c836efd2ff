"""SQLite access: WAL mode, explicit transactions, and versioned migrations per component.

Each part of the app (library, bench, annotate, ...) owns its tables and its own list of
migrations, applied in order and recorded in ``schema_versions``; parts never edit each
other's lists, so they can evolve independently.
"""

from __future__ import annotations

import re
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


class CatalogDamagedError(Exception):
    """``PRAGMA integrity_check`` found damage; the message says what and what to do."""


_INDEX_PROBLEM = re.compile(r"missing from index|wrong # of entries in index|non-unique entry in index")


def integrity_problems(conn: sqlite3.Connection, table: str | None = None, limit: int = 20) -> list[str]:
    """What ``PRAGMA integrity_check`` finds (nothing: an intact catalog), over the whole file
    or one table and its indexes. Unlike ``quick_check`` it compares every index with its table:
    an index that lost an entry makes lookups miss rows that exist (an import then adds a
    duplicate image), and only this check sees it."""
    if table is None:
        rows = conn.execute(f"PRAGMA integrity_check({int(limit)})").fetchall()
    else:
        if not re.fullmatch(r"\w+", table):
            raise ValueError(f"not a table name: {table!r}")
        rows = conn.execute(f"PRAGMA integrity_check({table})").fetchall()
    problems = [str(r[0]) for r in rows]
    return [] if problems == ["ok"] else problems[:limit]


def only_index_problems(problems: Sequence[str]) -> bool:
    """Whether every problem is an index out of step with its table (``REINDEX`` mends that)."""
    return bool(problems) and all(_INDEX_PROBLEM.search(p) for p in problems)


def require_intact(conn: sqlite3.Connection, path: Path, table: str, doing: str) -> None:
    """Refuse ``doing`` on a table that ``integrity_check`` finds damaged (CatalogDamagedError)."""
    problems = integrity_problems(conn, table)
    if not problems:
        return
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    if only_index_problems(problems):
        advice = "run `vspectrum library repair`: it rebuilds the damaged index and keeps everything else"
    else:
        advice = "restore it from a backup, or move it aside and run `vspectrum library repair`"
    raise CatalogDamagedError(f"the catalog {path} is damaged ({problems[0]}{more}); nothing was {doing}: {advice}.")


def is_damaged(exc: BaseException) -> bool:
    """Whether SQLite found the file itself damaged (SQLITE_CORRUPT / SQLITE_NOTADB): the only
    errors that call for a backup or ``library repair``. A constraint, a lock or an I/O error
    says nothing about the file."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return True
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text)


def explain(exc: BaseException, path: Path) -> str:
    """One sentence for a failed catalog access: damaged, full disk, read-only, locked, a
    refused change, a failing disk. Only real damage is called damage."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return f"the catalog {path} is on a read-only disk or folder: nothing can be changed in it."
    if "full" in text:
        from vspectrum_app.core.diskspace import disk_full_message

        return disk_full_message(path.parent)
    if "locked" in text or "busy" in text:
        return f"the catalog {path} is locked by another process; try again when it has finished."
    if is_damaged(exc):
        return (
            f"the catalog {path} is damaged ({exc}); restore it from a backup, or move it aside and run "
            "`vspectrum library repair` to rebuild it from the image files."
        )
    if isinstance(exc, sqlite3.IntegrityError):
        return (
            f"the catalog {path} refused a change that did not fit its data ({exc}), most likely because "
            "another process changed the same data meanwhile (e.g. deleted a run while it ran); the change "
            "was rolled back and the catalog is not damaged: check what changed, then try again."
        )
    if "i/o" in text or "disk" in text:
        return (
            f"the catalog {path} could not be read or written ({exc}): the disk or its file system failed "
            "the request, the catalog was not found damaged; check the disk, then try again."
        )
    return f"the catalog {path} could not be used ({exc}); nothing was found damaged: try again."


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
