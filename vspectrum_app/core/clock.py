"""The one wall clock of the workspace: every stored timestamp is UTC ISO-8601 with
microseconds (fine enough that two answers in one second keep their order and stay distinct,
and such strings sort in time order), and every id that carries a time uses ``stamp``."""

from __future__ import annotations

from datetime import datetime, timezone


def utc() -> datetime:
    return datetime.now(timezone.utc)


def now() -> str:
    """UTC now as stored in the workspace, e.g. ``2026-11-28T15:09:30.123456+00:00``."""
    return utc().isoformat(timespec="microseconds")


def stamp() -> str:
    """UTC now for ids and file names, e.g. ``20261128-150930``."""
    return utc().strftime("%Y%m%d-%H%M%S")
