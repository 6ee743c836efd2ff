"""Moving annotators' answers between workspaces: export one annotator's answers (with
their history) to a JSON file; import merges them, identifying items by screenshot hash and
value. Re-importing is a no-op; answers whose screenshot the workspace lacks are kept aside
(``ann_unmatched``), never dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.annotate.store import ANSWERS, KINDS, QUESTIONS, AnnotationError, AnnotationStore
from vspectrum_app.core import clock
from vspectrum_app.core.atomic import atomic_write_text
from vspectrum_app.core.schema import Anything, Custom, Int, List, Map, Num, Obj, Optional, Str, read_json, show
from vspectrum_app.library import catalog

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace


FORMAT = "vspectrum-annotations/1"


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    unmatched: int = 0
    set_created: bool = False
    set_id: str = ""

    def describe(self) -> str:
        return (
            f"{self.added} answers added, {self.duplicates} already here"
            + (f", {self.unmatched} kept aside (screenshots not in this workspace)" if self.unmatched else "")
            + (" (task set created)" if self.set_created else "")
        )


def export_answers(ws: Workspace, set_ref: str, annotator: str | None, path: Path) -> int:
    store = AnnotationStore(ws)
    ann_set = store.get_set(set_ref)
    answers = [a for a in store.history(ann_set["id"]) if annotator is None or a["annotator"] == annotator]
    doc = {
        "format": FORMAT,
        "set": {k: ann_set[k] for k in ("id", "name", "kind", "raters")}
        | {"config": json.loads(ann_set["config_json"]) or {}},
        "items": [
            {"image_sha256": i["image_sha256"], "value": i["value"], "video_url": i["video_url"]}
            for i in store.items(ann_set["id"])
        ],
        "answers": [
            {
                k: a[k]
                for k in (
                    "image_sha256",
                    "value",
                    "annotator",
                    "question",
                    "answer",
                    "comment",
                    "seconds",
                    "created_at",
                    "retracted",
                )
            }
            for a in answers
        ],
    }
    atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False))
    return len(answers)


def instant(text: str) -> datetime:
    """An ISO 8601 date and time as an instant in UTC. A time without an offset is taken as UTC,
    which is how the app stores every time (``core.clock.now``). Raises ValueError."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 lies before year 1 in UTC
        raise ValueError("out of range") from None


# Machines' clocks differ, but not by days: an answer dated further ahead would stay the
# annotator's current one whatever they answer later on another machine.
FUTURE_TOLERANCE = timedelta(days=1)


def _iso_time(text: str) -> str:
    """An answer's time, stored as the app stores its own (UTC, microseconds), so that times
    written on machines in different time zones compare as instants, never as strings."""
    try:
        moment = instant(text)
    except ValueError:
        raise ValueError(f"expected a date and time (ISO 8601), got {show(text)}") from None
    if moment > clock.utc() + FUTURE_TOLERANCE:
        raise ValueError(f"expected a time that has passed, got {show(text)} (more than a day ahead of this clock)")
    return moment.isoformat(timespec="microseconds")


def _stored_instant(text: str) -> datetime | None:
    try:
        return instant(text)
    except ValueError:  # not written by the app nor by an import; compared by equality only
        return None


def _flag(value: object) -> bool:
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"expected true or false, got {show(value)}")


# The export format, checked whole before anything is written: an imported answer passes the
# same rules as one given in the app (AnnotationStore.answer), so a crafted file cannot skew
# the report. Comments are short notes; 10,000 characters is far more than any needs.
MAX_COMMENT_CHARS = 10_000
_SHA256 = Str(pattern=r"[0-9a-f]{64}")
_VALUE = Str(max_len=100)
ANSWER_SCHEMA = Obj(
    {
        "image_sha256": _SHA256,
        "value": _VALUE,
        "annotator": Str(max_len=200, non_empty=True, strip=True),
        "question": Str(choices=QUESTIONS),
        "answer": Str(choices=ANSWERS),
        "comment": Optional(Str(max_len=MAX_COMMENT_CHARS)),
        "seconds": Optional(Num(min=0, max=10_000_000)),
        "created_at": Custom(Str(max_len=64), _iso_time),
        "retracted": Custom(Anything(), _flag),
    },
    required=("image_sha256", "value", "annotator", "question", "answer", "created_at"),
)
EXPORT_SCHEMA = Obj(
    {
        "format": Str(choices=(FORMAT,)),
        "set": Obj(
            {
                "id": Str(pattern=r"[A-Za-z0-9_.-]{1,64}"),
                "name": Str(max_len=200, non_empty=True),
                "kind": Str(choices=KINDS),
                "raters": Int(min=1, max=1000),
                "config": Map(Anything()),
            },
            required=("id", "name", "kind", "raters"),
        ),
        "items": List(
            Obj(
                {"image_sha256": _SHA256, "value": _VALUE, "video_url": Optional(Str(max_len=4000))},
                required=("image_sha256", "value"),
            )
        ),
        "answers": List(ANSWER_SCHEMA),
    },
    required=("format", "set", "items", "answers"),
)
_KIND_QUESTIONS = {"value": ("screenshot", "video"), "representativeness": ("representative",)}


def read_export(path: Path) -> dict[str, Any]:
    """An annotation export, checked whole; ``AnnotationError`` names the first problem."""
    doc: dict[str, Any] = read_json(path, EXPORT_SCHEMA, AnnotationError)
    kind = doc["set"]["kind"]
    for n, a in enumerate(doc["answers"], 1):
        if a["question"] not in _KIND_QUESTIONS[kind]:
            raise AnnotationError(
                f"{Path(path).name}: field 'answers', item {n}, field 'question': a {kind} task "
                f"asks {' or '.join(_KIND_QUESTIONS[kind])}, got {show(a['question'])}"
            )
    return doc


def import_answers(ws: Workspace, path: Path) -> ImportReport:
    doc = read_export(path)
    store = AnnotationStore(ws)
    set_id = doc["set"]["id"]
    report = ImportReport(set_id=set_id)
    if not ws.db.execute("SELECT 1 FROM ann_sets WHERE id = ?", (set_id,)).fetchone():
        items = []
        for item in doc["items"]:
            found = catalog.image_by_sha(ws, item["image_sha256"])
            items.append({**item, "image_id": found.id if found else None})
        store.create_set(
            doc["set"]["name"],
            doc["set"]["kind"],
            doc["set"]["raters"],
            doc["set"].get("config") or {},
            items,
            set_id=set_id,
        )
        report.set_created = True
    item_ids = {(i["image_sha256"], i["value"]): i["id"] for i in store.items(set_id)}
    # oldest first, so that supersession follows time, whatever order the files came in
    # (created_at was brought to UTC by the schema, so these are instants)
    for a in sorted(doc["answers"], key=lambda a: instant(a["created_at"])):
        item_id = item_ids.get((a["image_sha256"], a["value"]))
        if item_id is None:
            with ws.transaction() as conn:
                conn.execute("INSERT INTO ann_unmatched(set_id, json) VALUES (?, ?)", (set_id, json.dumps(a)))
            report.unmatched += 1
            continue
        if _same_instant_exists(ws, item_id, a):
            report.duplicates += 1
            continue
        _insert_in_time_order(ws, item_id, a)
        report.added += 1
    return report


def _same_instant_exists(ws: Workspace, item_id: int, a: dict[str, Any]) -> bool:
    """Whether this answer is here already: the same moment, however its time was written
    (answers imported before times were normalised may be stored with their own offset)."""
    moment = instant(a["created_at"])
    for row in ws.db.execute(
        "SELECT created_at FROM ann_answers WHERE item_id = ? AND annotator = ? AND question = ?",
        (item_id, a["annotator"], a["question"]),
    ):
        if row["created_at"] == a["created_at"] or _stored_instant(row["created_at"]) == moment:
            return True
    return False


def _insert_in_time_order(ws: Workspace, item_id: int, a: dict[str, Any]) -> None:
    """Insert an answer from another machine; the latest by time (as an instant) stays current."""
    moment = instant(a["created_at"])
    with ws.transaction() as conn:
        later = any(
            (stored := _stored_instant(row["created_at"])) is not None and stored > moment
            for row in conn.execute(
                "SELECT created_at FROM ann_answers WHERE item_id = ? AND annotator = ? AND question = ? "
                "AND retracted = 0",
                (item_id, a["annotator"], a["question"]),
            )
        )
        if not later and not a.get("retracted"):
            conn.execute(
                "UPDATE ann_answers SET superseded = 1 WHERE item_id = ? AND annotator = ? AND question = ? "
                "AND superseded = 0",
                (item_id, a["annotator"], a["question"]),
            )
        conn.execute(
            "INSERT INTO ann_answers(item_id, annotator, question, answer, comment, seconds, created_at, "
            "superseded, retracted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item_id,
                a["annotator"],
                a["question"],
                a["answer"],
                a.get("comment") or "",
                a.get("seconds"),
                a["created_at"],
                int(bool(later)) if not a.get("retracted") else 0,
                int(a.get("retracted", False)),
            ),
        )
