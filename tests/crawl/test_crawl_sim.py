"""Crawling the simulated platform with the real Chromium, headless, on every skin."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vspectrum_app.crawl.session import CrawlConfig, Crawler
from vspectrum_app.sim.clock import VirtualClock
from vspectrum_app.sim.server import SimPlatform, SimServer, feed_url

pytestmark = pytest.mark.usefixtures("chromium")  # marked browser (and slow) by tests/conftest.py

SPEED = 2.0  # the page's clock runs twice as fast: the 2 s moment comes after 1 s
TOLERANCE_S = 0.5  # capture moment, in video seconds, read back from the picture itself


@pytest.fixture
def sim(sim_catalog):
    platform = SimPlatform(sim_catalog, VirtualClock(speed=SPEED), seed=7)
    with SimServer(platform) as server:
        yield platform, server


def crawl(ws, server, skin, count, inject=None, tmp_path=None, **kw):
    cfg = CrawlConfig(
        platform="sim",
        skin=skin,
        count=count,
        headless=True,
        start_url=feed_url(server.url, skin, seed=3, inject=inject),
        profile=str(tmp_path / f"profile-{skin}") if tmp_path else None,
        **kw,
    )
    return Crawler(ws, cfg).run()


def progress_seconds(jpeg: bytes, duration_s: float = 30.0) -> float:
    """The video's own clock, read off the capture: the simulated player's progress bar
    (white on dark grey along the bottom 6 px) is part of the captured video area."""
    img = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float32)
    row = img[-3]
    return float((row > 180).mean()) * duration_s


@pytest.mark.parametrize("skin", ["tiktok", "youtube", "instagram"])
def test_crawl_captures_each_skin_2s_in_with_metadata(workspace, sim, skin, tmp_path):
    platform, server = sim
    report = crawl(workspace, server, skin, 3, inject="ad:1,repost:3", tmp_path=tmp_path)
    assert report.status == "done" and len(report.stored) == 3
    assert report.flagged == 1 and report.duplicates == 1  # the ad; the repost of video 3

    served = platform.inspect(platform.sessions and next(iter(platform.sessions)))["served"]
    rows = workspace.db.execute("SELECT * FROM images ORDER BY feed_position").fetchall()
    for row in rows:
        truth = served[row["feed_position"]]
        assert truth["key"] in row["video_url"] or any(
            truth[k] in row["video_url"] for k in ("tiktok_id", "youtube_id", "instagram_code")
        )
        assert row["platform"] == "sim" and row["author"] == truth["author"]
        assert row["post_date"] == truth["post_date"], (skin, row["post_date"], truth["post_date"])
        assert row["crawl_session"] == report.session_id and row["capture_time"]
        data = workspace.image_path(row["sha256"], row["ext"]).read_bytes()
        assert abs(progress_seconds(data) - 2.0) <= TOLERANCE_S
    offsets = [
        r["offset_s"] for r in workspace.db.execute("SELECT offset_s FROM crawl_captures WHERE outcome = 'stored'")
    ]
    assert all(2.0 <= o <= 2.0 + TOLERANCE_S for o in offsets)
    outcomes = [r["outcome"] for r in workspace.db.execute("SELECT outcome FROM crawl_captures ORDER BY id")]
    assert outcomes == ["stored", "flagged", "stored", "duplicate_image", "stored"]
    rejected = list((workspace.root / "crawl" / report.session_id / "rejected").glob("*-ad.jpg"))
    assert len(rejected) == 1  # kept for review, not in the library


def test_black_frames_duplicate_links_and_a_captcha_stop_cleanly(workspace, sim, tmp_path):
    platform, server = sim
    report = crawl(workspace, server, "tiktok", 10, inject="black:1,dup:2,login:3,captcha:5", tmp_path=tmp_path)
    assert report.status == "blocked" and "captcha" in report.message
    outcomes = [
        (r["position"], r["outcome"], r["flags"])
        for r in workspace.db.execute("SELECT position, outcome, flags FROM crawl_captures ORDER BY id")
    ]
    assert outcomes == [
        (0, "stored", ""),
        (1, "flagged", "black_frame"),
        (2, "duplicate_link", ""),
        (3, "flagged", "login_wall"),
        (3, "stored", ""),  # the login prompt was closed
        (4, "stored", ""),
        (5, "flagged", "captcha"),
    ]
    assert len(report.stored) == 3
    assert workspace.db.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 3
    from vspectrum_app.crawl.store import CrawlStore

    assert CrawlStore(workspace).session(report.session_id)["status"] == "blocked"


def _chromium_pids(profile: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(profile) in cmd and "chrom" in cmd:
                pids.append(int(proc.name))
    return pids


def test_a_killed_browser_is_restarted_and_nothing_is_lost_or_stored_twice(workspace, sim, tmp_path):
    platform, server = sim
    profile = tmp_path / "profile-tiktok"
    killed = threading.Event()

    def kill_after_first_capture():
        from vspectrum_app.library.catalog import open_workspace

        with open_workspace(workspace.root) as ws:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if ws.db.execute("SELECT COUNT(*) FROM images").fetchone()[0] >= 2:
                    for pid in _chromium_pids(profile):
                        try:
                            os.kill(pid, 9)
                        except ProcessLookupError:
                            pass
                    killed.set()
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=kill_after_first_capture)
    killer.start()
    report = crawl(workspace, server, "tiktok", 4, tmp_path=tmp_path)
    killer.join()
    assert killed.is_set() and report.restarts == 1
    assert report.status == "done" and len(report.stored) == 4
    urls = [r[0] for r in workspace.db.execute("SELECT video_url FROM images")]
    assert len(urls) == len(set(urls)) == 4
    # The new browser's feed (same seed) starts over: what was captured before is a duplicate.
    assert report.duplicates >= 1
