"""Bring screenshots into a workspace: from files and folders (with an optional metadata
CSV), or one at a time from a crawler.

Images are stored by content hash, so importing the same picture twice is a no-op. A file
that cannot be used is reported with its reason and skipped; nothing already imported is
touched. Each image is committed on its own, so an interrupted import keeps what it did.
"""

from __future__ import annotations

import csv
import errno
import json
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from vspectrum_app.core import clock, diskspace
from vspectrum_app.core.atomic import atomic_write_bytes
from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.core.visible import visible
from vspectrum_app.core.schema import Anything, Custom, Optional, Str, check, show
from vspectrum_app.library import images
from vspectrum_app.core.workspace import Workspace

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}

# Metadata column aliases (lower-cased, spaces/dashes as underscores) -> catalog column.
_ALIASES = {
    "video_url": "video_url",
    "video_link": "video_url",
    "link": "video_url",
    "url": "video_url",
    "video": "video_url",
    "platform": "platform",
    "post_date": "post_date",
    "date": "post_date",
    "posted": "post_date",
    "posted_at": "post_date",
    "upload_date": "post_date",
    "author": "author",
    "creator": "author",
    "caption": "caption",
    "description": "caption",
    "capture_time": "capture_time",
    "feed_position": "feed_position",
    "crawl_session": "crawl_session",
    "phash": "phash",
    "flags": "flags",
}
_FILE_COLUMNS = ("file", "filename", "file_name", "image", "image_name", "path", "screenshot")
_PLATFORMS = {
    "tiktok": "tiktok",
    "youtube": "youtube",
    "youtube_shorts": "youtube",
    "shorts": "youtube",
    "instagram": "instagram",
    "ins": "instagram",
    "reels": "instagram",
    "sim": "sim",
}
_IMAGE_NAME = re.compile(r"([^\\/]+?\.(?:jpe?g|png|webp))", re.IGNORECASE)


class MetadataError(Exception):
    pass


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    metadata_rows_skipped: list[str] = field(default_factory=list)  # one sentence per bad metadata row

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "duplicates": self.duplicates,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "metadata_rows_skipped": self.metadata_rows_skipped,
        }


def import_paths(
    ws: Workspace, paths: Iterable[Path], metadata_csv: Path | None = None, reporter: Reporter | None = None
) -> ImportReport:
    reporter = reporter or NullReporter()
    report = ImportReport()
    metadata = read_metadata_csv(metadata_csv, report.metadata_rows_skipped) if metadata_csv else {}
    if report.metadata_rows_skipped:
        reporter.log(
            f"{len(report.metadata_rows_skipped)} metadata rows skipped (the first: {report.metadata_rows_skipped[0]})",
            "warning",
        )
    files = list(iter_image_files(paths, reporter))
    # originals plus thumbnails and catalog rows: refuse up front rather than half-way
    diskspace.require_free(ws.root, int(sum(_size(f) for f in files) * 1.2) + (1 << 20))
    reporter.progress(0, len(files), "importing")
    for n, path in enumerate(files, start=1):
        reporter.check_cancelled()
        try:
            data = images.read_image_file(path)  # stat first: regular files within the limit only
            meta: dict[str, str | None] = dict(metadata.get(path.name.lower()) or {})
            if not any(_ALIASES.get(_key(k)) == "platform" and v for k, v in meta.items()):
                meta["platform"] = platform_from_path(path)  # e.g. the pilot's gpt4o-tiktok/ folder
            image_id, new = add_image(ws, data, source_name=path.name, meta=meta)
        except images.BadImage as exc:
            report.skipped.append((str(path), str(exc)))
            reporter.log(f"skipped {visible(str(path))}: {exc}", "warning")  # a newline in a name forges no line
        except OSError as exc:
            if diskspace.is_disk_full(exc):  # a write failed: every later file would fail the same way
                raise diskspace.DiskFullError(diskspace.disk_full_message(ws.root, _size(path))) from None
            if exc.errno == errno.EROFS:
                raise
            report.skipped.append((str(path), f"cannot read file ({exc.strerror or exc})"))
            reporter.log(f"skipped {visible(str(path))}: cannot read file ({exc.strerror or exc})", "warning")
        else:
            if new:
                report.added.append(image_id)
            else:
                report.duplicates += 1
        reporter.progress(n, len(files), path.name)
    return report


def _size(path: Path) -> int:
    """What importing ``path`` may write: nothing for a file that will be refused unread (not
    a regular file, or past the size limit; a 3 GB sparse file must not fail the space check)."""
    try:
        st = path.stat()
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) and st.st_size <= images.MAX_FILE_BYTES else 0


def platform_from_path(path: Path) -> str | None:
    """The platform a file's folder names (its two closest folders, e.g. ``gpt4o-tiktok`` or
    ``Ins``), so a library imported without a metadata CSV can still be filtered by platform.
    Never "sim": only the crawler marks simulator captures."""
    for folder in reversed(Path(path).parent.parts[-2:]):
        for token in re.split(r"[^a-z]+", folder.lower()):
            if token in _PLATFORMS and _PLATFORMS[token] != "sim":
                return _PLATFORMS[token]
    return None


def iter_image_files(paths: Iterable[Path], reporter: Reporter | None = None) -> Iterator[Path]:
    """Files named directly are always tried (a bad one is then reported); folders are walked
    for image suffixes, in a stable order."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.exists():
            yield p
        elif reporter:
            reporter.log(f"skipped {p}: no such file or folder", "warning")


def add_image(
    ws: Workspace, data: bytes, *, source_name: str | None = None, meta: Mapping[str, Any] | None = None
) -> tuple[int, bool]:
    """Store one image; returns (image id, whether it was new). Raises ``images.BadImage``."""
    info = images.inspect(data)
    existing = ws.db.execute("SELECT id FROM images WHERE sha256 = ?", (info.sha256,)).fetchone()
    if existing:
        return existing["id"], False
    # Files first, then the row: a crash in between leaves only an orphan file that the
    # next import of the same picture reuses.
    path = ws.image_path(info.sha256, info.ext)
    if not path.exists():
        atomic_write_bytes(path, data)
    thumb = ws.thumb_path(info.sha256)
    if not thumb.exists():
        atomic_write_bytes(thumb, images.make_thumbnail(data))
    known, extra = normalize_metadata(meta or {})
    columns = {
        "sha256": info.sha256,
        "ext": info.ext,
        "width": info.width,
        "height": info.height,
        "bytes": info.bytes,
        "source_name": source_name,
        **known,
        "extra_json": json.dumps(extra, ensure_ascii=False, sort_keys=True),
        "imported_at": clock.now(),
    }
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    with ws.transaction() as conn:
        cur = conn.execute(
            f"INSERT INTO images({names}) VALUES ({marks}) ON CONFLICT(sha256) DO NOTHING",
            tuple(columns.values()),
        )
        if cur.rowcount == 0:  # another process stored it meanwhile
            return conn.execute("SELECT id FROM images WHERE sha256 = ?", (info.sha256,)).fetchone()["id"], False
        assert cur.lastrowid is not None  # set by the INSERT that added the row
        return cur.lastrowid, True


def read_metadata_csv(path: Path, skipped: list[str] | None = None) -> dict[str, dict[str, str]]:
    """Rows keyed by lower-cased image file name (taken from the file/image column). A row with
    a wrong cell is left out, its one-sentence reason appended to ``skipped``; a file that is
    not a metadata CSV at all is ``MetadataError``."""
    skipped = [] if skipped is None else skipped
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            file_col = next((c for c in fields if _key(c) in _FILE_COLUMNS), None)
            if file_col is None:
                raise MetadataError(f"{path}: no column naming the image file (one of: {', '.join(_FILE_COLUMNS)})")
            rows: dict[str, dict[str, str]] = {}
            for row in reader:
                match = _IMAGE_NAME.search(row.get(file_col) or "")
                if match:
                    meta = {k: v for k, v in row.items() if k and k != file_col}
                    source = f"{Path(path).name}: line {reader.line_num}"
                    try:
                        for column, value in meta.items():
                            check(value, Optional(_CELL), f"{source}, column {column!r}", MetadataError)
                        normalize_metadata(meta, source)
                    except MetadataError as exc:
                        skipped.append(str(exc))
                        continue
                    rows[match.group(1).lower()] = meta
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MetadataError(f"cannot read metadata CSV {path}: {exc}") from None


def _whole_number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}\s*", value):
        return int(value)
    raise ValueError(f"expected a whole number, got {show(value)}")


# Metadata cells (the schema of a metadata row): any text up to a size; positions whole numbers.
_CELL = Str(max_len=10_000)
_POSITION = Custom(Anything(), _whole_number)


def normalize_metadata(meta: Mapping[str, Any], source: str = "metadata") -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a metadata row into catalog columns and extras (kept verbatim); a wrong cell is
    ``MetadataError`` naming it."""
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for raw_key, value in meta.items():
        if value is None or value == "":
            continue
        column = _ALIASES.get(_key(raw_key))
        if column is None or column in known:
            extra[raw_key] = value
        elif column == "platform":
            known[column] = _PLATFORMS.get(_key(str(value)), str(value).strip().lower())
        elif column == "post_date":
            parsed = parse_date(str(value))
            if parsed:
                known[column] = parsed
            else:
                extra[raw_key] = value
        elif column == "feed_position":
            known[column] = check(value, _POSITION, f"{source}, column {raw_key!r}", MetadataError)
        else:
            known[column] = value
    return known, extra


def parse_date(text: str) -> str | None:
    """ISO date (YYYY-MM-DD) from the common ways sites and spreadsheets write one."""
    text = text.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    for fmt in (
        "%Y/%m/%d",
        "%Y.%m.%d",
        "%d.%m.%Y",
        "%b %d, %Y",
        "%B %d, %Y",
        "%d %b %Y",
        "%d %B %Y",
        "%m/%d/%Y",
        "%Y%m%d",
    ):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())
