"""The catalog read API: what the other parts may ask the library about its images.

The library owns its tables (``images``, ``embeddings``, ``clip_models``, ...; see
``schema.py``); every other part goes through these functions and never writes SQL on
them (tests/test_layers.py greps for it), so the tables can change without touching
the benchmark, the crawler or the window. Each function is one short query.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from vspectrum_app.core.workspace import Workspace
from vspectrum_app.library import schema

if TYPE_CHECKING:
    import numpy as np


def open_workspace(root: Path | str, *, create: bool = True, repair: bool = False) -> Workspace:
    """Open (or create) a workspace with the library's tables up to date: what the CLI and the window open."""
    return Workspace.open(root, schemas={"library": schema.MIGRATIONS}, create=create, repair=repair)


@dataclass(frozen=True)
class ImageFile:
    """Where one catalogued image is stored: ``images/<sha[:2]>/<sha>.<ext>``."""

    id: int
    sha256: str
    ext: str

    def path(self, ws: Workspace) -> Path:
        return ws.image_path(self.sha256, self.ext)

    def thumb(self, ws: Workspace) -> Path:
        return ws.thumb_path(self.sha256)


@dataclass(frozen=True)
class ImageRecord:
    """Every column the catalog keeps for one image; ``extra``: the other metadata columns, verbatim."""

    id: int
    sha256: str
    ext: str
    width: int
    height: int
    bytes: int
    source_name: str | None = None
    video_url: str | None = None
    platform: str | None = None
    post_date: str | None = None
    author: str | None = None
    caption: str | None = None
    capture_time: str | None = None
    feed_position: int | None = None
    crawl_session: str | None = None
    phash: str | None = None
    flags: str = ""
    imported_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> ImageFile:
        return ImageFile(self.id, self.sha256, self.ext)


def _record(row: sqlite3.Row) -> ImageRecord:
    values = dict(row)
    values["extra"] = json.loads(values.pop("extra_json") or "{}")
    return ImageRecord(**values)


def _marks(n: int) -> str:
    return ",".join("?" * n)


# -- single images ----------------------------------------------------------------------
def image_file(ws: Workspace, image_id: int) -> ImageFile | None:
    row = ws.db.execute("SELECT id, sha256, ext FROM images WHERE id = ?", (image_id,)).fetchone()
    return ImageFile(*row) if row else None


def image_by_sha(ws: Workspace, sha256: str) -> ImageFile | None:
    row = ws.db.execute("SELECT id, sha256, ext FROM images WHERE sha256 = ?", (sha256,)).fetchone()
    return ImageFile(*row) if row else None


def image_record(ws: Workspace, image_id: int) -> ImageRecord | None:
    row = ws.db.execute("SELECT * FROM images WHERE id = ?", (image_id,)).fetchone()
    return _record(row) if row else None


# -- many images ------------------------------------------------------------------------
def _rows_by_id(ws: Workspace, columns: str, image_ids: Iterable[int]) -> Iterator[sqlite3.Row]:
    ids = sorted(set(image_ids))
    for start in range(0, len(ids), 500):  # under SQLite's limit on bound parameters
        chunk = ids[start : start + 500]
        yield from ws.db.execute(f"SELECT {columns} FROM images WHERE id IN ({_marks(len(chunk))})", chunk)


def image_files(ws: Workspace, image_ids: Iterable[int]) -> dict[int, ImageFile]:
    """image id -> where it is stored; ids the catalog does not have are left out."""
    return {r[0]: ImageFile(*r) for r in _rows_by_id(ws, "id, sha256, ext", image_ids)}


def image_records(ws: Workspace, image_ids: Iterable[int]) -> dict[int, ImageRecord]:
    """image id -> everything the catalog keeps about it; ids it does not have are left out."""
    return {r["id"]: _record(r) for r in _rows_by_id(ws, "*", image_ids)}


class ImageSummary(NamedTuple):
    """What a list of screenshots shows (a tuple: the window lists up to 200,000 of them)."""

    id: int
    sha256: str
    ext: str
    platform: str | None
    post_date: str | None


def newest_images(ws: Workspace, limit: int) -> list[ImageSummary]:
    return [
        ImageSummary(*r)
        for r in ws.db.execute(
            "SELECT id, sha256, ext, platform, post_date FROM images ORDER BY id DESC LIMIT ?", (limit,)
        )
    ]


def unflagged_images(ws: Workspace) -> list[ImageRecord]:
    """Images without a quality flag, oldest first."""
    return [_record(r) for r in ws.db.execute("SELECT * FROM images WHERE flags = '' ORDER BY id")]


def unflagged_ids_with_video(ws: Workspace) -> list[int]:
    """Unflagged images that have a video link, in id order."""
    return [
        r[0]
        for r in ws.db.execute(
            "SELECT id FROM images WHERE video_url IS NOT NULL AND video_url != '' AND flags = '' ORDER BY id"
        )
    ]


def excluded_from_search(ws: Workspace, simulated_platform: str) -> set[int]:
    """Flagged images and simulator captures: never a search hit."""
    return {
        r[0] for r in ws.db.execute("SELECT id FROM images WHERE flags != '' OR platform = ?", (simulated_platform,))
    }


def ids_on_platforms(ws: Workspace, platforms: Sequence[str]) -> set[int]:
    return {
        r[0]
        for r in ws.db.execute(f"SELECT id FROM images WHERE platform IN ({_marks(len(platforms))})", tuple(platforms))
    }


def version(ws: Workspace) -> tuple[int, int]:
    """Changes whenever the catalog changed, by this connection or another (what caches key on)."""
    return ws.db.execute("PRAGMA data_version").fetchone()[0], ws.db.total_changes


def has_video_url(ws: Workspace, url: str) -> bool:
    return ws.db.execute("SELECT 1 FROM images WHERE video_url = ? LIMIT 1", (url,)).fetchone() is not None


def platforms(ws: Workspace) -> list[str]:
    """The platforms the catalog names, sorted."""
    return [
        r[0]
        for r in ws.db.execute(
            "SELECT DISTINCT platform FROM images WHERE platform IS NOT NULL AND platform != '' ORDER BY platform"
        )
    ]


# -- counts -----------------------------------------------------------------------------
def image_count(ws: Workspace) -> int:
    return int(ws.db.execute("SELECT COUNT(*) FROM images").fetchone()[0])


def embedded_count(ws: Workspace) -> int:
    """Images with an embedding from at least one model."""
    return int(ws.db.execute("SELECT COUNT(DISTINCT image_id) FROM embeddings").fetchone()[0])


# -- embeddings -------------------------------------------------------------------------
def has_model(ws: Workspace, model_key: str) -> bool:
    """Whether any image was ever embedded (and so indexed) with this CLIP model."""
    return ws.db.execute("SELECT 1 FROM clip_models WHERE model_key = ?", (model_key,)).fetchone() is not None


def model_dim(ws: Workspace, model_key: str) -> int | None:
    row = ws.db.execute("SELECT dim FROM clip_models WHERE model_key = ?", (model_key,)).fetchone()
    return row[0] if row else None


def most_embedded_model(ws: Workspace) -> tuple[str, int] | None:
    """(model key, images it embedded) for the model that embedded the most images."""
    row = ws.db.execute(
        "SELECT model_key, COUNT(*) AS n FROM embeddings GROUP BY model_key ORDER BY n DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def vectors(ws: Workspace, model_key: str) -> dict[int, "np.ndarray"]:
    """image id -> the model's stored embedding (float32, L2-normalised)."""
    import numpy as np  # here, so that the window's counts do not load numpy

    return {
        r[0]: np.frombuffer(r[1], dtype=np.float32)
        for r in ws.db.execute("SELECT image_id, vector FROM embeddings WHERE model_key = ?", (model_key,))
    }


def embedded_images(ws: Workspace, model_key: str) -> list[tuple[int, str]]:
    """(image id, sha256) of every image the model embedded, in id order."""
    return [
        (r[0], r[1])
        for r in ws.db.execute(
            "SELECT e.image_id, i.sha256 FROM embeddings e JOIN images i ON i.id = e.image_id "
            "WHERE e.model_key = ? ORDER BY e.image_id",
            (model_key,),
        )
    ]


# -- perceptual hashes (the crawler's near-duplicate check) -------------------------------
def files_without_phash(ws: Workspace) -> list[ImageFile]:
    return [
        ImageFile(*r) for r in ws.db.execute("SELECT id, sha256, ext FROM images WHERE phash IS NULL OR phash = ''")
    ]


def phashes(ws: Workspace) -> list[str]:
    return [r[0] for r in ws.db.execute("SELECT phash FROM images WHERE phash IS NOT NULL AND phash != ''")]


def set_phashes(ws: Workspace, hashes: Iterable[tuple[str, int]]) -> None:
    """Store (phash, image id) pairs in one transaction."""
    with ws.transaction() as conn:
        conn.executemany("UPDATE images SET phash = ? WHERE id = ?", list(hashes))


def index_summary(ws: Workspace, model_key: str) -> str | None:
    """One line for the window's status: how many vectors the model's index holds and what
    embedded them (its manifest's backend and precision); None when there is no index."""
    from vspectrum_app.encoders.precision import describe_record
    from vspectrum_app.library import index_integrity
    from vspectrum_app.library.index import recorded_encoder
    from vspectrum_app.library.indexer import index_path

    count = index_integrity.recorded_count(ws, model_key)
    if count is None:
        return None
    encoder = recorded_encoder(index_path(ws, model_key))
    how = f", embedded with {describe_record(encoder)}" if encoder else ""
    return f"index: {count:,} screenshots{how}"
