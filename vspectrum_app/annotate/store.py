"""Annotation task sets, their items and every answer, with history.

An item is identified across workspaces by (image content hash, value, kind), so answers
exported on one machine merge into another workspace holding the same screenshots. An
answer is never overwritten: a new answer supersedes the previous one (kept), and undo
retracts the latest (kept, marked).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from vspectrum_app.core import clock
from vspectrum_app.core.workspace import Workspace

MIGRATIONS: list[str] = [
    """
    CREATE TABLE ann_sets (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL,              -- value | representativeness
        raters      INTEGER NOT NULL,           -- annotators required per item
        config_json TEXT NOT NULL,              -- how it was sampled (seed, per value, keyword set)
        created_at  TEXT NOT NULL
    );
    CREATE TABLE ann_items (
        id           INTEGER PRIMARY KEY,
        set_id       TEXT NOT NULL REFERENCES ann_sets(id) ON DELETE CASCADE,
        image_id     INTEGER,
        image_sha256 TEXT NOT NULL,
        value        TEXT NOT NULL DEFAULT '',  -- '' for representativeness
        video_url    TEXT,
        UNIQUE (set_id, image_sha256, value)
    );
    CREATE TABLE ann_answers (
        id           INTEGER PRIMARY KEY,
        item_id      INTEGER NOT NULL REFERENCES ann_items(id) ON DELETE CASCADE,
        annotator    TEXT NOT NULL,
        question     TEXT NOT NULL,             -- screenshot | video | representative
        answer       TEXT NOT NULL,             -- yes | no | not_sure
        comment      TEXT NOT NULL DEFAULT '',
        seconds      REAL,                      -- time taken
        created_at   TEXT NOT NULL,
        superseded   INTEGER NOT NULL DEFAULT 0,
        retracted    INTEGER NOT NULL DEFAULT 0,
        UNIQUE (item_id, annotator, question, created_at)
    );
    CREATE INDEX ann_answers_item ON ann_answers(item_id, annotator, question);
    CREATE TABLE ann_unmatched (                -- imported answers whose screenshot this workspace lacks
        id       INTEGER PRIMARY KEY,
        set_id   TEXT NOT NULL,
        json     TEXT NOT NULL
    );
    """,
]

ANSWERS = ("yes", "no", "not_sure")
QUESTIONS = ("screenshot", "video", "representative")
KINDS = ("value", "representativeness")


class AnnotationError(Exception):
    pass


class AnnotationStore:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        ws.ensure_schema("annotate", MIGRATIONS)

    # -- sets ---------------------------------------------------------------------------
    def create_set(
        self,
        name: str,
        kind: str,
        raters: int,
        config: dict[str, Any],
        items: list[dict[str, Any]],
        set_id: str | None = None,
    ) -> str:
        if kind not in KINDS:
            raise AnnotationError(f"unknown task kind {kind!r}")
        set_id = set_id or f"ann-{uuid.uuid4().hex[:10]}"
        with self.ws.transaction() as conn:
            conn.execute(
                "INSERT INTO ann_sets(id, name, kind, raters, config_json, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (set_id, name, kind, raters, json.dumps(config), clock.now()),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO ann_items(set_id, image_id, image_sha256, value, video_url) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (set_id, i.get("image_id"), i["image_sha256"], i.get("value") or "", i.get("video_url"))
                    for i in items
                ],
            )
        return set_id

    def sets(self) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.ws.db.execute(
                "SELECT s.*, COUNT(i.id) AS items FROM ann_sets s LEFT JOIN ann_items i ON i.set_id = s.id "
                "GROUP BY s.id ORDER BY s.created_at"
            )
        ]

    def get_set(self, ref: str) -> dict[str, Any]:
        row = self.ws.db.execute(
            "SELECT * FROM ann_sets WHERE id = ? OR name = ? ORDER BY created_at DESC LIMIT 1", (ref, ref)
        ).fetchone()
        if row is None:
            raise AnnotationError(f"no annotation set {ref!r} in this workspace (see 'vspectrum annotate list')")
        return dict(row)

    def items(self, set_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.ws.db.execute("SELECT * FROM ann_items WHERE set_id = ? ORDER BY id", (set_id,))]

    # -- answers ------------------------------------------------------------------------
    def answer(
        self,
        item_id: int,
        annotator: str,
        question: str,
        answer: str,
        *,
        comment: str = "",
        seconds: float | None = None,
        created_at: str | None = None,
    ) -> None:
        if answer not in ANSWERS or question not in QUESTIONS:
            raise AnnotationError(f"invalid answer {answer!r} to {question!r}")
        annotator = annotator.strip()
        if not annotator:
            raise AnnotationError("an answer needs the annotator's name")
        with self.ws.transaction() as conn:
            conn.execute(
                "UPDATE ann_answers SET superseded = 1 WHERE item_id = ? AND annotator = ? AND question = ? "
                "AND superseded = 0 AND retracted = 0",
                (item_id, annotator, question),
            )
            conn.execute(
                "INSERT INTO ann_answers(item_id, annotator, question, answer, comment, seconds, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item_id, annotator, question, answer, comment, seconds, created_at or clock.now()),
            )

    def undo(self, set_id: str, annotator: str) -> dict[str, Any] | None:
        """Retract the annotator's latest current answer in the set (the previous one, if any,
        becomes current again). Returns the retracted answer."""
        with self.ws.transaction() as conn:
            row = conn.execute(
                "SELECT a.* FROM ann_answers a JOIN ann_items i ON i.id = a.item_id WHERE i.set_id = ? AND "
                "a.annotator = ? AND a.superseded = 0 AND a.retracted = 0 ORDER BY a.id DESC LIMIT 1",
                (set_id, annotator),
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE ann_answers SET retracted = 1 WHERE id = ?", (row["id"],))
            previous = conn.execute(
                "SELECT id FROM ann_answers WHERE item_id = ? AND annotator = ? AND question = ? AND retracted = 0 "
                "AND id < ? ORDER BY id DESC LIMIT 1",
                (row["item_id"], annotator, row["question"], row["id"]),
            ).fetchone()
            if previous:
                conn.execute("UPDATE ann_answers SET superseded = 0 WHERE id = ?", (previous["id"],))
        return dict(row)

    def current(self, set_id: str, annotator: str | None = None) -> list[dict[str, Any]]:
        """Current answers (neither superseded nor retracted), with their item."""
        sql = (
            "SELECT a.*, i.image_sha256, i.value, i.image_id FROM ann_answers a JOIN ann_items i ON i.id = a.item_id "
            "WHERE i.set_id = ? AND a.superseded = 0 AND a.retracted = 0"
        )
        params: tuple = (set_id,)
        if annotator:
            sql += " AND a.annotator = ?"
            params += (annotator,)
        return [dict(r) for r in self.ws.db.execute(sql + " ORDER BY a.id", params)]

    def history(self, set_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.ws.db.execute(
                "SELECT a.*, i.image_sha256, i.value FROM ann_answers a JOIN ann_items i ON i.id = a.item_id "
                "WHERE i.set_id = ? ORDER BY a.id",
                (set_id,),
            )
        ]
