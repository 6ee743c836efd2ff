"""A workspace is used from the GUI thread and the worker pool at once: each thread has its
own SQLite connection, and a part's schema is created on the calling thread's connection."""

from __future__ import annotations

import threading

from vspectrum_app.core.workspace import Workspace


def test_a_worker_creates_a_schema_while_the_opening_thread_is_in_a_transaction(tmp_path):
    ws = Workspace.open(tmp_path / "ws", schemas={})
    ws.db.execute("BEGIN")  # the opening thread's transaction, still open (it holds no lock yet)
    failed: list[BaseException] = []

    def worker() -> None:
        try:
            ws.ensure_schema("notes", ["CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT);"])
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failed.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    t.join(timeout=60)
    assert failed == []
    ws.db.execute("COMMIT")
    ws.db.execute("INSERT INTO notes(text) VALUES ('seen from the opening thread')")
    assert ws.db.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 1
    ws.close()
