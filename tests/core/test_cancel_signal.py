"""Issue 15: a SIGTERM landing while the job writes an event must not deadlock the child.

The child streams JSON-lines events through the real ``JsonLinesReporter`` and stops after
its unit in flight; the parent sends SIGTERM in a tight loop. Before the fix the handler
logged through ``emit`` (non-reentrant lock) and the child hung when a signal arrived
inside ``emit``. Loops: ``VSPECTRUM_SIGTERM_LOOPS`` (20 here; 200 by hand).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

CHILD = r"""
import sys
from vspectrum_app.core.jobs import Cancelled, JsonLinesReporter
r = JsonLinesReporter(open(sys.argv[1], "w", buffering=1))
r.install_signal_handlers()
r.emit("ready")
print("ready", flush=True)
i = 0
try:
    while True:
        i += 1
        r.progress(i, None, "streaming")
        r.check_cancelled()
except Cancelled:
    for j in range(3000):  # the unit in flight keeps reporting while signals keep coming
        r.progress(i + j, None, "finishing")
    sys.exit(130)
"""

LOOPS = int(os.environ.get("VSPECTRUM_SIGTERM_LOOPS", "20"))
GENEROUS_S = 60  # a hung child, not a slow machine, is what this bound catches


@pytest.mark.parametrize("round_", range(LOOPS))
def test_sigterm_storm_while_events_stream_exits_cleanly(tmp_path, round_):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "events.jsonl")], env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + GENEROUS_S
    while child.poll() is None and time.monotonic() < deadline:
        try:
            child.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            break
    if child.poll() is None:
        child.kill()
        child.wait()
        pytest.fail("the child hung after SIGTERM (deadlock in the signal handler)")
    assert child.returncode == 130
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert any("stopping after the work in flight" in line for line in lines)
