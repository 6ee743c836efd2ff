"""The simulated platform's HTTP server (loopback only, standard library).

Pages (one per skin, mimicking the real sites' layouts and URLs)::

    /tiktok/foryou   /@AUTHOR/video/ID      TikTok-like feed
    /shorts/         /shorts/ID             YouTube-Shorts-like feed
    /reels/          /reel/CODE/            Instagram-Reels-like feed

A feed page takes ``?seed=N`` (the recommender's seed), ``?session=ID`` (else one is
made) and ``?inject=black:3,ad:5,...`` (test material at given feed positions: ``black``
frame, ``ad``, ``repost`` of the previous image under a new id, ``dup`` the item of two
positions before again, ``login`` wall, ``captcha``).

API: ``GET /api/clock`` (the shared virtual clock), ``POST /api/next`` (report the dwell
on the current item, get the next), ``POST /api/like``, ``GET /api/sessions[/ID]``
(inspection: the recommender's profile and everything it served).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse
from typing import Any

from vspectrum_app.core.paths import resources_dir
from vspectrum_app.sim.catalog import Catalog, Item
from vspectrum_app.sim.clock import VirtualClock
from vspectrum_app.sim.recommender import Recommender, RecommenderConfig

INJECTIONS = ("black", "ad", "repost", "dup", "login", "captcha")
_PAGE_ROUTES = [
    (re.compile(r"^/tiktok(/foryou)?/?$"), "tiktok"),
    (re.compile(r"^/@[^/]+/video/(?P<id>\d+)/?$"), "tiktok"),
    (re.compile(r"^/shorts/?(?P<id>[A-Za-z0-9_-]{11})?/?$"), "youtube"),
    (re.compile(r"^/reels?/?(?P<id>[A-Za-z0-9_-]{11})?/?$"), "instagram"),
]


class SimError(Exception):
    pass


def parse_injections(text: str | None) -> dict[int, str]:
    """``"black:3,ad:5"`` -> {3: "black", 5: "ad"}; a clear error for anything else."""
    plan: dict[int, str] = {}
    for part in filter(None, (text or "").split(",")):
        kind, _, pos = part.partition(":")
        if kind not in INJECTIONS or not pos.isdigit():
            raise SimError(f"bad injection {part!r}: use KIND:POSITION with KIND one of {', '.join(INJECTIONS)}")
        plan[int(pos)] = kind
    return plan


@dataclass
class FeedSession:
    """One viewer's feed: the recommender plus the positions where test material goes."""

    id: str
    recommender: Recommender
    inject: dict[int, str] = field(default_factory=dict)
    served: list[dict[str, Any]] = field(default_factory=list)  # what the page got, in order
    extra_items: dict[str, Item] = field(default_factory=dict)  # injected items, by key
    lock: threading.Lock = field(default_factory=threading.Lock)


class SimPlatform:
    """The server's state, usable without HTTP (tests, the persona feed's inspection)."""

    def __init__(
        self,
        catalog: Catalog,
        clock: VirtualClock | None = None,
        seed: int = 0,
        config: RecommenderConfig | None = None,
    ):
        self.catalog, self.clock, self.seed = catalog, clock or VirtualClock(), seed
        self.config = config or RecommenderConfig()
        self.sessions: dict[str, FeedSession] = {}
        self._lock = threading.Lock()
        self._generated: dict[str, bytes] = {}  # media made on request (black frames, ads)

    def session(self, session_id: str | None, seed: int | None = None, inject: str | None = None) -> FeedSession:
        with self._lock:
            sid = session_id or secrets.token_hex(6)
            if sid not in self.sessions:
                rec = Recommender(self.catalog, self.seed if seed is None else seed, self.config)
                self.sessions[sid] = FeedSession(sid, rec, parse_injections(inject))
            return self.sessions[sid]

    def next(
        self, session: FeedSession, prev: dict[str, Any] | None = None, start: str | None = None
    ) -> dict[str, Any]:
        with session.lock:
            if prev and prev.get("key"):
                session.recommender.feedback(prev["key"], float(prev.get("dwell_s") or 0.0), bool(prev.get("liked")))
                if session.served and session.served[-1]["key"] == prev["key"]:
                    session.served[-1].update(dwell_s=prev.get("dwell_s"), liked=bool(prev.get("liked")))
            position = len(session.served)
            kind = session.inject.get(position)
            item, overlay = self._pick(session, position, kind, start)
            entry = {
                **item.public(),
                "position": position,
                "media": f"/media/{item.key}.{item.ext}",
                "ad": kind == "ad",
                "overlay": kind if kind in ("login", "captcha") else None,
                "injected": kind,
                "dwell_s": None,
                "liked": False,
            }
            session.served.append(entry)
            return entry

    def _pick(
        self, session: FeedSession, position: int, kind: str | None, start: str | None
    ) -> tuple[Item, str | None]:
        rec = session.recommender
        if position == 0 and start and (first := self.catalog.find(start)):
            return rec.serve_first(first), None
        previous = self._item(session, session.served[-1]["key"]) if session.served else None
        if kind == "dup" and len(session.served) >= 2:  # a video seen two videos ago comes back
            seen = self._item(session, session.served[-2]["key"])
            assert seen is not None  # a served key is in the catalogue or among the session's extras
            return seen, None
        if kind in ("black", "ad") or (kind == "repost" and previous is not None):
            item = self._special(session, kind, position, previous)
            session.extra_items[item.key] = item
            return item, None
        return rec.next_item(), kind

    def _special(self, session: FeedSession, kind: str, position: int, previous: Item | None) -> Item:
        if kind == "repost":  # the same picture under another id: only a perceptual hash can tell
            assert previous is not None  # a repost follows a served item (see the caller)
            key = hashlib.sha256(f"repost:{session.id}:{position}:{previous.key}".encode()).hexdigest()
            media = self.media(previous.key)
            assert media is not None  # the item was served, so its picture is known
            self._generated[key] = media[0]
            return Item(
                key,
                previous.path,
                previous.ext,
                "reposter_01",
                previous.caption,
                previous.post_date,
                list(previous.topics),
                previous.vector,
            )
        data = _solid_jpeg((0, 0, 0)) if kind == "black" else _ad_jpeg(position)
        key = hashlib.sha256(data + f"{kind}:{position}".encode()).hexdigest()
        self._generated[key] = data
        author = "brand_official" if kind == "ad" else "sim_test"
        return Item(key, Path(f"{kind}.jpg"), "jpg", author, "Shop now" if kind == "ad" else "", "2025-01-01", [])

    def _item(self, session: FeedSession, key: str) -> Item | None:
        return self.catalog.by_key.get(key) or session.extra_items.get(key)

    def like(self, session: FeedSession, key: str) -> None:
        with session.lock:
            for entry in reversed(session.served):
                if entry["key"] == key:
                    entry["liked"] = True
                    break

    def media(self, key: str) -> tuple[bytes, str] | None:
        if key in self._generated:
            return self._generated[key], "image/jpeg"
        item = self.catalog.by_key.get(key)
        if item is None:
            return None
        return item.path.read_bytes(), {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[item.ext]

    def inspect(self, session_id: str) -> dict[str, Any] | None:
        session = self.sessions.get(session_id)
        if session is None:
            return None
        with session.lock:
            return {
                "session": session_id,
                "recommender": session.recommender.inspect(),
                "served": [dict(e) for e in session.served],
            }


class SimServer:
    """Serves a ``SimPlatform`` on 127.0.0.1 from a background thread."""

    def __init__(self, platform: SimPlatform, host: str = "127.0.0.1", port: int = 0):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SimError("the simulated platform only listens on loopback")
        self.platform = platform
        self.httpd = ThreadingHTTPServer((host, port), _handler(platform))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "SimServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sim-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "SimServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def feed_url(
    base: str, skin: str, seed: int | None = None, session: str | None = None, inject: str | None = None
) -> str:
    path = {"tiktok": "/tiktok/foryou", "youtube": "/shorts/", "instagram": "/reels/"}[skin]
    query = "&".join(f"{k}={v}" for k, v in (("seed", seed), ("session", session), ("inject", inject)) if v is not None)
    return f"{base}{path}" + (f"?{query}" if query else "")


def _handler(platform: SimPlatform) -> type[BaseHTTPRequestHandler]:
    static = resources_dir() / "sim"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet: the crawl log is what users read
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (ConnectionResetError, BrokenPipeError):
                pass  # a page that navigated away mid-request, or a browser that was closed

        def do_GET(self) -> None:
            url = urlparse(self.path)
            path = url.path
            if path == "/":
                return self._file(static / "index.html", "text/html; charset=utf-8")
            if path.startswith("/static/"):
                name = path.rsplit("/", 1)[-1]
                types = {".js": "text/javascript", ".css": "text/css"}
                target = static / name
                if re.fullmatch(r"[\w.-]+\.(js|css)", name) and target.exists():
                    return self._file(target, types[target.suffix])
            if path == "/api/clock":
                return self._json(platform.clock.to_json())
            if path == "/api/sessions":
                return self._json(sorted(platform.sessions))
            if m := re.fullmatch(r"/api/sessions/([\w-]+)", path):
                data = platform.inspect(m.group(1))
                return self._json(data) if data else self._error(HTTPStatus.NOT_FOUND, "no such session")
            if m := re.fullmatch(r"/media/([0-9a-f]{64})\.\w+", path):
                found = platform.media(m.group(1))
                if found:
                    return self._send(HTTPStatus.OK, found[0], found[1], cache=True)
                return self._error(HTTPStatus.NOT_FOUND, "no such media")
            for pattern, skin in _PAGE_ROUTES:
                if pattern.match(path):
                    return self._file(static / f"{skin}.html", "text/html; charset=utf-8")
            self._error(HTTPStatus.NOT_FOUND, "not found")

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            try:
                return self._post(path)
            except Exception as exc:  # one bad request must not take the feed down
                return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

        def _post(self, path: str) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if path == "/api/next":
                    session = platform.session(body.get("session"), _int(body.get("seed")), body.get("inject"))
                    item = platform.next(session, body.get("prev"), body.get("start"))
                    return self._json({**item, "session": session.id})
                if path == "/api/like":
                    platform.like(platform.session(body.get("session")), str(body.get("key")))
                    return self._json({"ok": True})
            except (ValueError, SimError) as exc:
                return self._error(HTTPStatus.BAD_REQUEST, str(exc))
            self._error(HTTPStatus.NOT_FOUND, "not found")

        def _file(self, path: Path, ctype: str) -> None:
            self._send(HTTPStatus.OK, path.read_bytes(), ctype)

        def _json(self, obj: Any) -> None:
            self._send(HTTPStatus.OK, json.dumps(obj, default=str).encode(), "application/json")

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._send(status, json.dumps({"error": message}).encode(), "application/json")

        def _send(self, status: HTTPStatus, data: bytes, ctype: str, cache: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _int(value: str | None) -> int | None:
    return None if value in (None, "") else int(value)


def _solid_jpeg(rgb: tuple[int, int, int], size: tuple[int, int] = (540, 960)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, "JPEG", quality=90)
    return out.getvalue()


def _ad_jpeg(position: int, size: tuple[int, int] = (540, 960)) -> bytes:
    """A loud product banner: stripes and a block, unlike any catalogue picture."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (250, 200, 30))
    draw = ImageDraw.Draw(img)
    for y in range(0, size[1], 60):
        draw.rectangle([0, y, size[0], y + 25], fill=(230, 40, 90 + position % 100))
    draw.rectangle([90, 330, 450, 630], fill=(20, 20, 160))
    draw.text((120, 460), "MEGA SALE", fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()
