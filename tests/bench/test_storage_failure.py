"""Issue 27 item 1: when the catalog cannot store an answer (the disk fills), the run stops
sending at once, keeps every answer it received (in its journal), reads "stopped", names the
workspace's disk, and a resume sends none of the answered calls again."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import threading

import pytest

from tests.bench.test_engine import VALUES, _provider, _signature_of_logged, _signature_of_request, reddish
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench import journal
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main
from vspectrum_app.library.catalog import open_workspace

CONCURRENCY = 4


def _bench_run(root, tiny_clip):
    return main(
        [
            "-w",
            str(root),
            "bench",
            "run",
            "--model",
            "lab:m1",
            "--values",
            *VALUES,
            "--k",
            "2",
            "--clip-config",
            tiny_clip.config,
            "--clip-checkpoint",
            tiny_clip.checkpoint,
        ]
    )


def _runs(root, capsys):
    capsys.readouterr()
    assert main(["-w", str(root), "bench", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _stored_signatures(root):
    with open_workspace(root) as ws:
        return {_signature_of_logged(json.loads(r[0])) for r in ws.db.execute("SELECT request_json FROM bench_calls")}


def _check_stop_and_resume(root, server, at_failure, capsys, err):
    """What both tests require once the run has failed at ``at_failure`` requests."""
    # stopped sending: only the calls already on the wire reached the server after the failure
    assert len(server.log) - at_failure <= CONCURRENCY, (len(server.log), at_failure)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "is full" in lines[0] and str(root) in lines[0] and "bench resume" in lines[0], err
    (run,) = _runs(root, capsys)
    assert run["status"] == "stopped", run
    answered = {_signature_of_request(r) for r in server.log if r.status == 200}
    before = len(server.log)
    assert main(["-w", str(root), "bench", "resume", run["id"]]) == 0
    resent = [r for r in server.log[before:] if _signature_of_request(r) in answered]
    assert resent == []  # every answer received before the stop was kept (catalog or journal)
    assert answered <= _stored_signatures(root)
    assert _runs(root, capsys)[0]["status"] == "done"
    assert not journal.journal_path(root, run["id"]).exists()  # read back, then removed


def test_a_refused_write_stops_the_queue_and_resume_repeats_nothing(indexed_workspace, tiny_clip, monkeypatch, capsys):
    """The fault injected at the storage seam: every catalog write fails once the disk is "full"."""
    server = FakeVLMServer(answer=reddish, latency_s=0.05).start()
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    state = {"full": False, "logged": 0, "at_failure": None}
    real = {name: getattr(RunStore, name) for name in ("log_call", "finish_items", "set_status")}

    def faulty(name):
        def write(self, *args, **kwargs):
            if name == "log_call" and state["at_failure"] is None:
                state["logged"] += 1
                if state["logged"] > 6:
                    state["full"], state["at_failure"] = True, len(server.log)
            if state["full"]:
                raise sqlite3.OperationalError("database or disk is full")
            return real[name](self, *args, **kwargs)

        return write

    for name in real:
        monkeypatch.setattr(RunStore, name, faulty(name))
    try:
        _provider(server)
        root = indexed_workspace.root
        assert _bench_run(root, tiny_clip) == 1
        err = capsys.readouterr().err
        assert state["at_failure"] is not None, err
        state["full"] = False  # room again
        _check_stop_and_resume(root, server, state["at_failure"], capsys, err)
    finally:
        server.stop()


def test_an_item_error_that_cannot_be_recorded_stops_the_run_too(indexed_workspace, tiny_clip, monkeypatch, capsys):
    """Every request is refused for good (422): each item's error is recorded, until the disk
    is "full" at the fourth; then the run stops sending, as for an answer."""
    server = FakeVLMServer(answer=reddish, latency_s=0.05).start()
    server.fault_rule = lambda req: ("422",)
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    state = {"recorded": 0, "at_failure": None}
    real = RunStore.fail_item

    def fail_item(self, item_id, error):
        state["recorded"] += 1
        if state["recorded"] > 3:
            if state["at_failure"] is None:
                state["at_failure"] = len(server.log)
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, item_id, error)

    monkeypatch.setattr(RunStore, "fail_item", fail_item)
    try:
        _provider(server)
        assert _bench_run(indexed_workspace.root, tiny_clip) == 1
        err = capsys.readouterr().err
        assert state["at_failure"] is not None, err
        assert len(server.log) - state["at_failure"] <= CONCURRENCY, (len(server.log), state["at_failure"])
        assert "is full" in err and "Traceback" not in err
        (run,) = _runs(indexed_workspace.root, capsys)
        assert run["status"] == "stopped" and run["errors"] == 3, run
    finally:
        server.stop()


@pytest.fixture
def small_disk(tmp_path):
    """Mounts a real tmpfs of a given size (we run as root in CI); skipped where mounting is not allowed."""
    where = tmp_path / "mnt"
    where.mkdir()

    def mount(size_bytes):
        option = f"size={size_bytes // 1024}k"
        if subprocess.run(["mount", "-t", "tmpfs", "-o", option, "tmpfs", str(where)], capture_output=True).returncode:
            pytest.skip("cannot mount a tmpfs here")
        return where

    yield mount
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(folder):
    """Fill the disk holding ``folder`` to the last byte (unbuffered: nothing left to flush)."""
    with open(folder / "filler.bin", "wb", buffering=0) as f:
        for block in (1 << 20, 4096, 1):
            try:
                while f.write(b"\0" * block):
                    pass
            except OSError:
                pass


def test_a_disk_that_fills_during_a_run(indexed_workspace, tiny_clip, small_disk, monkeypatch, capsys):
    """A real full file system: the server fills the disk when it receives the 7th request."""
    src = indexed_workspace.root
    indexed_workspace.close()  # its last connection gone, the WAL is folded in: writes must grow it again
    used = sum(f.stat().st_size for f in src.rglob("*") if f.is_file())
    disk = small_disk(used + (8 << 20))  # room for the run to start (it wants 1 MB free)
    root = disk / "ws"
    shutil.copytree(src, root)
    state = {"at_failure": None}
    once = threading.Lock()

    def filling(req):
        with once:
            if len(server.log) >= 7 and state["at_failure"] is None:
                _fill(disk)
                state["at_failure"] = len(server.log)
        return reddish(req)

    server = FakeVLMServer(answer=filling, latency_s=0.05).start()
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    try:
        _provider(server)
        assert _bench_run(root, tiny_clip) == 1
        err = capsys.readouterr().err
        assert state["at_failure"] is not None, err
        (disk / "filler.bin").unlink()  # room again
        _check_stop_and_resume(root, server, state["at_failure"], capsys, err)
    finally:
        server.stop()
