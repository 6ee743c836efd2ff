"""Stopping a background job and everything it started (Chromium, Playwright's driver), on
every OS.

The app runs each long job as a ``vspectrum --events`` child. That child starts processes
of its own, so killing the child alone would leave a browser running. Each job child is
therefore the leader of its own process group (POSIX) or starts in a new process group
(Windows, ``CREATE_NEW_PROCESS_GROUP``), and the app stops it in two steps:

1. ``interrupt``: the cooperative stop, which the CLI turns into "finish the unit in flight"
   (SIGTERM on POSIX; CTRL_BREAK_EVENT, delivered to the group as SIGBREAK, on Windows);
2. ``kill_tree``: if it lingers, the whole group at once (SIGKILL to the group; on Windows
   ``taskkill /T /F``, which walks the process tree).
"""

from __future__ import annotations

import os
import signal
import subprocess

WINDOWS = os.name == "nt"
# subprocess.CREATE_NEW_PROCESS_GROUP exists only on Windows; its value is fixed by the Win32 API.
CREATE_NEW_PROCESS_GROUP = 0x00000200


def become_group_leader() -> None:
    """Called by a job child at start (POSIX): its own process group, so that the app can end
    it together with every process it starts. Harmless when it already leads one."""
    if WINDOWS:
        return
    try:
        os.setpgid(0, 0)
    except OSError:  # a session leader cannot move (already on its own)
        pass


def interrupt(pid: int) -> None:
    """Ask the job to stop after the unit in flight."""
    if WINDOWS:
        os.kill(pid, signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    else:
        os.kill(pid, signal.SIGTERM)


def kill_tree(pid: int) -> None:
    """End the job and everything it started, at once."""
    if WINDOWS:
        subprocess.run(["taskkill", "/PID", str(pid), "/T", "/F"], capture_output=True, check=False)
        return
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
