"""Rebuilding a lost or damaged catalog from the image files that are still there.

Images are stored by content hash, so each readable file gives back its row (hash, size,
format, thumbnail). What only the catalog knew (metadata columns, import times, benchmark
runs) cannot come back from the files; embeddings are recomputed by the next ``library index``.
A damaged catalog is moved aside, never deleted.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from vspectrum_app.core import db
from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.library import images
from vspectrum_app.library.importer import add_image
from vspectrum_app.core.workspace import CATALOG
from vspectrum_app.library.catalog import open_workspace


@dataclass
class RepairReport:
    recovered: int = 0
    already: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    moved_aside: str | None = None
    reindexed: list[str] = field(default_factory=list)  # what integrity_check found and REINDEX mended


def repair_catalog(root: Path, reporter: Reporter | None = None) -> RepairReport:
    reporter = reporter or NullReporter()
    root = Path(root).expanduser().resolve()
    report = RepairReport()
    catalog = root / CATALOG
    if catalog.exists() and catalog.stat().st_size > 0 and not _healthy(catalog, report, reporter):
        aside = catalog.with_name(f"{CATALOG}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(str(catalog) + suffix)
            if part.exists():
                part.rename(Path(str(aside) + suffix))
        report.moved_aside = str(aside)
        reporter.log(f"the damaged catalog was moved aside to {aside.name}", "warning")
    with open_workspace(root, repair=True) as ws:
        files = ws.image_files()
        reporter.progress(0, len(files), "rebuilding the catalog")
        for n, path in enumerate(files, start=1):
            reporter.check_cancelled()
            try:
                data = path.read_bytes()
                info = images.inspect(data)
                if info.sha256 != path.stem:
                    raise images.BadImage("its content no longer matches its name (damaged)")
                _, new = add_image(ws, data, source_name=None)
            except (OSError, images.BadImage) as exc:
                report.skipped.append((str(path), str(exc)))
                reporter.log(f"skipped {path.name}: {exc}", "warning")
            else:
                report.recovered += new
                report.already += not new
            reporter.progress(n, len(files), path.name)
    return report


def _healthy(catalog: Path, report: RepairReport, reporter: Reporter) -> bool:
    """Whether the catalog is intact, by ``integrity_check`` (``quick_check`` does not compare
    indexes with their tables). Indexes out of step with their tables are rebuilt in place
    (``REINDEX``): nothing is lost, and the catalog then counts as healthy."""
    try:
        conn = db.connect(catalog)
        try:
            problems = db.integrity_problems(conn)
            if not problems:
                return True
            if not db.only_index_problems(problems):
                return False
            try:
                conn.execute("REINDEX")
            except sqlite3.DatabaseError:  # e.g. a UNIQUE index over rows that are no longer unique
                return False
            if db.integrity_problems(conn):
                return False
            report.reindexed = problems
            reporter.log(f"the catalog's indexes were rebuilt ({problems[0]}); nothing was lost", "warning")
            return True
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
