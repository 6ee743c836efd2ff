"""The one CSV writer of the app: every CSV the app writes (files, stdout, exports from the
window) goes through here, so that no cell can be run as a spreadsheet formula.

A cell that starts with ``= + - @``, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets (OWASP "CSV injection"). Such text cells get a leading
apostrophe, which the spreadsheets show as plain text. Numbers are written as numbers:
only ``str`` values are neutralised, so ``-0.5`` stays a number while ``"-0.5"`` (text that
merely looks like one, e.g. from a persona name) is neutralised too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet will read it safely: text starting like a formula is prefixed
    with an apostrophe; every other value is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_rows(out: TextIO, header: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> None:
    """Write ``header`` (if any) and ``rows`` as CSV to an open text stream."""
    # RFC 4180 line ends: the csv module then quotes every cell holding a CR or LF, which with a
    # bare "\n" it would not do for a CR (a reader would split the row there)
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])


def write_dicts(out: TextIO, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write mappings as CSV with ``columns`` as the header; missing keys are empty cells and
    keys not in ``columns`` are ignored."""
    write_rows(out, columns, ([row.get(c, "") for c in columns] for row in rows))


def to_text(header: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    write_rows(buf, header, rows)
    return buf.getvalue()


def write_file(path: str | Path, header: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV file (UTF-8, newline handling as the csv module requires)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        write_rows(f, header, rows)
