"""Issue 14 item 2: one process owns a run; a dead owner's lock is stale."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from vspectrum_app.core import locks

HOLDER = r"""
import sys, time
from vspectrum_app.core import locks
with locks.hold(sys.argv[1], "bench-run", "R1"):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_live_holder_is_named_and_a_dead_one_is_stale(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert child.stdout.readline().strip() == "held"
        holder = locks.lock_holder(tmp_path, "bench-run", "R1")
        assert holder is not None and holder.pid == child.pid
        assert locks.is_locked(tmp_path, "bench-run", "R1")
        assert not locks.is_locked(tmp_path, "bench-run", "R2")
        with pytest.raises(locks.RunLockedError, match=f"process {child.pid} on"):
            with locks.hold(tmp_path, "bench-run", "R1"):
                pass
    finally:
        child.send_signal(signal.SIGKILL)  # dies holding it: the file still names it
        child.wait()
    assert locks.lock_path(tmp_path, "bench-run", "R1").read_text()
    assert locks.lock_holder(tmp_path, "bench-run", "R1") is None
    with locks.hold(tmp_path, "bench-run", "R1") as me:
        assert me.pid == os.getpid()
        assert locks.lock_holder(tmp_path, "bench-run", "R1") == me  # another descriptor sees it held
    assert not locks.is_locked(tmp_path, "bench-run", "R1")


def test_a_second_crawl_on_the_same_browser_profile_is_refused_before_anything_is_recorded(workspace, tmp_path):
    from vspectrum_app.crawl.session import CRAWL_LOCK, CrawlConfig, Crawler
    from vspectrum_app.crawl.store import CrawlStore

    profile = tmp_path / "profiles" / "sim-tiktok"
    crawler = Crawler(
        workspace, CrawlConfig(platform="sim", skin="tiktok", count=1, headless=True, profile=str(profile))
    )
    with locks.hold(profile.parent, CRAWL_LOCK, profile.name):  # as a crawl running in another window would
        with pytest.raises(locks.RunLockedError, match="browser profile"):
            crawler.run()
    assert CrawlStore(workspace).sessions() == []
