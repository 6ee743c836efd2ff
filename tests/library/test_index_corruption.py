"""Issue 27 item 14: an index out of step with its table (silent damage that ``integrity_check``
finds and ``quick_check`` does not) refuses an import instead of letting a duplicate image row in,
and ``library repair`` rebuilds the index, keeping everything else."""

from __future__ import annotations

import json
import sqlite3

from tests.library.test_catalog_faults import _cli, _library
from tests.plugins.library import make_image_bytes
from vspectrum_app.core import db
from vspectrum_app.library.catalog import open_workspace


def _break_the_sha_index(catalog, sha):
    """Change one character of ``sha``'s entry in the UNIQUE index on images.sha256, in the file
    itself: the row is still there, but a lookup through the index no longer finds it."""
    conn = sqlite3.connect(catalog)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    (root,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'images' AND sql IS NULL"
    ).fetchone()
    conn.close()
    data = bytearray(catalog.read_bytes())
    page = slice((root - 1) * page_size, root * page_size)
    at = bytes(data[page]).index(sha.encode())
    last = at + (root - 1) * page_size + len(sha) - 1
    data[last] = ord("0") if data[last] != ord("0") else ord("1")  # the last character: the order is kept
    catalog.write_bytes(bytes(data))


def test_a_damaged_index_refuses_the_import_and_repair_rebuilds_it(tmp_path):
    root = _library(tmp_path, n=5)
    with open_workspace(root) as ws:
        sha = ws.db.execute("SELECT sha256 FROM images ORDER BY id LIMIT 1 OFFSET 2").fetchone()[0]
        with ws.transaction() as conn:  # something only the catalog holds, which a rebuild would lose
            conn.execute("UPDATE images SET caption = 'kept' WHERE sha256 = ?", (sha,))
    catalog = root / "catalog.sqlite"
    assert not (root / "catalog.sqlite-wal").exists() or not (root / "catalog.sqlite-wal").stat().st_size
    _break_the_sha_index(catalog, sha)
    conn = sqlite3.connect(catalog)
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"  # the damage quick_check misses
    assert db.integrity_problems(conn)
    conn.close()

    again = tmp_path / "again.jpg"
    again.write_bytes(make_image_bytes(seed=2))  # the picture behind the damaged entry
    rc, out, err = _cli(root, "library", "import", str(again), "--json")
    assert rc == 1 and "Traceback" not in err, (out, err)
    (line,) = [x for x in err.splitlines() if x.startswith("error:")]
    assert "is damaged" in line and "missing from index" in line and "library repair" in line, err
    with open_workspace(root) as ws:
        assert ws.db.execute("SELECT COUNT(*) FROM images NOT INDEXED WHERE sha256 = ?", (sha,)).fetchone()[0] == 1

    rc, out, err = _cli(root, "library", "repair", "--json")
    assert rc == 0, err
    result = json.loads(out)
    assert result["moved_aside"] is None and result["reindexed"], result  # mended in place
    with open_workspace(root) as ws:
        assert db.integrity_problems(ws.db) == []
        assert ws.db.execute("SELECT caption FROM images WHERE sha256 = ?", (sha,)).fetchone()[0] == "kept"
    rc, out, err = _cli(root, "library", "import", str(again), "--json")
    assert rc == 0, err
    assert json.loads(out)["added"] == 0 and json.loads(out)["duplicates"] == 1
    with open_workspace(root) as ws:
        assert ws.db.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 5
