"""Finding and starting the user's Chromium-based browser through Playwright.

Never a download at run time: the browser is the path in Settings, else an installed
Chromium, Chrome or Edge. Each platform gets a persistent profile in the user data folder,
so a login done once in the watched window is kept.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.core.paths import data_dir

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright, ViewportSize

# Without the background-networking switches Chromium phones home at every start (and, on a
# closed network, retries); none of it is needed to watch a feed.
LAUNCH_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# "x,y,width,height" on the screen for the watched browser's window: the app sets it for the jobs
# it starts, so that the browser opens beside the window rather than over it
WINDOW_ENV = "VSPECTRUM_BROWSER_WINDOW"


class BrowserUnavailable(Exception):
    pass


def find_browser(configured: str | None = None) -> str:
    if configured:
        if Path(configured).exists():
            return configured
        raise BrowserUnavailable(f"the browser set in Settings ({configured}) does not exist")
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge"):
        if found := shutil.which(name):
            return found
    candidates = {
        "darwin": [
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
        ],
        "win32": [
            os.path.expandvars(p)
            for p in (
                r"%ProgramFiles%\Google\Chrome\Application\chrome.exe",
                r"%ProgramFiles(x86)%\Google\Chrome\Application\chrome.exe",
                r"%LocalAppData%\Google\Chrome\Application\chrome.exe",
                r"%ProgramFiles(x86)%\Microsoft\Edge\Application\msedge.exe",
            )
        ],
    }.get(sys.platform, [])
    for path in candidates:
        if Path(path).exists():
            return path
    raise BrowserUnavailable(
        "no Chromium, Chrome or Edge found: install one, or set its path in Settings (Settings > Browser)"
    )


def profile_dir(platform: str) -> Path:
    return data_dir() / "browser-profiles" / platform


def has_display() -> bool:
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def is_root() -> bool:
    """Chromium refuses to start as root with its sandbox on."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def window_args() -> list[str]:
    """Chromium's window position and size from WINDOW_ENV; none when it is unset or not four
    whole numbers (the window then opens where Chromium puts it)."""
    parts = os.environ.get(WINDOW_ENV, "").split(",")
    try:
        x, y, width, height = (int(p) for p in parts)
    except ValueError:
        return []
    if width < 200 or height < 200:
        return []
    return [f"--window-position={x},{y}", f"--window-size={width},{height}"]


def launch_options(executable: str, headless: bool) -> dict[str, Any]:
    """Playwright's Chromium launch options, the one set every browser of the app starts with
    (the crawler's, the persona feeds', `crawl check` and the tests' pages)."""
    # Playwright itself adds --no-sandbox unless the sandbox is asked for, and Chromium then shows
    # a warning bar over the feed: the sandbox stays on except as root, where Chromium refuses it;
    # there --test-type keeps the "unsupported command-line flag" bar away.
    sandbox = not is_root()
    args = LAUNCH_ARGS + ([] if sandbox else ["--no-sandbox", "--test-type"]) + ([] if headless else window_args())
    return {"executable_path": executable, "headless": headless, "args": args, "chromium_sandbox": sandbox}


def launch(playwright: Playwright, executable: str, profile: Path, headless: bool) -> tuple[BrowserContext, Page]:
    """A persistent browser context with one page at the standard viewport."""
    profile.mkdir(parents=True, exist_ok=True)
    context = playwright.chromium.launch_persistent_context(
        str(profile), viewport=VIEWPORT, **launch_options(executable, headless)
    )
    page = context.pages[0] if context.pages else context.new_page()
    return context, page
