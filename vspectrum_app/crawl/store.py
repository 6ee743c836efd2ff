"""Crawl sessions and every capture decision, in the workspace catalog.

The images themselves go into the library (``images``) through the importer; these tables
say where each came from, and also keep what was *not* stored (duplicates, flagged frames)
so that counts and rejections can be reviewed later.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from vspectrum_app.core import clock
from vspectrum_app.core.workspace import Workspace
from vspectrum_app.library import catalog

MIGRATIONS: list[str] = [
    """
    CREATE TABLE crawl_sessions (
        id          TEXT PRIMARY KEY,
        platform    TEXT NOT NULL,              -- tiktok | youtube | instagram | sim
        skin        TEXT,                       -- the simulator's layout (sim only)
        start_url   TEXT NOT NULL,
        target      INTEGER NOT NULL,           -- captures asked for
        config_json TEXT NOT NULL,
        status      TEXT NOT NULL,              -- running | done | stopped | blocked | failed
        message     TEXT,
        started_at  TEXT NOT NULL,
        ended_at    TEXT
    );
    CREATE TABLE crawl_captures (
        id          INTEGER PRIMARY KEY,
        session_id  TEXT NOT NULL REFERENCES crawl_sessions(id) ON DELETE CASCADE,
        position    INTEGER NOT NULL,           -- 0-based index of the video in the feed
        captured_at TEXT NOT NULL,
        video_url   TEXT,
        outcome     TEXT NOT NULL,              -- stored | duplicate_link | duplicate_image | flagged | no_video
        flags       TEXT NOT NULL DEFAULT '',   -- black_frame, blank_frame, ad, login_wall, captcha
        image_id    INTEGER REFERENCES images(id),
        offset_s    REAL,                       -- the video's own clock when the screenshot was taken
        file        TEXT,                       -- a rejected capture's file, relative to the workspace
        meta_json   TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX crawl_captures_session ON crawl_captures(session_id, position);
    """,
]


class CrawlStore:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        ws.ensure_schema("crawl", MIGRATIONS)

    def create(self, platform: str, skin: str | None, start_url: str, target: int, config: dict) -> str:
        sid = clock.stamp() + "-" + uuid.uuid4().hex[:6]
        with self.ws.transaction() as conn:
            conn.execute(
                "INSERT INTO crawl_sessions(id, platform, skin, start_url, target, config_json, status, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
                (sid, platform, skin, start_url, target, json.dumps(config), clock.now()),
            )
        return sid

    def finish(self, sid: str, status: str, message: str | None = None) -> None:
        with self.ws.transaction() as conn:
            conn.execute(
                "UPDATE crawl_sessions SET status = ?, message = ?, ended_at = ? WHERE id = ?",
                (status, message, clock.now(), sid),
            )

    def add(
        self,
        sid: str,
        position: int,
        outcome: str,
        *,
        video_url: str | None = None,
        flags: list[str] | None = None,
        image_id: int | None = None,
        offset_s: float | None = None,
        file: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        with self.ws.transaction() as conn:
            conn.execute(
                "INSERT INTO crawl_captures(session_id, position, captured_at, video_url, outcome, flags, "
                "image_id, offset_s, file, meta_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    position,
                    clock.now(),
                    video_url,
                    outcome,
                    ",".join(flags or []),
                    image_id,
                    offset_s,
                    file,
                    json.dumps(meta or {}, ensure_ascii=False, default=str),
                ),
            )

    def captures(self, sid: str) -> list[dict]:
        rows = self.ws.db.execute("SELECT * FROM crawl_captures WHERE session_id = ? ORDER BY id", (sid,))
        return [dict(r) for r in rows]

    def session(self, sid: str) -> dict | None:
        row = self.ws.db.execute("SELECT * FROM crawl_sessions WHERE id = ?", (sid,)).fetchone()
        return dict(row) if row else None

    def sessions(self) -> list[dict]:
        rows = self.ws.db.execute(
            "SELECT s.*, (SELECT COUNT(*) FROM crawl_captures c WHERE c.session_id = s.id AND c.outcome = 'stored')"
            " AS stored FROM crawl_sessions s ORDER BY started_at DESC"
        )
        return [dict(r) for r in rows]

    def known_link(self, url: str) -> bool:
        return catalog.has_video_url(self.ws, url)
