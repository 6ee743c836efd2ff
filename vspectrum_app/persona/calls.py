"""A persona session's call log as a file (``vspectrum persona export SESSION --calls FILE``):
one row per model call, with the decision (or ISQ fields) taken from its answer. CSV through
core.csvfile (formulas neutralised) or JSON Lines, chosen by the file's extension."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.core import csvfile
from vspectrum_app.core.atomic import atomic_write_text
from vspectrum_app.persona.store import PersonaSessionError, SessionStore

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

CALL_COLUMNS = (
    "session_id",
    "persona",
    "provider",
    "model",
    "trial",
    "position",
    "video_id",
    "messages",  # JSON: role, text and the screenshot's sha256 of each message
    "response_text",
    "refused",
    "truncated",
    "decision",
    "score",  # ISQ: S %
    "parsed",  # JSON: the fields parsed from the answer (ISQ: the seven answers)
    "input_tokens",
    "output_tokens",
    "latency_s",
    "cost_usd",  # empty: no price known
    "created_at",
)
FORMATS = {".csv": "csv", ".jsonl": "jsonl"}


def call_rows(ws: Workspace, session_id: str) -> list[dict[str, Any]]:
    store = SessionStore(ws)
    persona = store.config(session_id).persona.get("name", "")
    return [
        {
            "session_id": session_id,
            "persona": persona,
            "provider": c["provider"],
            "model": c["model"],
            "trial": c["trial"],
            "position": c["position"],
            "video_id": c["item_id"],
            "messages": c["request"].get("messages", []),
            "response_text": c["response_text"],
            "refused": c["refused"],
            "truncated": c["truncated"],
            "decision": c["decision"],
            "score": c["score"],
            "parsed": c["parsed"],
            "input_tokens": c["input_tokens"],
            "output_tokens": c["output_tokens"],
            "latency_s": c["latency_s"],
            "cost_usd": c["cost_usd"],
            "created_at": c["created_at"],
        }
        for c in store.calls(session_id)
    ]


def export_calls(ws: Workspace, session_id: str, path: Path) -> int:
    """Write the call log to ``path`` (.csv or .jsonl); returns the rows written."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise PersonaSessionError(f"{path.name}: the call export is written as .csv or .jsonl; name the file so")
    rows = call_rows(ws, session_id)
    if fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        flat = (
            [json.dumps(r[c], ensure_ascii=False) if c in ("messages", "parsed") else r[c] for c in CALL_COLUMNS]
            for r in rows
        )
        text = csvfile.to_text(CALL_COLUMNS, flat)
    atomic_write_text(path, text)
    return len(rows)


def describe_call(call: dict[str, Any]) -> str:
    """One call as a person reads it (the Persona pane's drill-down from a decision): the
    model, what it was asked, its raw answer, the decision taken from it, tokens, time, cost."""
    from vspectrum_app.providers.prices import format_cost

    asked = "\n".join(m.get("text", "") for m in call["request"].get("messages", []) if m.get("role") == "user")
    parsed = ", ".join(f"{k}: {v}" for k, v in (call.get("parsed") or {}).items() if v not in (None, "", [], {}))
    flags = [w for w, on in (("refused by the API", call["refused"]), ("truncated", call["truncated"])) if on]
    tokens = f"{call['input_tokens'] if call['input_tokens'] is not None else '?'} in, "
    tokens += f"{call['output_tokens'] if call['output_tokens'] is not None else '?'} out"
    return "\n".join(
        [
            f"{call['provider']}:{call['model']}, trial {call['trial'] + 1}, video {call['position'] + 1}"
            + (f" ({call['item_id']})" if call.get("item_id") else ""),
            f"Decision: {call['decision']}" + (f" (S% {call['score']:.1f})" if call.get("score") is not None else ""),
            f"Parsed: {parsed}" if parsed else "Parsed: nothing",
            "",
            "The model's raw answer" + (f" ({', '.join(flags)})" if flags else "") + ":",
            call["response_text"],
            "",
            f"Tokens: {tokens}; {call['latency_s']:.2f} s; {format_cost(call['cost_usd'])}; at {call['created_at']}",
            "",
            "Asked:",
            asked,
        ]
    )
