"""A workspace: one folder holding the SQLite catalog and the image files.

Layout::

    catalog.sqlite        the catalog (WAL mode); every component's tables
    images/ab/<sha>.jpg   originals, stored by content hash
    thumbs/ab/<sha>.jpg   thumbnails, made once at import
    index/                HNSW indexes, one per CLIP model
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from contextlib import AbstractContextManager
from typing import Any, Mapping, Sequence

from vspectrum_app.core import db

CATALOG = "catalog.sqlite"


class WorkspaceError(Exception):
    pass


class WorkspaceReadOnlyError(WorkspaceError):
    pass


class Workspace:
    def __init__(self, root: Path, conn: sqlite3.Connection, readonly: bool = False):
        self.root = root
        self._conn = conn
        self.readonly = readonly  # on a read-only disk or folder: reads work, writes are refused
        self._shadowed: set[tuple[int, str]] = set()  # (connection id, component)
        self._local = threading.local()
        self._local.conn = conn

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls, root: Path | str, *, schemas: Mapping[str, Sequence[str]], create: bool = True, repair: bool = False
    ) -> "Workspace":
        """Open (or create) a workspace and bring ``schemas`` (component -> migrations) up to date.

        Core knows no component's tables: the library passes its own (``library.catalog.open_workspace``,
        what the CLI and the window call). ``repair``: skip the empty-catalog guard (``library repair``)."""
        root = Path(root).expanduser().resolve()
        catalog = root / CATALOG
        if not catalog.exists():
            if not create:
                raise WorkspaceError(f"{root} is not a Value-Spectrum workspace (no {CATALOG}).")
            if root.exists() and not root.is_dir():
                raise WorkspaceError(f"{root} exists and is not a folder.")
            _refuse_orphaned_images(root, catalog, repair)
            root.mkdir(parents=True, exist_ok=True)
        elif catalog.stat().st_size == 0:
            _refuse_orphaned_images(root, catalog, repair)
        readonly = not _writable(root, catalog)
        if not readonly:
            for sub in ("images", "thumbs", "index"):
                (root / sub).mkdir(exist_ok=True)
        try:
            conn = db.connect(catalog, readonly=readonly)
            db.check_readable(conn)
        except sqlite3.DatabaseError as exc:
            raise WorkspaceError(db.explain(exc, catalog)) from None
        ws = cls(root, conn, readonly)
        try:
            for component, migrations in schemas.items():
                ws.ensure_schema(component, migrations)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise WorkspaceError(db.explain(exc, catalog)) from None
        return ws

    def ensure_schema(self, component: str, migrations: Sequence[str]) -> None:
        """Bring ``component``'s tables up to date. Components call this before first use, on
        the calling thread's connection: a worker thread migrating on another thread's
        connection would start its transaction inside that thread's."""
        conn = self.db
        if self.readonly:
            version = db.schema_version(conn, component)
            if version == 0 and (id(conn), component) not in self._shadowed:
                db.shadow_schema(conn, migrations)  # temporary tables: per connection
                self._shadowed.add((id(conn), component))
            elif version < len(migrations):
                raise WorkspaceReadOnlyError(
                    f"the workspace {self.root} is read-only and was written by an older "
                    "version of the app; open it once on a writable disk to upgrade it."
                )
            return
        db.migrate(conn, component, migrations)

    # -- connections --------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        """A connection for the calling thread (SQLite connections are not shared across threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = db.connect(self.root / CATALOG, readonly=self.readonly)
            self._local.conn = conn
        return conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        if self.readonly:
            raise WorkspaceReadOnlyError(
                f"the workspace {self.root} is read-only: nothing can be changed in it "
                "(copy it to a writable disk to work on it)."
            )
        return db.transaction(self.db)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn is not self._conn:
            conn.close()
        self._conn.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- files --------------------------------------------------------------------------
    def image_path(self, sha256: str, ext: str) -> Path:
        return self.root / "images" / sha256[:2] / f"{sha256}.{ext}"

    def thumb_path(self, sha256: str) -> Path:
        return self.root / "thumbs" / sha256[:2] / f"{sha256}.jpg"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    def image_files(self) -> list[Path]:
        """Every stored original (``images/ab/<sha>.<ext>``), whatever the catalog says."""
        folder = self.root / "images"
        return (
            sorted(p for p in folder.glob("??/*.*") if p.is_file() and not p.name.startswith("."))
            if folder.is_dir()
            else []
        )

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"


def _refuse_orphaned_images(root: Path, catalog: Path, repair: bool) -> None:
    """A missing or empty catalog beside stored images is damage, not a new library."""
    folder = root / "images"
    count = sum(1 for p in folder.glob("??/*.*") if p.is_file()) if folder.is_dir() else 0
    if count and not repair:
        state = "empty" if catalog.exists() else "missing"
        raise WorkspaceError(
            f"the catalog {catalog} is {state} but {count} images exist; run Library > Repair "
            "or `vspectrum library repair` to rebuild it from the image files."
        )


def _writable(root: Path, catalog: Path) -> bool:
    """SQLite needs to write the catalog and create its -wal/-shm files beside it."""
    return os.access(root, os.W_OK) and (not catalog.exists() or os.access(catalog, os.W_OK))
