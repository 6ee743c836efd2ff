"""Issue 14 item 2: ``bench resume`` of a run another process is executing sends nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.bench.test_engine import VALUES, _provider, reddish
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench.runner import RUN_LOCK
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main
from vspectrum_app.core import locks

ROOT = Path(__file__).resolve().parents[2]


def start_bench_run(indexed_workspace, tiny_clip, monkeypatch):
    """A real ``bench run --events`` child on the workspace (closed here) with provider "lab"."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    root = indexed_workspace.root
    indexed_workspace.close()
    cmd = [
        sys.executable,
        "-m",
        "vspectrum_app",
        "--events",
        "-w",
        str(root),
        "bench",
        "run",
        "--model",
        "lab:m1",
        "--values",
        *VALUES,
        "--k",
        "1",
        "--clip-config",
        tiny_clip.config,
        "--clip-checkpoint",
        tiny_clip.checkpoint,
    ]
    return root, subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ), cwd=ROOT
    )


def test_second_resume_of_a_running_run_is_refused_and_sends_nothing(indexed_workspace, tiny_clip, monkeypatch, capsys):
    server = FakeVLMServer(answer=reddish, latency_s=0.05).start()
    # The second resume is pointed at its own server: requests the frozen child had already put
    # on the wire may still reach the first one, so only an empty second log proves "nothing sent".
    second = FakeVLMServer(answer=reddish).start()
    child = None
    try:
        _provider(server)
        root, child = start_bench_run(indexed_workspace, tiny_clip, monkeypatch)
        for line in child.stdout:
            if json.loads(line)["type"] == "answer":
                break
        child.send_signal(signal.SIGSTOP)  # still running as far as anyone can tell, and frozen
        from vspectrum_app.library.catalog import open_workspace

        with open_workspace(root) as ws:
            run_id = RunStore(ws).runs()[-1]["id"]
        assert locks.is_locked(root, RUN_LOCK, run_id)
        assert locks.lock_holder(root, RUN_LOCK, run_id).pid == child.pid
        _provider(second)
        assert main(["-w", str(root), "bench", "resume", run_id]) == 1
        err = capsys.readouterr().err
        assert f"process {child.pid}" in err and "nothing was sent" in err
        assert second.log == []
        child.send_signal(signal.SIGKILL)  # its lock goes stale with it
        child.wait()
        assert not locks.is_locked(root, RUN_LOCK, run_id)
        assert main(["-w", str(root), "bench", "resume", run_id]) == 0
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        server.stop()
        second.stop()
