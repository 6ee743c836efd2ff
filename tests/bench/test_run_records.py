"""Issue 27 items 2 and 11: ``bench delete`` respects the run lock; only real damage of the
catalog is called damage; a half-written run manifest is one sentence and hides no other run."""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from vspectrum_app.bench.prompts import PromptSet
from vspectrum_app.bench.store import RUN_LOCK, RunStore
from vspectrum_app.cli import _explained, main
from vspectrum_app.core import db

HOLDER = r"""
import sys
from vspectrum_app.core import locks
with locks.hold(sys.argv[1], sys.argv[2], sys.argv[3]):
    print("held", flush=True)
    sys.stdin.read()
"""


def _make_run(workspace, values=("Power",)):
    manifest = {"prompts": PromptSet().to_json(), "targets": [], "targets_label": ["lab:m1"], "values": list(values)}
    item = {
        "target": "lab:m1",
        "mode": "vlm",
        "value": values[0],
        "keyword": "k",
        "rank": 1,
        "image_id": 1,
        "image_sha256": "0" * 64,
        "repeat": 0,
    }
    return RunStore(workspace).create_run(manifest, [item])


def test_bench_delete_refuses_a_run_another_process_is_running(workspace, capsys):
    run_id = _make_run(workspace)
    root = str(workspace.root)
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, root, RUN_LOCK, run_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert child.stdout.readline().strip() == "held"
        assert main(["-w", root, "bench", "delete", run_id]) == 1
        err = capsys.readouterr().err
        assert f"process {child.pid}" in err and "not deleted" in err and "Traceback" not in err, err
        assert [r["id"] for r in RunStore(workspace).runs()] == [run_id]
        assert len(RunStore(workspace).items(run_id, status=None)) == 1
    finally:
        child.send_signal(signal.SIGKILL)  # its lock is stale now
        child.wait()
    assert main(["-w", root, "bench", "delete", run_id]) == 0
    assert RunStore(workspace).runs() == []


def _real_errors(tmp_path):
    """Real sqlite3 exceptions, each raised by SQLite itself."""
    conn = sqlite3.connect(tmp_path / "a.sqlite", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE runs (id TEXT PRIMARY KEY)")
    conn.execute("CREATE TABLE items (run_id TEXT REFERENCES runs(id))")
    out = {}
    with pytest.raises(sqlite3.IntegrityError) as e:
        conn.execute("INSERT INTO items VALUES ('gone')")  # a run deleted under its runner
    out["integrity"] = e.value
    other = sqlite3.connect(tmp_path / "a.sqlite", isolation_level=None, timeout=0)
    conn.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError) as e:
        other.execute("BEGIN IMMEDIATE")
    conn.execute("ROLLBACK")
    out["locked"] = e.value
    (tmp_path / "noise.sqlite").write_bytes(b"this is not a database file at all, not even its header" * 100)
    with pytest.raises(sqlite3.DatabaseError) as e:
        sqlite3.connect(tmp_path / "noise.sqlite").execute("SELECT * FROM sqlite_master").fetchall()
    out["not a database"] = e.value
    return out


def test_only_real_damage_is_called_damaged(tmp_path):
    args = argparse.Namespace(workspace=str(tmp_path / "ws"))
    errors = _real_errors(tmp_path)
    errors["malformed"] = sqlite3.DatabaseError("database disk image is malformed")
    errors["wal io"] = sqlite3.OperationalError("disk I/O error")
    for name, exc in errors.items():
        sentence = str(_explained(exc, args))
        damaged = name in ("not a database", "malformed")
        assert ("damaged (" in sentence) == damaged, (name, sentence)
        assert ("library repair" in sentence) == damaged, (name, sentence)
        assert str(tmp_path / "ws" / "catalog.sqlite") in sentence
        assert db.is_damaged(exc) == damaged
    assert "locked by another process" in str(_explained(errors["locked"], args))
    assert "refused a change" in str(_explained(errors["integrity"], args))
    assert "disk or its file system failed" in str(_explained(errors["wal io"], args))


def test_a_disk_full_error_without_a_file_names_the_workspace_disk(tmp_path, monkeypatch):
    import errno

    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(workspace=str(tmp_path / "elsewhere" / "ws"))
    sentence = str(_explained(OSError(errno.ENOSPC, "No space left on device"), args))
    assert f"the disk holding {tmp_path / 'elsewhere' / 'ws'} is full" in sentence, sentence


def test_a_half_written_manifest_is_one_sentence_and_hides_no_other_run(workspace, capsys):
    good = _make_run(workspace, ("Power",))
    bad = _make_run(workspace, ("Hedonism",))
    with workspace.transaction() as conn:  # cut short mid-write
        conn.execute(
            "UPDATE bench_runs SET manifest_json = substr(manifest_json, 1, 40) WHERE id = ?",
            (bad,),
        )
    root = str(workspace.root)
    assert main(["-w", root, "bench", "list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and "Traceback" not in err, (out, err)
    assert any(line.startswith(good) and "lab:m1" in line for line in lines)
    assert any(line.startswith(bad) and "damaged" in line and "bench delete" in line for line in lines)
    for command in (["bench", "report", bad], ["bench", "resume", bad]):
        assert main(["-w", root, *command]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and "JSONDecodeError" not in err, err
        (line,) = [x for x in err.splitlines() if x.startswith("error:")]
        assert f"the manifest of run {bad} is damaged" in line, err
    assert main(["-w", root, "bench", "delete", bad]) == 0
    assert [r["id"] for r in RunStore(workspace).runs()] == [good]


def test_deleting_a_run_keeps_the_answers_its_journal_held(workspace):
    from vspectrum_app.bench.journal import CallJournal, journal_path

    run_id = _make_run(workspace)
    journal = CallJournal(journal_path(workspace.root, run_id))
    call = {
        "cache_key": "k" * 64,
        "run_id": run_id,
        "item_id": 1,
        "turn": 1,
        "provider": "lab",
        "model": "m1",
        "request": {"messages": []},
        "response_text": "Yes.",
        "refused": False,
        "finish_reason": "stop",
        "input_tokens": 10,
        "output_tokens": 1,
        "latency_s": 0.1,
        "created_at": "2026-12-07T00:00:00+00:00",
    }
    assert journal.add(call)
    journal.close(keep=True)
    assert RunStore(workspace).delete_run(run_id) == 1
    assert not journal_path(workspace.root, run_id).exists()
    assert RunStore(workspace).cached("k" * 64)["response_text"] == "Yes."  # the answer cache keeps it
