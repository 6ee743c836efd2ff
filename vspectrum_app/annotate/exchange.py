"""Moving annotators' answers between workspaces: export one annotator's answers (with
their history) to a JSON file; import merges them, identifying items by screenshot hash and
value. Re-importing is a no-op; answers whose screenshot the workspace lacks are kept aside
(``ann_unmatched``), never dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from vspectrum_app.annotate.store import AnnotationError, AnnotationStore
from vspectrum_app.core.atomic import atomic_write_text

FORMAT = "vspectrum-annotations/1"


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    unmatched: int = 0
    set_created: bool = False
    set_id: str = ""

    def describe(self) -> str:
        return (f"{self.added} answers added, {self.duplicates} already here"
                + (f", {self.unmatched} kept aside (screenshots not in this workspace)" if self.unmatched else "")
                + (" (task set created)" if self.set_created else ""))


def export_answers(ws, set_ref: str, annotator: str | None, path: Path) -> int:
    store = AnnotationStore(ws)
    ann_set = store.get_set(set_ref)
    answers = [a for a in store.history(ann_set["id"]) if annotator is None or a["annotator"] == annotator]
    doc = {"format": FORMAT,
           "set": {k: ann_set[k] for k in ("id", "name", "kind", "raters")} | {"config": json.loads(ann_set["config_json"])},
           "items": [{"image_sha256": i["image_sha256"], "value": i["value"], "video_url": i["video_url"]}
                     for i in store.items(ann_set["id"])],
           "answers": [{k: a[k] for k in ("image_sha256", "value", "annotator", "question", "answer", "comment",
                                          "seconds", "created_at", "retracted")} for a in answers]}
    atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False))
    return len(answers)


def import_answers(ws, path: Path) -> ImportReport:
    try:
        doc = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise AnnotationError(f"cannot read {path}: {exc}") from None
    if doc.get("format") != FORMAT:
        raise AnnotationError(f"{path} is not an annotation export ({FORMAT})")
    store = AnnotationStore(ws)
    set_id = doc["set"]["id"]
    report = ImportReport(set_id=set_id)
    if not ws.db.execute("SELECT 1 FROM ann_sets WHERE id = ?", (set_id,)).fetchone():
        items = []
        for item in doc["items"]:
            row = ws.db.execute("SELECT id FROM images WHERE sha256 = ?", (item["image_sha256"],)).fetchone()
            items.append({**item, "image_id": row["id"] if row else None})
        store.create_set(doc["set"]["name"], doc["set"]["kind"], doc["set"]["raters"], doc["set"]["config"], items,
                         set_id=set_id)
        report.set_created = True
    item_ids = {(i["image_sha256"], i["value"]): i["id"] for i in store.items(set_id)}
    # oldest first, so that supersession follows time, whatever order the files came in
    for a in sorted(doc["answers"], key=lambda a: a["created_at"]):
        item_id = item_ids.get((a["image_sha256"], a["value"]))
        if item_id is None:
            with ws.transaction() as conn:
                conn.execute("INSERT INTO ann_unmatched(set_id, json) VALUES (?, ?)", (set_id, json.dumps(a)))
            report.unmatched += 1
            continue
        exists = ws.db.execute("SELECT 1 FROM ann_answers WHERE item_id = ? AND annotator = ? AND question = ? "
                               "AND created_at = ?", (item_id, a["annotator"], a["question"], a["created_at"])).fetchone()
        if exists:
            report.duplicates += 1
            continue
        _insert_in_time_order(ws, item_id, a)
        report.added += 1
    return report


def _insert_in_time_order(ws, item_id: int, a: dict) -> None:
    """Insert an answer from another machine; the latest by time stays current."""
    with ws.transaction() as conn:
        later = conn.execute("SELECT 1 FROM ann_answers WHERE item_id = ? AND annotator = ? AND question = ? "
                             "AND created_at > ? AND retracted = 0", (item_id, a["annotator"], a["question"],
                                                                      a["created_at"])).fetchone()
        if not later and not a.get("retracted"):
            conn.execute("UPDATE ann_answers SET superseded = 1 WHERE item_id = ? AND annotator = ? AND question = ? "
                         "AND superseded = 0", (item_id, a["annotator"], a["question"]))
        conn.execute("INSERT INTO ann_answers(item_id, annotator, question, answer, comment, seconds, created_at, "
                     "superseded, retracted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (item_id, a["annotator"], a["question"], a["answer"], a.get("comment") or "", a.get("seconds"),
                      a["created_at"], int(bool(later)) if not a.get("retracted") else 0, int(bool(a.get("retracted")))))
