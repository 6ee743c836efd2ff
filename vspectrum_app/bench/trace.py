"""Every score traceable to its answers: the calls behind a run (``vspectrum bench export RUN
--answers FILE``) and the answers behind one score cell (the Results pane's drill-down).

A call answered from the workspace is logged once, under the run that sent it; each item
keeps the cache keys of its turns (``bench_item_calls``), so a run's export lists every call
its answers rest on, sent or cached. Items of runs older than that table fall back to the
calls the run itself sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.bench import parsing
from vspectrum_app.bench.store import RunStore
from vspectrum_app.library import catalog
from vspectrum_app.providers.config import redact_url

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

CALL_COLUMNS = (
    "run_id",
    "item_id",
    "target",
    "mode",
    "value",
    "keyword",
    "rank",
    "repeat",
    "variant",
    "turn",
    "question",
    "messages",
    "image_sha256",
    "image_path",
    "response_text",
    "answer_class",
    "parser_version",
    "refused",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "latency_s",
    "provider",
    "kind",
    "base_url",
    "model",
    "params",
    "sent_by_run",
    "created_at",
    "truncated",  # the answer was cut at providers.clients.MAX_ANSWER_CHARS
    "cost_usd",  # what the call cost (empty: no price known; 0: a free or local model)
)
TURN_NAMES = {0: "describe (model A)", 1: "like", 2: "why", 3: "describe"}


class ExportError(Exception):
    pass


def parser_version(manifest: dict[str, Any]) -> str:
    """The parser that derived the run's classes: the manifest's, else the current module's."""
    return str(manifest.get("parser_version") or getattr(parsing, "PARSER_VERSION", "1"))


def item_calls(ws: Workspace, item_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The logged calls behind each item, in turn order."""
    if not item_ids:
        return {}
    marks = ",".join("?" * len(item_ids))
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in item_ids}
    rows = ws.db.execute(
        f"SELECT l.item_id AS for_item, l.turn AS for_turn, c.* FROM bench_item_calls l JOIN bench_calls c "
        f"ON c.id = (SELECT id FROM bench_calls WHERE cache_key = l.cache_key ORDER BY id LIMIT 1) "
        f"WHERE l.item_id IN ({marks}) ORDER BY l.item_id, l.turn",
        item_ids,
    ).fetchall()
    for r in rows:
        out[r["for_item"]].append({**dict(r), "turn": r["for_turn"]})
    unlinked = [i for i, calls in out.items() if not calls]
    if unlinked:  # runs from before item links: what they sent themselves
        marks = ",".join("?" * len(unlinked))
        for r in ws.db.execute(
            f"SELECT * FROM bench_calls WHERE item_id IN ({marks}) ORDER BY item_id, turn, id", unlinked
        ):
            out[r["item_id"]].append(dict(r))
    return out


def call_rows(ws: Workspace, run_id: str) -> list[dict[str, Any]]:
    """One row per call behind the run's items (CALL_COLUMNS)."""
    store = RunStore(ws)
    manifest = store.manifest(run_id)
    version = parser_version(manifest)
    providers = manifest.get("providers", {})
    items = store.items(run_id, status=None)
    paths = {i: str(ws.image_path(sha, ext)) for i, (sha, ext) in _images(ws, {i["image_id"] for i in items}).items()}
    calls = item_calls(ws, [i["id"] for i in items])
    rows = []
    for item in items:
        for call in calls[item["id"]]:
            request = json.loads(call["request_json"])
            messages = request.get("messages", [])
            provider = providers.get(call["provider"], {})
            rows.append(
                {
                    "run_id": run_id,
                    "item_id": item["id"],
                    "target": item["target"],
                    "mode": item["mode"],
                    "value": item["value"],
                    "keyword": item["keyword"],
                    "rank": item["rank"],
                    "repeat": item["repeat"],
                    "variant": item["variant"],
                    "turn": call["turn"],
                    "question": messages[-1]["text"] if messages else "",
                    "messages": json.dumps(messages, ensure_ascii=False),
                    "image_sha256": next((m["image_sha256"] for m in messages if m.get("image_sha256")), None),
                    "image_path": paths.get(item["image_id"]) if any(m.get("image_sha256") for m in messages) else None,
                    "response_text": call["response_text"],
                    "answer_class": item["answer_class"] if call["turn"] == 1 else None,
                    "parser_version": version if call["turn"] == 1 else None,
                    "refused": bool(call["refused"]),
                    "finish_reason": call["finish_reason"],
                    "input_tokens": call["input_tokens"],
                    "output_tokens": call["output_tokens"],
                    "latency_s": call["latency_s"],
                    "provider": call["provider"],
                    "kind": request.get("kind", provider.get("kind")),
                    "base_url": redact_url(request.get("base_url", provider.get("base_url"))),
                    "model": call["model"],
                    "params": json.dumps(request.get("params", {}), sort_keys=True),
                    "sent_by_run": call["run_id"],
                    "created_at": call["created_at"],
                    "truncated": bool(call.get("truncated")),
                    "cost_usd": call.get("cost_usd"),
                }
            )
    return rows


def export_answers(ws: Workspace, run_id: str, path: Path) -> int:
    """Write every call behind the run to ``path``: CSV or JSONL by its extension. Returns
    the number of calls written."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ExportError(f"{path.name}: give a file ending in .csv or .jsonl")
    rows = call_rows(ws, run_id)
    from vspectrum_app.core.atomic import atomic_write_text

    if suffix == ".csv":
        from vspectrum_app.core.csvfile import to_text

        atomic_write_text(path, to_text(CALL_COLUMNS, ([r[c] for c in CALL_COLUMNS] for r in rows)))
    else:
        atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return len(rows)


def answers_behind_cell(
    ws: Workspace, run_id: str, target: str, value: str, mode: str = "vlm", answer_class: str | None = None
) -> list[dict[str, Any]]:
    """The answers behind one score cell (run, model, value; optionally one class): per item
    its thumbnail and image paths, keyword, rank, repeat, raw answer, class, the why and
    describe turns, and every turn's question, response and latency."""
    store = RunStore(ws)
    items = [
        i
        for i in store.scored_items(run_id)
        if i["target"] == target
        and i["value"] == value
        and i["mode"] == mode
        and (answer_class is None or i["answer_class"] == answer_class)
    ]
    calls = item_calls(ws, [i["id"] for i in items])
    shas = _images(ws, {i["image_id"] for i in items})
    out = []
    for item in items:
        sha, ext = shas.get(item["image_id"], (item["image_sha256"], "jpg"))
        turns = [
            {
                "turn": c["turn"],
                "name": TURN_NAMES.get(c["turn"], str(c["turn"])),
                "question": (json.loads(c["request_json"]).get("messages") or [{"text": ""}])[-1]["text"],
                "response": c["response_text"],
                "latency_s": c["latency_s"],
                "sent_by_run": c["run_id"],
            }
            for c in calls[item["id"]]
        ]
        out.append(
            {
                "item_id": item["id"],
                "image_id": item["image_id"],
                "image_sha256": item["image_sha256"],
                "thumbnail": str(ws.thumb_path(sha)),
                "image_path": str(ws.image_path(sha, ext)),
                "keyword": item["keyword"],
                "rank": item["rank"],
                "repeat": item["repeat"],
                "answer_class": item["answer_class"],
                "answer": item["answer1"],
                "why": item["answer2"],
                "describe": item["answer3"],
                "latency_s": sum(t["latency_s"] or 0.0 for t in turns) if turns else None,
                "turns": turns,
            }
        )
    return out


def _images(ws: Workspace, image_ids: set[int]) -> dict[int, tuple[str, str]]:
    """image id -> (sha256, extension)."""
    return {i: (f.sha256, f.ext) for i, f in catalog.image_files(ws, image_ids).items()}
