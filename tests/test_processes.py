"""Stopping a job ends what it started: the job child leads its own process group, and
kill_tree ends the group (the way the app ends a crawl and its Chromium)."""

import os
import subprocess
import sys
import time

import pytest

from vspectrum_app.core.processes import kill_tree

pytestmark = pytest.mark.skipif(os.name == "nt" or not os.path.exists("/proc"), reason="POSIX /proc check")

# The job child as the CLI starts it under --events: group leader first, then a long-lived
# grandchild (in the app: Playwright's driver and Chromium), whose pid it prints.
CHILD = (
    "import subprocess, sys, time\n"
    "from vspectrum_app.core.processes import become_group_leader\n"
    "become_group_leader()\n"
    "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "print(g.pid, flush=True)\n"
    "time.sleep(120)\n"
)


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _gone(pid: int) -> bool:
    for _ in range(250):  # signals land asynchronously; bounded, not timed
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_kill_tree_ends_the_job_and_the_processes_it_started():
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()}
    )
    grandchild = int(child.stdout.readline())
    try:
        assert _alive(grandchild)
        kill_tree(child.pid)
        child.wait(timeout=30)
        assert _gone(grandchild), "the grandchild outlived the job"
    finally:
        for pid in (grandchild, child.pid):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def test_kill_tree_of_a_process_without_its_own_group_spares_ours():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    kill_tree(child.pid)  # not a group leader: only the process itself, never our group
    assert child.wait(timeout=30) == -9
