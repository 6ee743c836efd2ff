"""One clock for every stored timestamp: UTC, microseconds, sortable as text."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from vspectrum_app.core import clock


def test_now_is_utc_iso_with_microseconds_and_sorts_in_time_order():
    stamps = [clock.now() for _ in range(200)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", s) for s in stamps)
    assert stamps == sorted(stamps)
    parsed = datetime.fromisoformat(stamps[-1])
    assert parsed.utcoffset() == timezone.utc.utcoffset(None)


def test_stamp_is_for_ids():
    assert re.fullmatch(r"\d{8}-\d{6}", clock.stamp())


def test_no_store_keeps_its_own_clock():
    """The five copies (three precisions) are gone: every store stamps through core.clock."""
    from pathlib import Path

    import vspectrum_app

    root = Path(vspectrum_app.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "clock.py" and re.search(r"def _?now\(\)|datetime\.now\(", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
