"""Benchmark runs in the workspace: the run and its manifest, one row per (model, image,
value, keyword, repeat) item, and every model call (request, response) — which doubles as
the response cache.

A call is written as soon as its response arrives, and an item is marked done in the same
transaction that stores its answers: a crash loses only calls in flight, and ``resume``
finds finished calls in the log instead of sending them again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

from vspectrum_app.bench.variants import DEFAULT as DEFAULT_VARIANT
from vspectrum_app.bench.variants import from_manifest
from vspectrum_app.core import clock, locks

RUN_LOCK = (
    "bench-run"  # core.locks kind held by the process running a run: ``locks.is_locked(ws.root, RUN_LOCK, run_id)``
)

MIGRATIONS: list[str] = [
    """
    CREATE TABLE bench_runs (
        id            TEXT PRIMARY KEY,
        created_at    TEXT NOT NULL,
        status        TEXT NOT NULL,        -- pending | running | done | stopped | cancelled
        manifest_json TEXT NOT NULL,
        error         TEXT
    );
    CREATE TABLE bench_items (
        id            INTEGER PRIMARY KEY,
        run_id        TEXT NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
        target        TEXT NOT NULL,        -- provider:model that answers
        mode          TEXT NOT NULL,        -- vlm (image attached) | text (description only)
        value         TEXT NOT NULL,
        keyword       TEXT NOT NULL,
        rank          INTEGER NOT NULL,
        image_id      INTEGER NOT NULL,
        image_sha256  TEXT NOT NULL,
        repeat        INTEGER NOT NULL DEFAULT 0,
        status        TEXT NOT NULL DEFAULT 'pending',   -- pending | done | error
        answer_class  TEXT,                 -- yes | no | refusal | unparsed
        answer1       TEXT,
        answer2       TEXT,
        answer3       TEXT,
        error         TEXT,
        finished_at   TEXT,
        UNIQUE (run_id, target, mode, image_sha256, value, keyword, repeat)
    );
    CREATE INDEX bench_items_run ON bench_items(run_id, status);
    CREATE INDEX bench_items_image ON bench_items(image_id);
    CREATE TABLE bench_calls (
        id            INTEGER PRIMARY KEY,
        cache_key     TEXT NOT NULL,
        run_id        TEXT,
        item_id       INTEGER,
        turn          INTEGER,
        provider      TEXT NOT NULL,
        model         TEXT NOT NULL,
        request_json  TEXT NOT NULL,        -- texts, image hash, parameters: never the key, never image bytes
        response_text TEXT NOT NULL,
        refused       INTEGER NOT NULL DEFAULT 0,
        finish_reason TEXT,
        input_tokens  INTEGER,
        output_tokens INTEGER,
        latency_s     REAL,
        created_at    TEXT NOT NULL
    );
    CREATE INDEX bench_calls_key ON bench_calls(cache_key);
    """,
    # 2: the wording of the "like" question an item was asked under (--prompt-variants), part
    # of the item's key. SQLite cannot change a UNIQUE constraint in place: the table is
    # rebuilt with its ids, so bench_item_calls still points at the same items. (RunStore
    # applies this with foreign keys off: dropping the old table would cascade to those links.)
    """
    CREATE TABLE bench_items_v2 (
        id            INTEGER PRIMARY KEY,
        run_id        TEXT NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
        target        TEXT NOT NULL,
        mode          TEXT NOT NULL,
        value         TEXT NOT NULL,
        keyword       TEXT NOT NULL,
        rank          INTEGER NOT NULL,
        image_id      INTEGER NOT NULL,
        image_sha256  TEXT NOT NULL,
        repeat        INTEGER NOT NULL DEFAULT 0,
        status        TEXT NOT NULL DEFAULT 'pending',
        answer_class  TEXT,
        answer1       TEXT,
        answer2       TEXT,
        answer3       TEXT,
        error         TEXT,
        finished_at   TEXT,
        variant       TEXT NOT NULL DEFAULT 'paper',   -- the wording's name (bench/variants.py)
        UNIQUE (run_id, target, mode, image_sha256, value, keyword, repeat, variant)
    );
    INSERT INTO bench_items_v2 (id, run_id, target, mode, value, keyword, rank, image_id, image_sha256, repeat,
                                status, answer_class, answer1, answer2, answer3, error, finished_at)
        SELECT id, run_id, target, mode, value, keyword, rank, image_id, image_sha256, repeat,
               status, answer_class, answer1, answer2, answer3, error, finished_at FROM bench_items;
    DROP TABLE bench_items;
    ALTER TABLE bench_items_v2 RENAME TO bench_items;
    CREATE INDEX bench_items_run ON bench_items(run_id, status);
    CREATE INDEX bench_items_image ON bench_items(image_id);
    """,
    # 3: what each call cost (providers.prices.call_cost: NULL unknown, 0 free) and whether its
    # answer was cut at providers.clients.MAX_ANSWER_CHARS
    """
    ALTER TABLE bench_calls ADD COLUMN cost_usd REAL;
    ALTER TABLE bench_calls ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
    """,
]


# A run's name and note are the user's words about it (the Results pane edits them); kept in
# their own table with its own migrations so that they never touch the measured data.
LABEL_MIGRATIONS: list[str] = [
    """
    CREATE TABLE bench_run_labels (
        run_id  TEXT PRIMARY KEY REFERENCES bench_runs(id) ON DELETE CASCADE,
        name    TEXT NOT NULL DEFAULT '',
        note    TEXT NOT NULL DEFAULT ''
    );
    """,
]
MAX_NAME_CHARS, MAX_NOTE_CHARS = 200, 10_000
NO_IMAGE_ERROR = "the model saw no image (class no_image): resume asks again"
# Which logged call answered each turn of each item, whether sent for this run or found in
# the log (a cached answer is logged once, under the run that sent it): what an export and a
# score cell's drill-down read. Its own component, so its migrations stand apart.
TRACE_MIGRATIONS: list[str] = [
    """
    CREATE TABLE bench_item_calls (
        item_id    INTEGER NOT NULL REFERENCES bench_items(id) ON DELETE CASCADE,
        turn       INTEGER NOT NULL,        -- 0 describe (text arm), 1 like, 2 why, 3 describe
        cache_key  TEXT NOT NULL,
        PRIMARY KEY (item_id, turn)
    );
    """,
]


class RunNotFoundError(Exception):
    pass


def _migrate_items(ws: Workspace) -> None:
    """The bench component's migrations; the rebuild of bench_items (migration 2) with foreign
    keys off, as SQLite's procedure for changing a table says: with them on, dropping the old
    table deletes every bench_item_calls row that points at it. (The pragma is a no-op inside a
    transaction; the migrations run in their own.)"""
    from vspectrum_app.core import db

    rebuild = not ws.readonly and db.schema_version(ws.db, "bench") < len(MIGRATIONS)
    if rebuild:
        ws.db.execute("PRAGMA foreign_keys = OFF")
    try:
        ws.ensure_schema("bench", MIGRATIONS)
    finally:
        if rebuild:
            ws.db.execute("PRAGMA foreign_keys = ON")


class RunDamagedError(Exception):
    """A run's stored manifest cannot be read (e.g. half-written); the message says what to do."""


class RunBusyError(Exception):
    """The run is held by a live process (its lock); the message names it."""


def parse_manifest(run_id: str, text: str) -> dict[str, Any]:
    """A stored manifest, or RunDamagedError in one sentence (never a JSONDecodeError)."""
    try:
        manifest = json.loads(text)
    except (ValueError, TypeError) as exc:
        manifest = exc
    if not isinstance(manifest, dict):
        why = manifest if isinstance(manifest, Exception) else f"a {type(manifest).__name__}, not an object"
        raise RunDamagedError(
            f"the manifest of run {run_id} is damaged ({why}); its answers cannot be reported or resumed: "
            f"remove it with `vspectrum bench delete {run_id}` (the answer cache is kept)"
        )
    providers = manifest.get("providers")
    if isinstance(providers, dict):  # runs stored before addresses were redacted show none of their credentials
        from vspectrum_app.providers.config import redact_url

        manifest["providers"] = {
            name: {**info, "base_url": redact_url(info.get("base_url"))} if isinstance(info, dict) else info
            for name, info in providers.items()
        }
    return manifest


class RunStore:
    def __init__(self, ws: Workspace):
        self.ws = ws
        _migrate_items(ws)
        ws.ensure_schema("bench_labels", LABEL_MIGRATIONS)
        ws.ensure_schema("bench_trace", TRACE_MIGRATIONS)

    # -- runs ---------------------------------------------------------------------------
    def create_run(self, manifest: dict[str, Any], items: list[dict[str, Any]]) -> str:
        run_id = f"run-{clock.stamp()}-{uuid.uuid4().hex[:6]}"
        from vspectrum_app.bench.parsing import PARSER_VERSION

        manifest = {**manifest, "run_id": run_id, "parser_version": PARSER_VERSION}
        with self.ws.transaction() as conn:
            conn.execute(
                "INSERT INTO bench_runs(id, created_at, status, manifest_json) VALUES (?, ?, 'pending', ?)",
                (run_id, clock.now(), json.dumps(manifest, ensure_ascii=False)),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO bench_items(run_id, target, mode, value, keyword, rank, image_id, image_sha256,"
                " repeat, variant) VALUES (:run_id, :target, :mode, :value, :keyword, :rank, :image_id, :image_sha256,"
                " :repeat, :variant)",
                [{"variant": DEFAULT_VARIANT, **item, "run_id": run_id} for item in items],
            )
        return run_id

    def manifest(self, run_id: str) -> dict[str, Any]:
        row = self.ws.db.execute("SELECT manifest_json FROM bench_runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"no benchmark run {run_id!r} in this workspace (see 'vspectrum bench list')")
        return parse_manifest(run_id, row[0])

    def set_status(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.ws.transaction() as conn:
            conn.execute("UPDATE bench_runs SET status = ?, error = ? WHERE id = ?", (status, error, run_id))

    def runs(self) -> list[dict[str, Any]]:
        rows = self.ws.db.execute(
            "SELECT r.id, r.created_at, r.status, r.error, r.manifest_json, "
            "SUM(i.status = 'done') AS done, COUNT(i.id) AS total, SUM(i.status = 'error') AS errors "
            "FROM bench_runs r LEFT JOIN bench_items i ON i.run_id = r.id GROUP BY r.id ORDER BY r.created_at"
        ).fetchall()
        out = []
        for r in rows:
            status, error = r["status"], r["error"]
            try:
                m = parse_manifest(r["id"], r["manifest_json"])
            except RunDamagedError as exc:  # one bad run is one line; the others still show
                m, status, error = {}, "damaged", str(exc)
            if status == "running" and not self._held(r["id"]):
                status = "stopped"  # its process ended without recording it (e.g. the disk was full)
            out.append(
                {
                    "id": r["id"],
                    "created_at": r["created_at"],
                    "status": status,
                    "error": error,
                    "done": r["done"] or 0,
                    "total": r["total"],
                    "errors": r["errors"] or 0,
                    "targets": m.get("targets_label", []),
                    "values": m.get("values", []),
                }
            )
        return out

    def _held(self, run_id: str) -> bool:
        return locks.is_locked(self.ws.root, RUN_LOCK, run_id)

    def labels(self) -> dict[str, dict[str, str]]:
        """run id -> {"name", "note"} for the runs the user has named or annotated."""
        return {
            r["run_id"]: {"name": r["name"], "note": r["note"]}
            for r in self.ws.db.execute("SELECT run_id, name, note FROM bench_run_labels")
        }

    def set_label(self, run_id: str, *, name: str | None = None, note: str | None = None) -> None:
        """Set a run's name and/or note (None keeps the current one); surrounding space is dropped."""
        self.manifest(run_id)  # an unknown run: RunNotFoundError
        current = self.labels().get(run_id, {"name": "", "note": ""})
        name = current["name"] if name is None else " ".join(name.split())[:MAX_NAME_CHARS]
        note = current["note"] if note is None else note.strip()[:MAX_NOTE_CHARS]
        with self.ws.transaction() as conn:
            conn.execute(
                "INSERT INTO bench_run_labels(run_id, name, note) VALUES (?, ?, ?) "
                "ON CONFLICT(run_id) DO UPDATE SET name = excluded.name, note = excluded.note",
                (run_id, name, note),
            )

    def unfinished_runs(self) -> list[str]:
        return [
            r["id"] for r in self.runs() if r["status"] in ("running", "pending", "stopped") and r["done"] < r["total"]
        ]

    def delete_run(self, run_id: str) -> int:
        """Delete a run and its items (for runs nobody wants, e.g. one whose prompts can never be
        sent); returns how many items it had. Its logged calls stay: they are the answer cache
        that other runs reuse. The Benchmark pane's Delete button calls this.

        A run another process is running is refused (RunBusyError naming it): the delete holds
        the run's lock, so no runner can start on it meanwhile either."""
        if self.ws.readonly:
            return self._delete(run_id)  # says read-only; no lock file can be made there
        try:
            with locks.hold(self.ws.root, RUN_LOCK, run_id):
                return self._delete(run_id)
        except locks.RunLockedError:
            holder = locks.lock_holder(self.ws.root, RUN_LOCK, run_id)
            who = holder.describe() if holder else "another process"
            raise RunBusyError(
                f"run {run_id} is being run by {who}; it was not deleted. Stop it first, then delete it."
            ) from None

    def _delete(self, run_id: str) -> int:
        from vspectrum_app.bench.journal import journal_path, read_journal

        journal = journal_path(self.ws.root, run_id)
        if records := read_journal(journal):  # answers a full disk kept: into the cache, which stays
            self.restore_calls(records)
        with self.ws.transaction() as conn:
            n: int = conn.execute("SELECT COUNT(*) FROM bench_items WHERE run_id = ?", (run_id,)).fetchone()[0]
            if conn.execute("DELETE FROM bench_runs WHERE id = ?", (run_id,)).rowcount == 0:
                raise RunNotFoundError(f"no benchmark run {run_id!r} in this workspace (see 'vspectrum bench list')")
            conn.execute("DELETE FROM bench_items WHERE run_id = ?", (run_id,))  # also without foreign keys
        journal.unlink(missing_ok=True)
        return n

    # -- items --------------------------------------------------------------------------
    def todo(self, run_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.ws.db.execute(
                "SELECT * FROM bench_items WHERE run_id = ? AND status != 'done' ORDER BY id", (run_id,)
            )
        ]

    def items(self, run_id: str, status: str | None = "done", variant: str | None = None) -> list[dict[str, Any]]:
        """The run's items (``status`` None: all); ``variant``: only those asked under that wording."""
        sql = "SELECT * FROM bench_items WHERE run_id = ?" + (" AND status = ?" if status else "")
        sql += (" AND variant = ?" if variant is not None else "") + " ORDER BY id"
        args = (run_id,) + ((status,) if status else ()) + ((variant,) if variant is not None else ())
        return [dict(r) for r in self.ws.db.execute(sql, args)]

    def scored_items(self, run_id: str, status: str | None = "done") -> list[dict[str, Any]]:
        """The items a run's scores rest on: those asked under its first wording (a run with
        --prompt-variants has one item per wording; ``bench report --variants`` compares them)."""
        return self.items(run_id, status, variant=from_manifest(self.manifest(run_id))[0].name)

    def finish_items(
        self, finished: list[tuple[int, str, list[str | None]]], calls: Sequence[tuple[int, int, str]] = ()
    ) -> None:
        """Mark items done: (item id, answer class, answers), with the calls behind them:
        (item id, turn, cache key). One transaction for many items: an item whose mark is
        lost in a crash costs nothing on resume (its calls are logged).
        An answer that saw no image (class ``no_image``) is a pipeline failure: the item is
        an error, kept with its text, and ``resume`` asks again."""
        rows = [
            (
                "error" if cls == "no_image" else "done",
                cls,
                *(answers + [None, None, None])[:3],
                NO_IMAGE_ERROR if cls == "no_image" else None,
                clock.now(),
                item_id,
            )
            for item_id, cls, answers in finished
        ]
        with self.ws.transaction() as conn:
            conn.executemany(
                "UPDATE bench_items SET status = ?, answer_class = ?, answer1 = ?, answer2 = ?, "
                "answer3 = ?, error = ?, finished_at = ? WHERE id = ?",
                rows,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO bench_item_calls(item_id, turn, cache_key) VALUES (?, ?, ?)", calls
            )

    def reclassify(self, run_id: str, write: bool = True) -> list[dict[str, Any]]:
        """Re-derive every answered item's class with the current parser; the changes (and,
        with ``write``, the run's classes and manifest parser version are updated)."""
        from vspectrum_app.bench.parsing import PARSER_VERSION, classify_answer

        manifest = self.manifest(run_id)
        rows = self.ws.db.execute(
            "SELECT * FROM bench_items WHERE run_id = ? AND answer_class IS NOT NULL ORDER BY id", (run_id,)
        ).fetchall()
        changes = []
        for r in rows:
            new = classify_answer(r["answer1"], refused_by_api=self._api_refused(r))
            if new != r["answer_class"]:
                changes.append(
                    {
                        "item_id": r["id"],
                        "target": r["target"],
                        "mode": r["mode"],
                        "value": r["value"],
                        "keyword": r["keyword"],
                        "image_sha256": r["image_sha256"],
                        "repeat": r["repeat"],
                        "answer": r["answer1"],
                        "old": r["answer_class"],
                        "new": new,
                    }
                )
        if write:
            old_version = manifest.get("parser_version", 1)
            history = manifest.get("reclassified", []) + [
                {"from": old_version, "to": PARSER_VERSION, "at": clock.now(), "changed": len(changes)}
            ]
            with self.ws.transaction() as conn:
                conn.executemany(
                    "UPDATE bench_items SET answer_class = ?, status = ?, error = ? WHERE id = ?",
                    [
                        (
                            c["new"],
                            "error" if c["new"] == "no_image" else "done",
                            NO_IMAGE_ERROR if c["new"] == "no_image" else None,
                            c["item_id"],
                        )
                        for c in changes
                    ],
                )
                conn.execute(
                    "UPDATE bench_runs SET manifest_json = ? WHERE id = ?",
                    (
                        json.dumps(
                            {**manifest, "parser_version": PARSER_VERSION, "reclassified": history}, ensure_ascii=False
                        ),
                        run_id,
                    ),
                )
        return changes

    def _api_refused(self, item: dict[str, Any]) -> bool:
        """Whether the API itself refused answer 1 (a content-policy refusal, not a text the
        parser reads): no text at all, or a logged first-turn call flagged as refused."""
        if item["answer_class"] != "refusal":
            return False
        if item["answer1"] is None:
            return True
        return (
            self.ws.db.execute(
                "SELECT 1 FROM bench_calls WHERE refused = 1 AND turn = 1 AND (item_id = ? OR response_text = ?) LIMIT 1",
                (item["id"], item["answer1"]),
            ).fetchone()
            is not None
        )

    def fail_item(self, item_id: int, error: str) -> None:
        with self.ws.transaction() as conn:
            conn.execute(
                "UPDATE bench_items SET status = 'error', error = ?, finished_at = ? WHERE id = ?",
                (error, clock.now(), item_id),
            )

    def answers_for_image(self, image_id: int) -> list[dict[str, Any]]:
        """What models answered about one screenshot, across runs (the library's detail panel)."""
        return [
            dict(r)
            for r in self.ws.db.execute(
                "SELECT run_id, target, mode, value, keyword, answer_class, answer1, answer2, answer3, finished_at "
                "FROM bench_items WHERE image_id = ? AND status = 'done' ORDER BY finished_at",
                (image_id,),
            )
        ]

    # -- calls / cache ------------------------------------------------------------------
    def cached(self, cache_key: str) -> dict[str, Any] | None:
        """The first logged answer to this call, skipping answers that saw no image (a
        pipeline failure is asked again, never replayed from the cache)."""
        from vspectrum_app.bench.parsing import looks_like_no_image

        rows = self.ws.db.execute(
            "SELECT response_text, refused, finish_reason, input_tokens, output_tokens "
            "FROM bench_calls WHERE cache_key = ? ORDER BY id",
            (cache_key,),
        )
        return next((dict(r) for r in rows if not looks_like_no_image(r["response_text"])), None)

    def log_call(
        self,
        *,
        cache_key: str,
        run_id: str,
        item_id: int,
        turn: int,
        provider: str,
        model: str,
        request: dict[str, Any],
        response_text: str,
        refused: bool,
        finish_reason: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        latency_s: float | None,  # None: answered by a batch (no live pace)
        created_at: str | None = None,
        cost_usd: float | None = None,
        truncated: bool = False,
    ) -> None:
        with self.ws.transaction() as conn:
            conn.execute(
                _INSERT_CALL,
                (
                    cache_key,
                    run_id,
                    item_id,
                    turn,
                    provider,
                    model,
                    json.dumps(request, ensure_ascii=False),
                    response_text,
                    int(refused),
                    finish_reason,
                    input_tokens,
                    output_tokens,
                    latency_s,
                    created_at or clock.now(),
                    cost_usd,
                    int(truncated),
                ),
            )

    def restore_calls(self, records: Sequence[dict[str, Any]]) -> int:
        """Log calls kept in a run's journal (see ``bench.journal``), in one transaction; a
        call already logged is not added twice. Returns how many were added."""
        added = 0
        with self.ws.transaction() as conn:
            for r in records:
                if conn.execute(
                    "SELECT 1 FROM bench_calls WHERE cache_key = ? AND run_id IS ? AND item_id IS ? AND turn IS ?",
                    (r["cache_key"], r.get("run_id"), r.get("item_id"), r.get("turn")),
                ).fetchone():
                    continue
                conn.execute(
                    _INSERT_CALL,
                    (
                        r["cache_key"],
                        r.get("run_id"),
                        r.get("item_id"),
                        r.get("turn"),
                        r["provider"],
                        r["model"],
                        json.dumps(r["request"], ensure_ascii=False),
                        r["response_text"],
                        int(bool(r.get("refused"))),
                        r.get("finish_reason"),
                        r.get("input_tokens"),
                        r.get("output_tokens"),
                        r.get("latency_s"),
                        r.get("created_at") or clock.now(),
                        r.get("cost_usd"),
                        int(bool(r.get("truncated"))),
                    ),
                )
                added += 1
        return added

    def mean_latency(self, provider: str, recent: int = 200) -> float | None:
        """The mean latency of this provider's last ``recent`` logged calls (the estimate's
        pace), or None when it has none."""
        row = self.ws.db.execute(
            "SELECT AVG(latency_s) FROM (SELECT latency_s FROM bench_calls WHERE provider = ? AND latency_s IS NOT NULL "
            "ORDER BY id DESC LIMIT ?)",
            (provider, recent),
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])


_INSERT_CALL = (
    "INSERT INTO bench_calls(cache_key, run_id, item_id, turn, provider, model, request_json, response_text,"
    " refused, finish_reason, input_tokens, output_tokens, latency_s, created_at, cost_usd, truncated)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
