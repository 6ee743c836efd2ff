"""The real sites' adapters on pages written to mirror their structure (the real sites
cannot be reached here), served at their real URLs by Playwright's request routing."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from vspectrum_app.crawl.adapters import Adapter, post_date
from vspectrum_app.crawl.quality import PhashIndex, frame_flags, phash

PAGES = Path(__file__).parent / "pages"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def browser_page(chromium):
    from playwright.sync_api import sync_playwright

    from vspectrum_app.crawl.browser import VIEWPORT, launch_options

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options(chromium, headless=True))
        page = browser.new_page(viewport=VIEWPORT)
        yield page
        browser.close()


def open_saved(page, url: str, file: str):
    page.unroute("**/*")
    page.route(
        "**/*",
        lambda route: route.fulfill(body=(PAGES / file).read_text(), content_type="text/html")
        if route.request.url == url
        else route.abort(),
    )
    page.goto(url)


def test_tiktok_adapter_reads_the_visible_item_and_dates_it_from_the_id(browser_page):
    open_saved(browser_page, "https://www.tiktok.com/foryou", "tiktok_foryou.html")
    info = Adapter.load("tiktok").read(browser_page, now=NOW)
    assert info.link == "https://www.tiktok.com/@dance.daily/video/7372881110429617413"
    assert (info.author, info.caption) == ("dance.daily", "learn this in 10 seconds #dance")
    assert info.post_date == "2025-05-23"  # "5-23" shown: this year
    assert not info.flags["ad"] and not info.flags["login_wall"]  # the ad label is on the next item
    assert info.box == {"x": 0, "y": 0, "width": 405, "height": 720}


def test_youtube_adapter_takes_the_link_from_the_address_and_the_date_from_the_factoids(browser_page):
    open_saved(browser_page, "https://www.youtube.com/shorts/dQw4w9WgXcQ?feature=share", "youtube_shorts.html")
    info = Adapter.load("youtube").read(browser_page, now=NOW)
    assert info.link == "https://www.youtube.com/shorts/dQw4w9WgXcQ"
    assert (info.video_id, info.author, info.caption) == ("dQw4w9WgXcQ", "CookingWithAna", "3-minute dumplings")
    assert info.post_date == "2025-03-03"


def test_instagram_adapter_reads_hrefs_and_datetime_and_sees_the_login_wall(browser_page):
    open_saved(browser_page, "https://www.instagram.com/reels/", "instagram_reels.html")
    adapter = Adapter.load("instagram")
    info = adapter.read(browser_page, now=NOW)
    assert info.link == "https://www.instagram.com/reel/C4xYz12AbCd/"
    assert (info.author, info.post_date) == ("natgeo", "2025-02-11")
    assert info.flags["login_wall"] and not info.flags["captcha"]
    assert adapter.dismiss_walls(browser_page)  # the dialog's close button was found and clicked


@pytest.mark.usefixtures("chromium")
def test_check_command_reports_matching_and_missing_selectors(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "vspectrum_app",
            "-w",
            str(tmp_path / "ws"),
            "crawl",
            "check",
            "--platform",
            "tiktok",
            "--html",
            str(PAGES / "youtube_shorts.html"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "--    0  [data-e2e=recommend-list-item-container]" in out.stdout  # wrong site: nothing matches
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "vspectrum_app",
            "-w",
            str(tmp_path / "ws"),
            "--events",
            "crawl",
            "check",
            "--platform",
            "youtube",
            "--html",
            str(PAGES / "youtube_shorts.html"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = [json.loads(line) for line in ok.stdout.splitlines() if '"result"' in line][0]["data"]
    assert result["selectors"]["ytd-reel-video-renderer[is-active]"] == 1
    assert result["item"]["author"] == "CookingWithAna"


def test_selector_files_in_the_user_folder_override_the_shipped_ones(monkeypatch, tmp_path):
    monkeypatch.setenv("VSPECTRUM_DATA_DIR", str(tmp_path))
    shipped = Adapter.load("tiktok")
    (tmp_path / "selectors").mkdir()
    spec = dict(shipped.spec, item="div.new-feed-item")
    (tmp_path / "selectors" / "tiktok.json").write_text(json.dumps(spec))
    assert Adapter.load("tiktok").spec["item"] == "div.new-feed-item"


@pytest.mark.parametrize(
    "raw, platform, video_id, expected",
    [
        ("2024-05-14", "tiktok", None, "2024-05-14"),
        ("3d ago", "tiktok", None, "2025-05-29"),
        ("2w", "instagram", None, "2025-05-18"),
        ("5h ago", "youtube", None, "2025-06-01"),
        ("Mar 3, 2025", "youtube", None, "2025-03-03"),
        (None, "tiktok", "7372881110429617413", "2024-05-25"),
        ("yesterday-ish", "youtube", None, None),
    ],
)
def test_post_dates(raw, platform, video_id, expected):
    assert post_date(platform, raw, video_id, NOW) == expected


def test_frame_flags_and_near_duplicates():
    import io

    from PIL import Image

    def jpeg(img):
        out = io.BytesIO()
        img.save(out, "JPEG")
        return out.getvalue()

    from tests.plugins.sim import topic_image

    assert frame_flags(jpeg(Image.new("RGB", (90, 160), (3, 3, 3)))) == ["black_frame"]
    assert frame_flags(jpeg(Image.new("RGB", (90, 160), (240, 240, 240)))) == ["blank_frame"]
    picture = topic_image("Power", 1)
    assert frame_flags(picture) == []
    index = PhashIndex([phash(picture)])
    recompressed = jpeg(Image.open(io.BytesIO(picture)).resize((250, 444)))
    assert index.is_near_duplicate(phash(recompressed))
    assert not index.is_near_duplicate(phash(topic_image("Power", 2)))
