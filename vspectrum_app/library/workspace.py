"""A workspace: one folder holding the SQLite catalog and the image files.

Layout::

    catalog.sqlite        the catalog (WAL mode); every component's tables
    images/ab/<sha>.jpg   originals, stored by content hash
    thumbs/ab/<sha>.jpg   thumbnails, made once at import
    index/                HNSW indexes, one per CLIP model
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Sequence

from vspectrum_app.core import db
from vspectrum_app.library import schema

CATALOG = "catalog.sqlite"


class WorkspaceError(Exception):
    pass


class Workspace:
    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root = root
        self._conn = conn
        self._local = threading.local()
        self._local.conn = conn

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | str, *, create: bool = True) -> "Workspace":
        root = Path(root).expanduser().resolve()
        catalog = root / CATALOG
        if not catalog.exists():
            if not create:
                raise WorkspaceError(f"{root} is not a Value-Spectrum workspace (no {CATALOG}).")
            if root.exists() and not root.is_dir():
                raise WorkspaceError(f"{root} exists and is not a folder.")
            root.mkdir(parents=True, exist_ok=True)
        for sub in ("images", "thumbs", "index"):
            (root / sub).mkdir(exist_ok=True)
        try:
            conn = db.connect(catalog)
        except sqlite3.DatabaseError as exc:
            raise WorkspaceError(f"Cannot open the catalog {catalog}: {exc}") from exc
        ws = cls(root, conn)
        ws.ensure_schema("library", schema.MIGRATIONS)
        return ws

    def ensure_schema(self, component: str, migrations: Sequence[str]) -> None:
        """Bring ``component``'s tables up to date. Components call this before first use."""
        db.migrate(self._conn, component, migrations)

    # -- connections --------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        """A connection for the calling thread (SQLite connections are not shared across threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = db.connect(self.root / CATALOG)
            self._local.conn = conn
        return conn

    def transaction(self):
        return db.transaction(self.db)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn is not self._conn:
            conn.close()
        self._conn.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- files --------------------------------------------------------------------------
    def image_path(self, sha256: str, ext: str) -> Path:
        return self.root / "images" / sha256[:2] / f"{sha256}.{ext}"

    def thumb_path(self, sha256: str) -> Path:
        return self.root / "thumbs" / sha256[:2] / f"{sha256}.jpg"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"
