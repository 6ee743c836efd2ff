"""One crawl: scroll a feed in a (watched) browser and capture each video 2 s in.

Per video: read the current item; stop at a login wall or captcha that cannot be closed
(after giving the user time to deal with it in the window); skip a link already in the
library; wait for the video's own clock to reach the capture moment; screenshot the video
area; reject black/blank frames and ads, count near-duplicates; store the rest; move on.
Every decision is committed as it is made, so a crash or a stop keeps everything captured.
A browser that dies is started again (up to ``max_restarts`` times) and the crawl goes on.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.core import clock, locks
from vspectrum_app.core.atomic import atomic_write_bytes
from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.core.protocol import CAPTURE_AT_S
from vspectrum_app.crawl import browser as browsers
from vspectrum_app.crawl.adapters import WALLS, Adapter, ItemInfo
from vspectrum_app.crawl.quality import PhashIndex, backfill_phashes, frame_flags, phash
from vspectrum_app.crawl.store import CrawlStore
from vspectrum_app.library import catalog, images
from vspectrum_app.library.importer import add_image

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

    from vspectrum_app.core.workspace import Workspace


LATE_S = 0.75  # a capture moment missed by more than this (a paused job) restarts the video
CRAWL_LOCK = "crawl-profile"  # core.locks kind, keyed by the profile folder's name, rooted beside it


@dataclass
class CrawlConfig:
    platform: str  # tiktok | youtube | instagram | sim
    count: int  # captures to store
    skin: str | None = None  # the simulator's layout (sim only)
    start_url: str | None = None  # default: the platform's feed (or the simulator's)
    headless: bool = False
    capture_at_s: float = CAPTURE_AT_S
    delay_s: float = 0.0  # politeness: real seconds between videos
    wall_timeout_s: float = 0.0  # how long to wait for the user at a login wall / captcha
    play_timeout_s: float = 20.0
    max_restarts: int = 2
    max_positions: int | None = None  # give up after this many videos (default 3 x count + 20)
    max_duplicates_in_row: int = 8  # a feed of pictures the library holds already: stop, say why
    browser: str | None = None
    profile: str | None = None  # browser profile folder (default: per platform, persistent)

    @property
    def adapter_name(self) -> str:
        return self.skin if self.platform == "sim" else self.platform  # type: ignore[return-value]  # a sim crawl has its skin (checked at start)


@dataclass
class CrawlReport:
    session_id: str
    status: str = "running"
    message: str | None = None
    positions: int = 0
    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    flagged: int = 0
    restarts: int = 0


class BrowserClosed(Exception):
    pass


class Crawler:
    def __init__(self, ws: Workspace, config: CrawlConfig, reporter: Reporter | None = None):
        if config.platform == "sim" and not config.skin:
            raise ValueError("a simulator crawl needs a skin (tiktok, youtube or instagram)")
        self.ws, self.cfg = ws, config
        self.reporter = reporter or NullReporter()
        self.adapter = Adapter.load(config.adapter_name)
        self.store = CrawlStore(ws)
        backfill_phashes(ws)
        self.phashes = PhashIndex.from_workspace(ws)
        self.duplicate_run = 0  # duplicates since the last video that was not one

    def run(self) -> CrawlReport:
        """One crawl per browser profile at a time (a second would fight over the profile); the
        lock sits beside the profile, which several workspaces may share."""
        cfg = self.cfg
        profile = (
            Path(cfg.profile)
            if cfg.profile
            else browsers.profile_dir(cfg.adapter_name if cfg.platform != "sim" else f"sim-{cfg.skin}")
        )
        with locks.hold(profile.parent, CRAWL_LOCK, profile.name, f"a crawl with the browser profile {profile}"):
            return self._run(profile)

    def _run(self, profile: Path) -> CrawlReport:
        cfg = self.cfg
        from playwright.sync_api import sync_playwright

        executable = browsers.find_browser(cfg.browser)
        start_url = cfg.start_url or self.adapter.start_url()
        sid = self.store.create(
            cfg.platform, cfg.skin, start_url, cfg.count, {k: v for k, v in asdict(cfg).items() if k != "browser"}
        )
        report = CrawlReport(sid)
        limit = cfg.max_positions or cfg.count * 3 + 20
        self.reporter.log(f"crawl {sid}: {cfg.count} captures from {start_url}")
        self.reporter.progress(0, cfg.count, "starting the browser")
        try:
            with sync_playwright() as pw:
                context, page = browsers.launch(pw, executable, profile, cfg.headless)
                page.goto(start_url)
                try:
                    while len(report.stored) < cfg.count and report.positions < limit:
                        self.reporter.check_cancelled()
                        try:
                            if not self._one_video(page, report):
                                break
                            if self.duplicate_run >= cfg.max_duplicates_in_row:
                                report.status, report.message = (
                                    "stopped",
                                    _duplicates_sentence(report, self.duplicate_run, cfg.platform),
                                )
                                break
                        except BrowserClosed as exc:
                            if not cfg.headless or report.restarts >= cfg.max_restarts:
                                raise
                            report.restarts += 1
                            self.reporter.log(
                                f"{exc}; starting it again ({report.restarts}/{cfg.max_restarts})", "warning"
                            )
                            _close_quietly(context)
                            context, page = browsers.launch(pw, executable, profile, cfg.headless)
                            page.goto(start_url)
                    else:
                        if len(report.stored) < cfg.count:
                            report.message = (
                                f"stopped after {report.positions} videos with "
                                f"{len(report.stored)} new captures (too many duplicates or rejects)"
                            )
                    if report.status == "running":
                        report.status = "done"
                finally:
                    _close_quietly(context)
        except BrowserClosed as exc:
            report.status, report.message = "stopped", str(exc)
        except BaseException as exc:
            from vspectrum_app.core.jobs import Cancelled

            cancelled = isinstance(exc, (Cancelled, KeyboardInterrupt))
            report.status = "stopped" if cancelled else "failed"
            report.message = "cancelled" if cancelled else f"{type(exc).__name__}: {exc}"
            self.store.finish(sid, report.status, report.message)
            raise
        self.store.finish(sid, report.status, report.message)
        if report.message:
            self.reporter.log(report.message, "warning")
        return report

    # -- one video ----------------------------------------------------------------------
    def _one_video(self, page: Page, report: CrawlReport) -> bool:
        """Handle the current video and move to the next; False when the crawl must stop."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            return self._handle_current(page, report)
        except PlaywrightError as exc:
            if page.is_closed() or "closed" in str(exc).lower() or "crash" in str(exc).lower():
                raise BrowserClosed("the browser closed") from None
            raise

    def _handle_current(self, page: Page, report: CrawlReport) -> bool:
        cfg, adapter = self.cfg, self.adapter
        position = report.positions
        info = adapter.wait_item(page, cfg.play_timeout_s)
        if info is None:
            self._record(report, position, "no_video", None, ["no_video"])
            return self._advance(page, None, report)
        walls = [w for w in WALLS if info.flags.get(w)]
        if walls:
            info = self._get_past_wall(page, walls, position, report)
            if info is None:
                return False
        if info.link and self.store.known_link(info.link):
            report.duplicates += 1
            self._record(report, position, "duplicate_link", info)
            return self._advance(page, info, report)
        if info.video and info.video["t"] > cfg.capture_at_s + LATE_S:
            adapter.rewind(page)
        # paused at the moment for the screenshot: a busy machine cannot make it late
        playing = adapter.wait_playing(page, cfg.capture_at_s, cfg.play_timeout_s, pause=True)
        if playing is None or not playing["box"]:
            self._record(report, position, "no_video", info, ["no_video"])
            return self._advance(page, info, report)
        jpeg = adapter.capture(page, playing["box"])
        adapter.play(page)
        offset = float(playing["t"])
        captured_at = clock.utc()
        flags = frame_flags(jpeg) + (["ad"] if info.flags.get("ad") else [])
        if flags:
            report.flagged += 1
            self._record(report, position, "flagged", info, flags, jpeg=jpeg, offset=offset)
            return self._advance(page, info, report)
        h = phash(jpeg)
        if self.phashes.is_near_duplicate(h):
            report.duplicates += 1
            self._record(report, position, "duplicate_image", info, offset=offset, meta={"phash": h})
            return self._advance(page, info, report)
        meta = {
            "video_url": info.link,
            "platform": cfg.platform,
            "post_date": info.post_date,
            "author": info.author,
            "caption": info.caption,
            "capture_time": captured_at.isoformat(),
            "feed_position": position,
            "crawl_session": report.session_id,
            "phash": h,
            "capture_offset_s": round(offset, 3),
        }
        if cfg.skin:
            meta["skin"] = cfg.skin
        if info.post_date_raw and not info.post_date:
            meta["post_date_shown"] = info.post_date_raw
        try:
            image_id, new = add_image(self.ws, jpeg, source_name=f"{report.session_id}-{position:04d}.jpg", meta=meta)
        except images.BadImage as exc:  # a screenshot Pillow cannot read: keep it for a look
            self._record(
                report, position, "flagged", info, ["bad_image"], jpeg=jpeg, offset=offset, meta={"error": str(exc)}
            )
            return self._advance(page, info, report)
        self.phashes.add(h)
        if new:
            report.stored.append(image_id)
        self._record(report, position, "stored" if new else "duplicate_image", info, image_id=image_id, offset=offset)
        return self._advance(page, info, report)

    def _get_past_wall(self, page: Page, walls: list[str], position: int, report: CrawlReport) -> ItemInfo | None:
        """Close the wall if it can be closed; else wait for the user; else stop cleanly."""
        names = " and ".join(w.replace("_", " ") for w in walls)
        self._record(
            report,
            position,
            "flagged",
            None,
            walls,
            jpeg=page.screenshot(type="jpeg", quality=80),
            count_position=False,
        )
        report.flagged += 1
        if self.adapter.dismiss_walls(page):
            self.reporter.log(f"closed a {names} at video {position + 1}")
        elif self.cfg.wall_timeout_s > 0:
            self.reporter.log(
                f"{names} at video {position + 1}: deal with it in the browser window "
                f"(waiting up to {self.cfg.wall_timeout_s:.0f} s)",
                "warning",
            )
        deadline = time.monotonic() + self.cfg.wall_timeout_s
        while True:
            page.wait_for_timeout(300)
            info = self.adapter.read(page)
            if not any(info.flags.get(w) for w in WALLS):
                return info
            if time.monotonic() >= deadline:
                report.status = "blocked"
                report.message = (
                    f"blocked by a {names} at video {position + 1}: log in or solve it in the "
                    f"browser window (run without --headless), then crawl again; "
                    f"{len(report.stored)} captures kept"
                )
                return None
            self.reporter.check_cancelled()

    def _advance(self, page: Page, info: ItemInfo | None, report: CrawlReport) -> bool:
        self.reporter.progress(
            len(report.stored),
            self.cfg.count,
            f"video {report.positions}: {len(report.stored)} stored, "
            f"{report.duplicates} duplicates, {report.flagged} flagged",
        )
        if len(report.stored) >= self.cfg.count:
            return True
        if self.cfg.delay_s > 0:
            page.wait_for_timeout(self.cfg.delay_s * 1000)
        previous = info.key if info else None
        if self.adapter.next(page, previous) or self.adapter.next(page, previous):
            return True
        report.status = "failed"
        report.message = f"the feed did not move past video {report.positions} (tried twice)"
        return False

    def _record(
        self,
        report: CrawlReport,
        position: int,
        outcome: str,
        info: ItemInfo | None,
        flags: list[str] | None = None,
        *,
        jpeg: bytes | None = None,
        offset: float | None = None,
        image_id: int | None = None,
        meta: dict[str, Any] | None = None,
        count_position: bool = True,
    ) -> None:
        rel = None
        if jpeg is not None and outcome != "stored":
            rel = f"crawl/{report.session_id}/rejected/{position:04d}-{'-'.join(flags or [outcome])}.jpg"
            atomic_write_bytes(self.ws.root / rel, jpeg)
        item = {k: getattr(info, k) for k in ("link", "author", "caption", "post_date")} if info else {}
        self.store.add(
            report.session_id,
            position,
            outcome,
            video_url=item.get("link"),
            flags=flags,
            image_id=image_id,
            offset_s=offset,
            file=rel,
            meta={**item, **(meta or {})},
        )
        if count_position:
            report.positions += 1
            self.duplicate_run = self.duplicate_run + 1 if outcome.startswith("duplicate") else 0
        thumb = None
        file = catalog.image_file(self.ws, image_id) if image_id is not None else None
        if file is not None:
            thumb = str(file.thumb(self.ws))
        elif rel:
            thumb = str(self.ws.root / rel)
        self.reporter.emit(
            "capture",
            session_id=report.session_id,
            position=position,
            outcome=outcome,
            flags=flags or [],
            image=thumb,
            offset_s=offset,
            **item,
        )
        if outcome != "stored":
            self.reporter.log(
                f"video {position + 1}: {outcome.replace('_', ' ')}" + (f" ({', '.join(flags)})" if flags else "")
            )


def _duplicates_sentence(report: CrawlReport, run: int, platform: str) -> str:
    kept = len(report.stored)
    hint = (
        "on the simulator, serve its own test pictures or another folder of images"
        if platform == "sim"
        else "the feed shows what was captured before: crawl again later, or from another account"
    )
    return (
        f"stopped after {report.positions} videos: the last {run} in a row were already "
        f"in the library, so the feed has nothing new ({kept} new capture{'s' * (kept != 1)} kept); {hint}"
    )


def _close_quietly(context: BrowserContext) -> None:
    try:
        context.close()
    except Exception:  # already dead: nothing left to close
        pass
