"""Persona sessions in the workspace: configuration, every step, and their status.

A step is committed before the loop moves on, so a crash loses at most the step in flight
and ``resume`` never repeats a finished one (``UNIQUE(session_id, trial, position)``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

from vspectrum_app.core import clock
from vspectrum_app.core.protocol import CAPTURE_AT_S

MIGRATIONS: list[str] = [
    """
    CREATE TABLE persona_sessions (
        id          TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL,
        status      TEXT NOT NULL,              -- running | paused | done | failed | cancelled
        config_json TEXT NOT NULL,              -- SessionConfig, prompts verbatim
        error       TEXT
    );
    CREATE TABLE persona_steps (
        id          INTEGER PRIMARY KEY,
        session_id  TEXT NOT NULL REFERENCES persona_sessions(id) ON DELETE CASCADE,
        trial       INTEGER NOT NULL,
        position    INTEGER NOT NULL,           -- 0-based scroll index within the trial
        item_id     TEXT,                       -- the feed's id for the video (URL on real sites)
        item_url    TEXT,
        item_topics TEXT,                       -- JSON list: what the feed says the item is about
        image_sha256 TEXT,                      -- the screenshot (persona/SESSION/tNN-pNNN.jpg)
        prompt      TEXT,
        raw_answer  TEXT,
        parsed_json TEXT,                       -- parsed fields and problems
        decision    TEXT NOT NULL,              -- yes | no | unparsed | refusal
        score       REAL,                       -- ISQ S%
        dwell_s     REAL NOT NULL,
        related     INTEGER,                    -- item matches the persona's intended topics (when known)
        created_at  TEXT NOT NULL,
        UNIQUE (session_id, trial, position)
    );
    CREATE TABLE persona_profiles (
        session_id  TEXT NOT NULL REFERENCES persona_sessions(id) ON DELETE CASCADE,
        trial       INTEGER NOT NULL,
        position    INTEGER NOT NULL,
        profile_json TEXT NOT NULL,             -- the recommender's learnt profile (simulator only)
        PRIMARY KEY (session_id, trial, position)
    );
    """,
    # The call log: the model call behind each step's decision, written with the step.
    """
    CREATE TABLE persona_calls (
        session_id    TEXT NOT NULL REFERENCES persona_sessions(id) ON DELETE CASCADE,
        trial         INTEGER NOT NULL,
        position      INTEGER NOT NULL,
        provider      TEXT NOT NULL,
        model         TEXT NOT NULL,
        request_json  TEXT NOT NULL,            -- texts, image hash, parameters: never the key, never image bytes
        response_text TEXT NOT NULL,
        refused       INTEGER NOT NULL DEFAULT 0,
        truncated     INTEGER NOT NULL DEFAULT 0,
        finish_reason TEXT,
        input_tokens  INTEGER,
        output_tokens INTEGER,
        latency_s     REAL,
        cost_usd      REAL,                     -- NULL: no price known
        created_at    TEXT NOT NULL,
        PRIMARY KEY (session_id, trial, position)
    );
    """,
]


@dataclass
class SessionConfig:
    persona: dict[str, Any]  # Persona.to_json()
    strategy: str  # simple | isq | control
    platform: str = "sim"  # sim | tiktok | youtube | instagram
    provider: str | None = None
    model: str | None = None
    skin: str = "tiktok"  # simulator skin
    trials: int = 10
    scrolls: int = 100
    window: int = 50  # n of "first/last n videos"
    watch_s: float = 45.0
    capture_at_s: float = CAPTURE_AT_S
    threshold: float = 60.0  # ISQ watch threshold on S%
    temperature: float | None = None
    seed: int = 0
    control_rate: float = 0.2  # control: probability of watching
    prompt: str = ""  # the exact template text sent (rendered per persona)
    replay_of: str | None = None  # counterfactual replay: the session whose feed is replayed
    time_scale: float = 1.0  # simulator clock speed-up
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "SessionConfig":
        return cls(**json.loads(text))


@dataclass
class Step:
    trial: int
    position: int
    decision: str
    dwell_s: float
    item_id: str | None = None
    item_url: str | None = None
    item_topics: list[str] = field(default_factory=list)
    image_sha256: str | None = None
    prompt: str | None = None
    raw_answer: str | None = None
    parsed: dict[str, Any] = field(default_factory=dict)
    score: float | None = None
    related: bool | None = None
    call: dict[str, Any] | None = None  # the model call behind the decision (persona.asker.call_row)


class SessionStore:
    def __init__(self, ws: Workspace):
        self.ws = ws
        ws.ensure_schema("persona", MIGRATIONS)

    def create(self, config: SessionConfig) -> str:
        session_id = f"ps-{clock.stamp()}-{uuid.uuid4().hex[:6]}"
        with self.ws.transaction() as conn:
            conn.execute(
                "INSERT INTO persona_sessions(id, created_at, status, config_json) VALUES (?, ?, 'running', ?)",
                (session_id, clock.now(), config.to_json()),
            )
        return session_id

    def config(self, session_id: str) -> SessionConfig:
        row = self.ws.db.execute("SELECT config_json FROM persona_sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise PersonaSessionError(f"no persona session {session_id!r} in this workspace")
        return SessionConfig.from_json(row["config_json"])

    def set_status(self, session_id: str, status: str, error: str | None = None) -> None:
        with self.ws.transaction() as conn:
            conn.execute("UPDATE persona_sessions SET status = ?, error = ? WHERE id = ?", (status, error, session_id))

    def add_step(self, session_id: str, step: Step, profile: dict[str, Any] | None = None) -> None:
        with self.ws.transaction() as conn:
            conn.execute(
                "INSERT INTO persona_steps(session_id, trial, position, item_id, item_url, item_topics, image_sha256,"
                " prompt, raw_answer, parsed_json, decision, score, dwell_s, related, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    step.trial,
                    step.position,
                    step.item_id,
                    step.item_url,
                    json.dumps(step.item_topics),
                    step.image_sha256,
                    step.prompt,
                    step.raw_answer,
                    json.dumps(step.parsed, default=str),
                    step.decision,
                    step.score,
                    step.dwell_s,
                    None if step.related is None else int(step.related),
                    clock.now(),
                ),
            )
            if profile is not None:
                conn.execute(
                    "INSERT INTO persona_profiles(session_id, trial, position, profile_json) VALUES (?, ?, ?, ?)",
                    (session_id, step.trial, step.position, json.dumps(profile)),
                )
            if step.call is not None:
                c = step.call
                conn.execute(
                    "INSERT INTO persona_calls(session_id, trial, position, provider, model, request_json, "
                    "response_text, refused, truncated, finish_reason, input_tokens, output_tokens, latency_s, "
                    "cost_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        step.trial,
                        step.position,
                        c["provider"],
                        c["model"],
                        json.dumps(c["request"], ensure_ascii=False),
                        c["response_text"],
                        int(bool(c["refused"])),
                        int(bool(c["truncated"])),
                        c["finish_reason"],
                        c["input_tokens"],
                        c["output_tokens"],
                        c["latency_s"],
                        c["cost_usd"],
                        c["created_at"],
                    ),
                )

    def steps(self, session_id: str, trial: int | None = None) -> list[Step]:
        sql = "SELECT * FROM persona_steps WHERE session_id = ?"
        params: tuple[str | int, ...] = (session_id,)
        if trial is not None:
            sql += " AND trial = ?"
            params += (trial,)
        rows = self.ws.db.execute(sql + " ORDER BY trial, position", params).fetchall()
        return [
            Step(
                trial=r["trial"],
                position=r["position"],
                decision=r["decision"],
                dwell_s=r["dwell_s"],
                item_id=r["item_id"],
                item_url=r["item_url"],
                item_topics=json.loads(r["item_topics"] or "[]"),
                image_sha256=r["image_sha256"],
                prompt=r["prompt"],
                raw_answer=r["raw_answer"],
                parsed=json.loads(r["parsed_json"] or "{}"),
                score=r["score"],
                related=None if r["related"] is None else bool(r["related"]),
            )
            for r in rows
        ]

    def calls(self, session_id: str, step: tuple[int, int] | None = None) -> list[dict[str, Any]]:
        """The session's call log (or one step's: ``step`` = (trial, position)), a row per call
        with the decision taken from it, in step order."""
        sql = (
            "SELECT c.*, s.item_id, s.decision, s.score, s.parsed_json FROM persona_calls c "
            "JOIN persona_steps s ON s.session_id = c.session_id AND s.trial = c.trial AND s.position = c.position "
            "WHERE c.session_id = ?"
        )
        params: tuple[str | int, ...] = (session_id,)
        if step is not None:
            sql += " AND c.trial = ? AND c.position = ?"
            params += step
        rows = self.ws.db.execute(sql + " ORDER BY c.trial, c.position", params).fetchall()
        out = []
        for r in rows:
            row = dict(r)
            row["request"] = json.loads(row.pop("request_json"))
            row["parsed"] = json.loads(row.pop("parsed_json") or "{}")
            row["refused"], row["truncated"] = bool(row["refused"]), bool(row["truncated"])
            out.append(row)
        return out

    def call(self, session_id: str, trial: int, position: int) -> dict[str, Any] | None:
        """The call behind one step's decision (None for a control step or an older session)."""
        return next(iter(self.calls(session_id, (trial, position))), None)

    def mean_latency(self, provider: str, recent: int = 200) -> float | None:
        """The mean latency of this provider's last ``recent`` persona calls (the estimate's pace)."""
        row = self.ws.db.execute(
            "SELECT AVG(latency_s) FROM (SELECT latency_s FROM persona_calls WHERE provider = ? "
            "AND latency_s IS NOT NULL ORDER BY created_at DESC LIMIT ?)",
            (provider, recent),
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def profiles(self, session_id: str, trial: int) -> list[tuple[int, dict[str, Any]]]:
        rows = self.ws.db.execute(
            "SELECT position, profile_json FROM persona_profiles WHERE session_id = ? AND trial = ? ORDER BY position",
            (session_id, trial),
        ).fetchall()
        return [(r["position"], json.loads(r["profile_json"])) for r in rows]

    def list(self) -> list[dict[str, Any]]:
        rows = self.ws.db.execute(
            "SELECT s.id, s.created_at, s.status, s.config_json, s.error, COUNT(p.id) AS steps "
            "FROM persona_sessions s LEFT JOIN persona_steps p ON p.session_id = s.id "
            "GROUP BY s.id ORDER BY s.created_at"
        ).fetchall()
        out = []
        for r in rows:
            cfg = SessionConfig.from_json(r["config_json"])
            out.append(
                {
                    "id": r["id"],
                    "created_at": r["created_at"],
                    "status": r["status"],
                    "error": r["error"],
                    "steps": r["steps"],
                    "total_steps": cfg.trials * cfg.scrolls,
                    "persona": cfg.persona["name"],
                    "strategy": cfg.strategy,
                    "platform": cfg.platform,
                    "model": cfg.model,
                    "provider": cfg.provider,
                    "replay_of": cfg.replay_of,
                }
            )
        return out


class PersonaSessionError(Exception):
    pass
