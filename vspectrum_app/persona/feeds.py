"""Feeds for the persona loop (the ``Feed`` protocol of ``persona.agent``).

- ``BrowserFeed``: a short-video feed in a browser through the crawler's platform adapters,
  on the simulated platform (its accelerated clock, a fresh recommender per trial, its
  ground truth for topics and the learnt profile) or on a real platform in real time.
  The video is paused while the model thinks. On the simulator the feed also declares the
  dwell it meant (capture moment + watch) instead of leaving it to the page's measurement:
  at x50, 50 ms of machine jitter would be 2.5 s of dwell and another feed on resume.
- ``RecordedFeed``: a recorded session's feed played back offline, for counterfactual
  replay (what would another model or persona have watched on this feed?).

On a real platform a trial's "fresh feed profile" is a fresh browser profile (logged out, no
history) under the user data folder's ``browser-profiles/persona/SESSION/``; it is kept, so a resumed trial goes on with the history
the platform already has. Logged-in accounts are left out on purpose: their history would
leak across trials.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.crawl import browser as browsers
from vspectrum_app.crawl.adapters import WALLS, Adapter, ItemInfo
from vspectrum_app.persona.agent import FeedItem, screenshot_path
from vspectrum_app.persona.store import SessionStore

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright

    from vspectrum_app.core.workspace import Workspace
    from vspectrum_app.sim.clock import VirtualClock

_PUBLIC_ID = {"tiktok": "tiktok_id", "youtube": "youtube_id", "instagram": "instagram_code"}
_WATCH_TICK_S = 0.25  # a long watch still answers a cancel this quickly


class FeedError(Exception):
    pass


class BrowserFeed:
    def __init__(
        self,
        *,
        platform: str,
        session_id: str,
        skin: str | None = None,
        sim_base: str | None = None,
        start_url: str | None = None,
        headless: bool = True,
        browser: str | None = None,
        reporter: Reporter | None = None,
        timeout_s: float = 20.0,
        wall_timeout_s: float = 0.0,
    ):
        if platform == "sim" and not (skin and sim_base):
            raise ValueError("a feed on the simulated platform needs its URL and a skin")
        self.platform, self.session_id = platform, session_id
        self.skin, self.sim_base = skin, sim_base.rstrip("/") if sim_base else None
        self.start_url = start_url  # a real platform's page to start from (default: its feed)
        self.adapter = Adapter.load(skin if platform == "sim" and skin else platform)
        self.headless, self.timeout_s, self.wall_timeout_s = headless, timeout_s, wall_timeout_s
        self.reporter = reporter or NullReporter()
        self.replays = platform == "sim"  # same seed + same actions = same feed only there
        self._executable = browsers.find_browser(browser)
        self._pw: Playwright | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None  # the simulator's throwaway profile
        self._sim_session: str | None = None
        self._clock: VirtualClock | None = None
        self._info: ItemInfo | None = None
        self._state: dict[str, Any] | None = None  # the simulator's report, read once per video
        self._dwell = 0.0  # virtual seconds spent on the current video (capture wait + watch)

    # -- Feed ---------------------------------------------------------------------------
    def start_trial(self, trial: int, seed: int) -> None:
        if self._pw is None:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
        if self.sim_base:
            # the simulator keeps a viewer's state server-side, keyed by its session: one
            # browser with a throwaway profile serves every trial (and sessions running side
            # by side), and a nonce keeps a resumed trial's feed fresh
            if self._context is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="vspectrum-persona-")
                self._launch(Path(self._scratch.name))
            from vspectrum_app.sim.clock import VirtualClock
            from vspectrum_app.sim.server import feed_url

            self._clock = VirtualClock.from_json(self._get("/api/clock"))
            self._sim_session = f"{self.session_id}-t{trial:02d}-{secrets.token_hex(3)}"
            assert self.skin is not None  # a feed on the simulator has its skin (checked in __init__)
            self._live_page.goto(feed_url(self.sim_base, self.skin, seed=seed, session=self._sim_session))
        else:
            self._close_browser()
            self._launch(browsers.profile_dir("persona") / self.session_id / f"trial-{trial:02d}")
            self._live_page.goto(self.start_url or self.adapter.start_url())
        self._info = self._state = None

    def current(self) -> FeedItem:
        if self._info is None:
            self._info = self._wait_for_item()
        info = self._info
        # the simulator's links carry its port, which changes between runs: its ids do not
        item_id = (info.video_id or info.key) if self.sim_base else info.key
        assert item_id is not None  # _wait_for_item returns an identified item
        return FeedItem(item_id=item_id, url=info.link, topics=self._topics(info))

    def capture(self, at_s: float) -> bytes:
        playing = self.adapter.wait_playing(self._live_page, at_s, self.timeout_s, pause=True)
        if playing is None or not playing["box"]:
            raise FeedError(f"the video did not play to {at_s:g} s within {self.timeout_s:g} s")
        self._dwell = at_s
        return self.adapter.capture(self._live_page, playing["box"])

    def watch(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self._dwell += seconds
        self.adapter.play(self._live_page)
        real = self._clock.real_seconds(seconds) if self._clock else seconds
        deadline = time.monotonic() + real
        while (left := deadline - time.monotonic()) > 0:
            self.reporter.check_cancelled()
            self._live_page.wait_for_timeout(min(left, _WATCH_TICK_S) * 1000)

    def next(self) -> None:
        previous = self._info.key if self._info else None
        if self.sim_base:
            self._live_page.evaluate("(d) => { SIM.declaredDwell = d; }", self._dwell)
        if not (self.adapter.next(self._live_page, previous) or self.adapter.next(self._live_page, previous)):
            raise FeedError("the feed did not move to the next video (tried twice)")
        self._info, self._state, self._dwell = None, None, 0.0

    def profile(self) -> dict[str, Any] | None:
        """On the simulator, what its recommender has learnt so far (its own report; it
        learns from a video when the feed moves on, so the one read for ``current`` holds)."""
        state = self._sim_state()
        if state is None:
            return None
        rec = state["recommender"]
        return {"weights": rec["topic_affinity"], "recent_topic_mix": rec["recent_topic_mix"], "served": rec["served"]}

    def close(self) -> None:
        self._close_browser()
        if self._pw is not None:
            self._pw.stop()
            self._pw = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    # -- helpers ------------------------------------------------------------------------
    @property
    def _live_page(self) -> Page:
        assert self._page is not None, "the feed's browser is not started"
        return self._page

    def _launch(self, profile: Path) -> None:
        assert self._pw is not None, "Playwright is started before the browser"
        self._context, self._page = browsers.launch(self._pw, self._executable, profile, self.headless)

    def _close_browser(self) -> None:
        if self._context is not None:
            try:
                self._context.close()
            except Exception:  # already gone with a crashed browser
                pass
            self._context = self._page = None

    def _wait_for_item(self) -> ItemInfo:
        info = self.adapter.wait_item(self._live_page, self.timeout_s)
        if info is None:
            raise FeedError(f"no video on {self._live_page.url} within {self.timeout_s:g} s")
        if any(info.flags.get(w) for w in WALLS):
            info = self._get_past_wall()
        return info

    def _get_past_wall(self) -> ItemInfo:
        if not self.adapter.dismiss_walls(self._live_page) and self.wall_timeout_s > 0:
            self.reporter.log(
                f"a login wall or captcha covers the feed: deal with it in the browser window "
                f"(waiting up to {self.wall_timeout_s:.0f} s)",
                "warning",
            )
        deadline = time.monotonic() + self.wall_timeout_s
        while True:
            self._live_page.wait_for_timeout(300)
            info = self.adapter.read(self._live_page)
            if info.key and not any(info.flags.get(w) for w in WALLS):
                return info
            if time.monotonic() >= deadline:
                raise FeedError(
                    "blocked by a login wall or captcha: solve it in the browser window "
                    "(run without --headless), then resume the session"
                )
            self.reporter.check_cancelled()

    def _topics(self, info: ItemInfo) -> list[str]:
        """What the item is about, where the platform tells: the simulator's ground truth."""
        state = self._sim_state()
        if state is None or not info.video_id:
            return []
        assert self.skin is not None  # only the simulator has a state
        field = _PUBLIC_ID[self.skin]
        for entry in reversed(state["served"]):
            if entry.get(field) == info.video_id:
                return list(entry.get("topics") or [])
        return []

    def _sim_state(self) -> dict[str, Any] | None:
        if self._state is None and self._sim_session:
            self._state = self._get(f"/api/sessions/{self._sim_session}")
        return self._state

    def _get(self, path: str) -> dict[str, Any]:
        assert self.sim_base is not None  # only the simulator is asked
        with urllib.request.urlopen(self.sim_base + path, timeout=10) as response:
            doc: dict[str, Any] = json.loads(response.read())
            return doc


class RecordedFeed:
    """A finished session's feed, served again from its record: the same videos in the same
    order, whatever the new decider does (the recommender does not react)."""

    replays = True

    def __init__(self, ws: Workspace, source_session: str):
        self.ws, self.source = ws, source_session
        self._store = SessionStore(ws)
        self._steps: list[Any] = []
        self._trial = self._i = 0

    def start_trial(self, trial: int, seed: int) -> None:
        self._trial, self._i = trial, 0
        self._steps = self._store.steps(self.source, trial)

    def current(self) -> FeedItem:
        if self._i >= len(self._steps):
            raise FeedError(f"session {self.source} recorded only {len(self._steps)} videos in trial {self._trial + 1}")
        step = self._steps[self._i]
        return FeedItem(item_id=step.item_id, url=step.item_url, topics=list(step.item_topics))

    def capture(self, at_s: float) -> bytes:
        path = screenshot_path(self.ws, self.source, self._trial, self._i)
        if not path.exists():
            raise FeedError(f"the screenshot {path.name} of session {self.source} is missing")
        return path.read_bytes()

    def watch(self, seconds: float) -> None:
        pass

    def next(self) -> None:
        self._i += 1

    def profile(self) -> dict[str, Any] | None:
        return None

    def close(self) -> None:
        pass
