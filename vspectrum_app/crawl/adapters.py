"""Per-platform adapters: how to find the current video on a feed page, read its link,
author, caption and post date, wait for it to play, capture it and move on.

What changes when a site changes its markup lives in a selectors file per platform
(``resources/crawl/selectors/NAME.json``); a file of the same name in the user data
folder's ``selectors/`` overrides it, so users can follow a site's changes without a new
release. Code here is shared by every platform, except the few date rules of ``_dates``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from vspectrum_app.core import clock
from vspectrum_app.core.paths import data_dir, resources_dir
from vspectrum_app.core.schema import Anything, Bool, Custom, Int, List, Map, Obj, Str, check, read_json
from vspectrum_app.core.templates import TemplateError, check_template

if TYPE_CHECKING:
    from playwright.sync_api import FloatRect, Page


PLATFORMS = ("tiktok", "youtube", "instagram")
WALLS = ("login_wall", "captcha")

# The video's visible area: within its container (players zoom or overflow) and the viewport.
_BOX_JS = r"""
const videoBox = (video) => {
  if (!video) return null;
  const v = video.getBoundingClientRect(), p = video.parentElement.getBoundingClientRect();
  const x = Math.max(v.left, p.left, 0), y = Math.max(v.top, p.top, 0);
  const w = Math.min(v.right, p.right, innerWidth) - x, h = Math.min(v.bottom, p.bottom, innerHeight) - y;
  return w > 0 && h > 0 ? {x, y, width: w, height: h} : null;
};
"""

# One round trip reads everything about the current item. The current item is the one
# with the largest visible area, which is how feeds that keep several items in the DOM
# (all three real sites do) are handled.
_READ_JS = r"""
(spec) => {
  __BOX__
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const w = Math.min(r.right, innerWidth) - Math.max(r.left, 0);
    const h = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
    return w > 0 && h > 0 ? w * h : 0;
  };
  let item = null, best = 0;
  for (const el of document.querySelectorAll(spec.item)) {
    const a = visible(el);
    if (a > best) { best = a; item = el; }
  }
  const scope = item || document;
  const fields = {};
  for (const [name, f] of Object.entries(spec.fields)) {
    let v = null;
    if (f.source === "location") v = location.href;
    else {
      const el = scope.querySelector(f.selector);
      if (el) v = f.attr ? el.getAttribute(f.attr) : el.textContent.trim();
      if (v && f.attr === "href") v = new URL(v, location.href).pathname;
    }
    fields[name] = v;
  }
  const flags = {};
  for (const [name, rules] of Object.entries(spec.flags)) {
    flags[name] = rules.some((r) => [...(r.page ? document : scope).querySelectorAll(r.selector)]
      .some((el) => visible(el) > 0 && (!r.text || el.textContent.trim() === r.text)));
  }
  const video = scope.querySelector(spec.video);
  const state = video && {t: video.currentTime, paused: video.paused, ready: video.readyState};
  return {found: !!item, fields, flags, box: videoBox(video), video: state, origin: location.origin, url: location.href};
}
"""

# The current item's video: the first item on screen (used while playing, when the item
# with the largest visible area may still be sliding into place).
_VIDEO_JS = r"""
const currentVideo = (spec) => {
  const items = [...document.querySelectorAll(spec.item)];
  const scope = items.find((el) => { const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }) || document;
  return scope.querySelector(spec.video);
};
"""

# Polled every animation frame until the video's own clock reaches the capture moment; it
# returns the clock and the box then. With ``pause`` the video is paused in the same frame
# and set back to the moment itself: on a busy machine frames come late, so the poll may see
# the clock past it (half a second was seen); what was just played is buffered, so the
# moment is on screen again once the seek settles (``_SETTLE_JS``). A paused video also
# accrues no dwell while a persona's model thinks.
_PLAYING_JS = r"""([spec, at, pause]) => {
  __BOX__
  __VIDEO__
  const v = currentVideo(spec);
  if (!v || v.paused || v.readyState < 2 || v.currentTime < at) return false;
  if (pause) {
    v.pause();
    if (v.currentTime !== at) v.currentTime = at;
  }
  return {t: v.currentTime, box: videoBox(v)};
}"""

# After a seek: wait until the player has the frame (``seeked``) and two frames are painted,
# so the screenshot shows the paused moment and not the frame before it.
_SETTLE_JS = r"""([spec]) => new Promise((resolve) => {
  __VIDEO__
  const v = currentVideo(spec);
  const painted = () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(v ? v.currentTime : null)));
  if (v && v.seeking) {
    v.addEventListener("seeked", painted, {once: true});
    setTimeout(painted, 2000);  // a player that never reports the seek: capture what is there
  } else painted();
})"""

_PLAY_JS = r"""([spec]) => {
  __VIDEO__
  const v = currentVideo(spec);
  if (!v) return false;
  const started = v.play();
  if (started && started.catch) started.catch(() => {});
  return true;
}"""

_READ_JS = _READ_JS.replace("__BOX__", _BOX_JS)
_PLAYING_JS = _PLAYING_JS.replace("__BOX__", _BOX_JS).replace("__VIDEO__", _VIDEO_JS)
_PLAY_JS = _PLAY_JS.replace("__VIDEO__", _VIDEO_JS)
_SETTLE_JS = _SETTLE_JS.replace("__VIDEO__", _VIDEO_JS)


class AdapterError(Exception):
    pass


@dataclass
class ItemInfo:
    link: str | None
    video_id: str | None
    author: str | None
    caption: str | None
    post_date: str | None  # ISO date, when it could be read or derived
    post_date_raw: str | None
    flags: dict[str, bool] = field(default_factory=dict)
    box: dict[str, Any] | None = None
    video: dict[str, Any] | None = None

    @property
    def key(self) -> str | None:
        return self.link or self.video_id


class Adapter:
    def __init__(self, spec: dict[str, Any], source: Path | None = None):
        self.spec, self.source = check_selectors(spec, f"selectors file {source or '?'}"), source
        self._selectors_verified = False
        self.platform: str = spec["platform"]
        self._js_spec = {k: spec[k] for k in ("item", "video", "fields", "flags")}

    @classmethod
    def load(cls, platform: str) -> "Adapter":
        if platform not in PLATFORMS:
            raise AdapterError(f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})")
        for folder in (data_dir() / "selectors", resources_dir() / "crawl" / "selectors"):
            path = folder / f"{platform}.json"
            if path.exists():
                return cls(read_json(path, Anything(), AdapterError, name=f"selectors file {path}"), path)
        raise AdapterError(f"no selectors file for {platform}")

    def start_url(self, sim_base: str | None = None) -> str:
        return str(sim_base.rstrip("/") + self.spec["sim_path"] if sim_base else self.spec["start_url"])

    # -- reading ------------------------------------------------------------------------
    def read(self, page: Page, now: datetime | None = None) -> ItemInfo:
        self.verify_selectors(page)
        raw = page.evaluate(_READ_JS, self._js_spec)
        values = {name: _extract(raw["fields"].get(name), f.get("regex")) for name, f in self.spec["fields"].items()}
        link = values.get("link")
        if link and link.startswith("/"):
            link = raw["origin"] + link
        if not link and (template := self.spec.get("link_template")):
            try:
                link = (
                    template.format(origin=raw["origin"], **values)
                    if all(values.get(k) for k in _placeholders(template))
                    else None
                )
            except (KeyError, IndexError):
                link = None
        raw_date = values.get("post_date")
        return ItemInfo(
            link=link,
            video_id=values.get("video_id"),
            author=values.get("author"),
            caption=values.get("caption"),
            post_date_raw=raw_date,
            post_date=post_date(self.platform, raw_date, values.get("video_id"), now),
            flags=raw["flags"],
            box=raw["box"],
            video=raw["video"],
        )

    def verify_selectors(self, page: Page) -> None:
        """The browser's own CSS parser judges the selectors, once, before they are used: a
        selector it cannot parse is one sentence, not a script error mid-crawl."""
        if self._selectors_verified:
            return
        bad = page.evaluate(
            "(sels) => sels.filter((s) => { try { document.createDocumentFragment().querySelector(s);"
            " return false; } catch (e) { return true; } })",
            self._selectors(),
        )
        if bad:
            raise AdapterError(f"selectors file {self.source or '?'}: {bad[0]!r} is not a valid CSS selector")
        self._selectors_verified = True

    def wait_item(self, page: Page, timeout_s: float) -> ItemInfo | None:
        """The current item once it can be identified (or a wall covers the page); None on time-out."""
        deadline = time.monotonic() + timeout_s
        while True:
            info = self.read(page)
            if info.key or any(info.flags.get(w) for w in WALLS):
                return info
            if time.monotonic() > deadline:
                return None
            page.wait_for_timeout(100)

    def wait_playing(self, page: Page, at_s: float, timeout_s: float, pause: bool = False) -> dict[str, Any] | None:
        """Wait until the current video has played ``at_s`` seconds by its own clock (and,
        if asked, pause it showing exactly that moment); returns the clock's reading and the
        video's box (``{t, box}``), or None on time-out."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            handle = page.wait_for_function(
                _PLAYING_JS, arg=[self._js_spec, at_s, pause], polling="raf", timeout=timeout_s * 1000
            )
            playing: dict[str, Any] = handle.json_value()
        except PlaywrightTimeout:
            return None
        if pause:
            t = page.evaluate(_SETTLE_JS, [self._js_spec])
            playing["t"] = playing["t"] if t is None else t
        return playing

    def play(self, page: Page) -> bool:
        """Resume the current video (after ``wait_playing(pause=True)``)."""
        return bool(page.evaluate(_PLAY_JS, [self._js_spec]))

    def rewind(self, page: Page) -> None:
        """Start the current video over (after a pause made us miss the capture moment)."""
        page.evaluate(
            "([s]) => { const v = document.querySelector(s); if (v) v.currentTime = 0; }", [self.spec["video"]]
        )

    def capture(self, page: Page, box: FloatRect) -> bytes:
        return page.screenshot(clip=box, type="jpeg", quality=92, animations="allow", caret="initial")

    # -- acting -------------------------------------------------------------------------
    def next(self, page: Page, previous_key: str | None, timeout_s: float = 15.0) -> bool:
        """Move to the next video; True once another item is current."""
        action = self.spec["next"]
        if "key" in action:
            page.keyboard.press(action["key"])
        else:
            page.mouse.move(640, 400)
            page.mouse.wheel(0, int(action.get("wheel", 800)))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            page.wait_for_timeout(50)
            if self.read(page).key != previous_key:
                return True
        return False

    def like(self, page: Page) -> bool:
        selector = self.spec.get("like")
        if selector and page.locator(selector).count():
            page.locator(selector).first.click()
            return True
        return False

    def dismiss_walls(self, page: Page) -> bool:
        """Close a dismissable wall (a login prompt with a close button); True if clicked."""
        for selector in self.spec.get("dismiss", []):
            loc = page.locator(selector)
            if loc.count() and loc.first.is_visible():
                loc.first.click()
                return True
        return False

    # -- diagnosis ----------------------------------------------------------------------
    def check(self, page: Page) -> dict[str, Any]:
        """Which selectors match on the current page, and what they read: for following a
        site's markup changes (``vspectrum crawl check``)."""
        counts = page.evaluate(
            "(sels) => Object.fromEntries(sels.map((s) => { try { return [s, document.querySelectorAll(s).length]; }"
            " catch (e) { return [s, -1]; } }))",
            self._selectors(),
        )
        info = self.read(page)
        return {
            "platform": self.platform,
            "selectors_file": str(self.source),
            "url": page.url,
            "selectors": counts,
            "item": {
                "link": info.link,
                "video_id": info.video_id,
                "author": info.author,
                "caption": info.caption,
                "post_date": info.post_date,
                "post_date_raw": info.post_date_raw,
            },
            "flags": info.flags,
            "video": info.video,
        }

    def _selectors(self) -> list[str]:
        s = self.spec
        out = [s["item"], s["video"], *(f["selector"] for f in s["fields"].values() if "selector" in f)]
        out += [r["selector"] for rules in s["flags"].values() for r in rules]
        out += [x for x in [s.get("like"), *s.get("dismiss", [])] if x]
        return list(dict.fromkeys(out))


# -- the selectors file's schema ------------------------------------------------------------


def _css_selector(text: str) -> str:
    """A cheap structural check (quotes closed, brackets balanced, no empty part, no dangling
    combinator); the browser's parser has the last word (``Adapter.verify_selectors``)."""
    invalid = ValueError(f"{text!r} is not a valid CSS selector")
    closers, quote, escaped, parts, current = [], None, False, [], ""
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            closers.append(")" if ch == "(" else "]")
        elif ch in ")]" and (not closers or closers.pop() != ch):
            raise invalid
        elif ch == "," and not closers:  # a top-level selector list: check each part
            parts.append(current)
            current = ""
            continue
        current += ch
    if quote or closers or escaped:
        raise invalid
    for part in parts + [current]:
        part = part.strip()
        if not part or part[0] in ">+~" or part[-1] in ">+~":
            raise invalid
    return text


def _regex(text: str) -> str:
    try:
        compiled = re.compile(text)
    except re.error as exc:
        raise ValueError(f"{text!r} is not a valid regular expression ({exc})") from None
    if compiled.groups < 1:
        raise ValueError(f"the regular expression {text!r} needs a group ( ... ) around the part to keep")
    return text


def _one_source(f: dict[str, Any]) -> str | None:
    return None if ("selector" in f) != ("source" in f) else "needs either 'selector' or 'source' (not both)"


_SELECTOR = Custom(Str(max_len=2000, non_empty=True), _css_selector)
_FIELD = Obj(
    {
        "selector": _SELECTOR,
        "source": Str(choices=("location",)),
        "regex": Custom(Str(max_len=2000), _regex),
        "attr": Str(pattern=r"[A-Za-z_:][-A-Za-z0-9_:.]{0,99}"),
    },
    rule=_one_source,
)
_NEXT = Obj(
    {"key": Str(max_len=50, non_empty=True), "wheel": Int(min=1, max=100_000)},
    rule=lambda n: None if len(n) == 1 else "needs either 'key' or 'wheel'",
)
SELECTORS_SCHEMA = Obj(
    {
        "platform": Str(max_len=50, non_empty=True),
        "version": Str(max_len=100),
        "note": Str(),
        "start_url": Str(max_len=2000, pattern=r"https?://\S+"),
        "sim_path": Str(max_len=500, pattern=r"/\S*"),
        "item": _SELECTOR,
        "video": _SELECTOR,
        "fields": Map(_FIELD, key=Str(pattern=r"[a-z_]{1,50}")),
        "link_template": Str(max_len=2000),
        "next": _NEXT,
        "like": _SELECTOR,
        "flags": Map(
            List(
                Obj({"selector": _SELECTOR, "page": Bool(), "text": Str(max_len=500)}, required=("selector",)),
                max_items=100,
            )
        ),
        "dismiss": List(_SELECTOR, max_items=100),
    },
    required=("platform", "item", "video", "fields", "next", "flags"),
)


def check_selectors(doc: Any, source: str) -> dict[str, Any]:
    """A selectors file checked whole (``AdapterError`` names the first problem); the link
    template may use only {origin} and the file's own field names, bare."""
    doc = check(doc, SELECTORS_SCHEMA, source, AdapterError)
    assert isinstance(doc, dict)  # the schema is an object
    if "link_template" in doc:
        try:
            check_template(doc["link_template"], ("origin", *doc["fields"]), max_chars=2000, what="link template")
        except TemplateError as exc:
            raise AdapterError(f"{source}: field 'link_template': {exc}") from None
    return doc


def _extract(value: str | None, regex: str | None) -> str | None:
    if not value:
        return None
    if regex:
        m = re.search(regex, value)
        return m.group(1) if m else None
    return value.strip() or None


def _placeholders(template: str) -> list[str]:
    return [p for p in re.findall(r"{(\w+)}", template) if p != "origin"]


# -- post dates -------------------------------------------------------------------------
_RELATIVE = re.compile(r"^(\d+)\s*(s|sec|m|min|h|hr|hour|d|day|w|wk|week|mo|month|y|yr|year)s?(\s+ago)?$", re.I)
_UNIT_DAYS = {
    "s": 0,
    "sec": 0,
    "m": 0,
    "min": 0,
    "h": 0,
    "hr": 0,
    "hour": 0,
    "d": 1,
    "day": 1,
    "w": 7,
    "wk": 7,
    "week": 7,
    "mo": 30,
    "month": 30,
    "y": 365,
    "yr": 365,
    "year": 365,
}


def post_date(platform: str, raw: str | None, video_id: str | None, now: datetime | None = None) -> str | None:
    """An ISO date from what the page shows: an absolute date in the usual formats, a
    relative one ("3d ago", "2w") counted back from ``now``, a month and day of the
    current year ("5-14"), or, on TikTok, the post time encoded in the video id."""
    from vspectrum_app.library.importer import parse_date

    now = now or clock.utc()
    if raw:
        text = raw.strip()
        if parsed := parse_date(text):
            return parsed
        if m := _RELATIVE.match(text):
            return (now.date() - timedelta(days=int(m.group(1)) * _UNIT_DAYS[m.group(2).lower()])).isoformat()
        if m := re.fullmatch(r"(\d{1,2})-(\d{1,2})", text):  # TikTok's "5-14": this year
            try:
                return date(now.year, int(m.group(1)), int(m.group(2))).isoformat()
            except ValueError:
                pass
    if platform == "tiktok" and video_id and video_id.isdigit():
        seconds = int(video_id) >> 32  # TikTok ids carry the post time in their upper 32 bits
        if 1_400_000_000 < seconds < 4_000_000_000:
            return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()
    return None


def host_platform(url: str) -> str | None:
    """The platform a real URL belongs to (for ``crawl check --url``)."""
    host = urlparse(url).hostname or ""
    for name, needle in (("tiktok", "tiktok."), ("youtube", "youtube."), ("instagram", "instagram.")):
        if needle in host:
            return name
    return None
