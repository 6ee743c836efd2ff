"""Bring screenshots into a workspace: from files and folders (with an optional metadata
CSV), or one at a time from a crawler.

Images are stored by content hash, so importing the same picture twice is a no-op. A file
that cannot be used is reported with its reason and skipped; nothing already imported is
touched. Each image is committed on its own, so an interrupted import keeps what it did.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from vspectrum_app.core import clock, db, diskspace
from vspectrum_app.core.atomic import atomic_write_bytes
from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.core.visible import visible
from vspectrum_app.core.schema import Anything, Custom, Optional, Str, check, show
from vspectrum_app.library import images
from vspectrum_app.core.workspace import CATALOG, Workspace

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
_IMAGE_EXT = re.compile(r"(?<=.)\.(?:jpe?g|png|webp)", re.IGNORECASE | re.DOTALL)


def _image_name(cell: str) -> str | None:
    """The first image file name in a cell (``shots/a.jpg``, ``https://x/a.JPG?s=1`` -> ``a.jpg``):
    within one path segment, up to the first image suffix. Linear in the cell's length (a
    regex with a lazy repeat took minutes on a 200 KB cell)."""
    for segment in re.split(r"[\\/]", cell):
        if match := _IMAGE_EXT.search(segment):
            return segment[: match.end()]
    return None


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
    db.require_intact(ws.db, ws.root / CATALOG, "images", "imported")  # a damaged index would let duplicates in
    notes: list[str] = []
    metadata = read_metadata_csv(metadata_csv, report.metadata_rows_skipped, notes) if metadata_csv else {}
    for note in notes:
        reporter.log(note, "warning")
    if report.metadata_rows_skipped:
        reporter.log(
            f"{len(report.metadata_rows_skipped)} metadata rows skipped (the first: {report.metadata_rows_skipped[0]})",
            "warning",
        )
    files = list(iter_image_files(paths, reporter, report.skipped))
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
            reporter.log(f"skipped {shown(path)}: {exc}", "warning")
        except OSError as exc:
            if diskspace.is_disk_full(exc):  # a write failed: every later file would fail the same way
                raise diskspace.DiskFullError(diskspace.disk_full_message(ws.root, _size(path))) from None
            if exc.errno == errno.EROFS:
                raise
            report.skipped.append((str(path), f"cannot read file ({exc.strerror or exc})"))
            reporter.log(f"skipped {shown(path)}: cannot read file ({exc.strerror or exc})", "warning")
        else:
            if new:
                report.added.append(image_id)
            else:
                report.duplicates += 1
        reporter.progress(n, len(files), shown(path.name))
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


def iter_image_files(
    paths: Iterable[Path], reporter: Reporter | None = None, skipped: list[tuple[str, str]] | None = None
) -> Iterator[Path]:
    """Files named directly are always tried (a bad one is then reported); folders are walked
    for image suffixes, in a stable order. A link in a folder that leads outside it is not
    followed (appended to ``skipped``): importing a folder imports what is in it."""
    for p in map(Path, paths):
        if p.is_dir():
            inside = p.resolve()
            for f in sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES):
                if f.resolve().is_relative_to(inside):
                    yield f
                    continue
                reason = f"a link to a file outside {p}: not followed"
                if skipped is not None:
                    skipped.append((str(f), reason))
                if reporter:
                    reporter.log(f"skipped {shown(f)}: {reason}", "warning")
        elif p.exists():
            yield p
        elif reporter:
            reporter.log(f"skipped {shown(p)}: no such file or folder", "warning")


def shown(path: Path | str) -> str:
    """A path as one line of a log: a newline in a file name would start a forged line
    (``core.visible``)."""
    return visible(str(path))


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


MAX_METADATA_BYTES = 64 << 20  # a metadata CSV larger than this is refused whole, unread
_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def read_metadata_csv(
    path: Path, skipped: list[str] | None = None, notes: list[str] | None = None
) -> dict[str, dict[str, str]]:
    """Rows keyed by lower-cased image file name (taken from the file/image column). A row with
    a wrong cell, or naming a file an earlier row named, is left out, its one-sentence reason
    appended to ``skipped``; a file that is not a metadata CSV at all (or whose header names a
    column twice) is ``MetadataError``. The encoding: a BOM's (UTF-8, UTF-16, UTF-32), else
    UTF-8, else Windows-1252 (what spreadsheets on Windows write), said in ``notes``."""
    skipped = [] if skipped is None else skipped
    name = shown(Path(path).name)
    text, fallback = _read_text(Path(path))
    if fallback and notes is not None:
        notes.append(f"{name} is not UTF-8: read as {fallback}; save it as UTF-8 if its accents look wrong")
    try:
        with _field_limit(len(text) + 1):  # a cell is bounded by the schema below, not by csv's 128 KB default
            _refuse_unclosed_quote(name, text)
            reader = csv.DictReader(io.StringIO(text, newline=""))
            fields = reader.fieldnames or []
            _refuse_repeated_columns(name, fields)
            file_col = next((c for c in fields if _key(c) in _FILE_COLUMNS), None)
            if file_col is None:
                raise MetadataError(f"{path}: no column naming the image file (one of: {', '.join(_FILE_COLUMNS)})")
            rows: dict[str, dict[str, str]] = {}
            first_line: dict[str, int] = {}
            for row in reader:
                image_name = _image_name(row.get(file_col) or "")
                if image_name:
                    meta = {k: v for k, v in row.items() if k and k != file_col}
                    source = f"{name}: line {reader.line_num}"
                    try:
                        for column, value in meta.items():
                            check(value, Optional(_CELL), f"{source}, column {column!r}", MetadataError)
                        normalize_metadata(meta, source)
                    except MetadataError as exc:
                        skipped.append(str(exc))
                        continue
                    key = image_name.lower()
                    if key in rows:  # the first row for a file is kept; a repeat is said, never silently applied
                        same = "repeats" if rows[key] == meta else "contradicts"
                        skipped.append(
                            f"{source}: {same} line {first_line[key]} for {shown(image_name)}; the first row is kept"
                        )
                        continue
                    rows[key], first_line[key] = meta, reader.line_num
            return rows
    except csv.Error as exc:
        raise MetadataError(f"cannot read metadata CSV {shown(path)}: {exc}") from None


def _read_text(path: Path) -> tuple[str, str | None]:
    """The file's text and, when it was not UTF-8, the encoding it was read as. Checked before
    reading: a regular file of at most MAX_METADATA_BYTES (not a FIFO, not /dev/zero)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise MetadataError(f"cannot read metadata CSV {shown(path)}: not a regular file")
        if st.st_size > MAX_METADATA_BYTES:
            raise MetadataError(
                f"cannot read metadata CSV {shown(path)}: {st.st_size / 1e6:.0f} MB, more than the "
                f"{MAX_METADATA_BYTES >> 20} MiB a metadata file may have"
            )
        with open(path, "rb") as f:
            data = f.read(MAX_METADATA_BYTES + 1)[: MAX_METADATA_BYTES + 1]
    except OSError as exc:
        raise MetadataError(f"cannot read metadata CSV {shown(path)}: {exc.strerror or exc}") from None
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), None
            except UnicodeDecodeError as exc:
                raise MetadataError(
                    f"cannot read metadata CSV {shown(path)}: it starts as {label} but is not "
                    f"({exc.reason} at byte {exc.start})"
                ) from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252 (Western European)"
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined: Latin-1 reads every byte
        return data.decode("latin-1"), "Latin-1 (ISO 8859-1)"


def _refuse_unclosed_quote(name: str, text: str) -> None:
    """A quote never closed swallows every later row into one cell: refused, not half-read.
    (csv's lenient mode, used for the rows, reads such a file without a word; its strict mode
    is asked only about this, since it also refuses harmless quirks like ``"a"b``.)"""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 0
    try:
        for _ in reader:
            line = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise MetadataError(f"{name}: a quoted cell starting after line {line} is never closed") from None


def _refuse_repeated_columns(name: str, fields: Sequence[str]) -> None:
    """Two header cells for one column (``author`` twice, or ``Author`` and ``author``): which
    one holds the data is anyone's guess, so the file is refused rather than half-read."""
    seen: dict[str, int] = {}
    for n, field_name in enumerate(fields, start=1):
        k = _key(field_name)
        if not k:
            continue  # unnamed columns (trailing commas) are ignored anyway
        if k in seen:
            raise MetadataError(
                f"{name}: the header names column {field_name.strip()!r} twice (columns {seen[k]} and {n}); "
                "rename or remove one"
            )
        seen[k] = n


class _field_limit:
    """csv's process-wide cell limit raised for one read (and put back)."""

    def __init__(self, limit: int):
        self.limit = min(max(limit, 1 << 17), MAX_METADATA_BYTES + 1)

    def __enter__(self) -> None:
        self.before = csv.field_size_limit()
        csv.field_size_limit(max(self.before, self.limit))

    def __exit__(self, *exc: object) -> None:
        csv.field_size_limit(self.before)


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
