"""The test server of ``vlm_server`` plus the two batch APIs, for the real SDKs:
OpenAI's Files and Batches (/v1/files, /v1/batches, /v1/files/ID/content) and Anthropic's
Message Batches (/v1/messages/batches, its retrieve and its results JSONL).

A batch moves one state per retrieve (OpenAI: validating, in_progress, finalizing,
completed; Anthropic: in_progress, ended) unless ``hold`` keeps it in progress. Its answers
come from the same script as live calls. ``shuffle`` returns results in another order than
submitted; ``expire_after=N`` ends the next batches "expired" with only their first N
requests answered. ``submitted`` counts every request any batch carried.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.plugins.vlm_server import FakeVLMServer, _completion, _error, _parse

OPENAI_STEPS = ("validating", "in_progress", "finalizing", "completed")
ANTHROPIC_STEPS = ("in_progress", "ended")


@dataclass
class Batch:
    id: str
    api: str
    key: str | None
    requests: list[tuple[str, dict[str, Any]]]  # (custom_id, body) as submitted
    input_file_id: str | None = None
    step: int = 0
    expire_after: int | None = None
    results: list[dict[str, Any]] = field(default_factory=list)  # made when it ends
    output_file_id: str | None = None
    error_file_id: str | None = None
    created: float = field(default_factory=time.time)


class FakeBatchServer(FakeVLMServer):
    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.hold = False
        self.shuffle = False
        self.expire_after: int | None = None
        self.batches: dict[str, Batch] = {}
        self.files: dict[str, bytes] = {}
        self.submitted: list[tuple[str, str]] = []  # (batch id, custom_id) of every request received in a batch
        self._ids = itertools.count(1)

    # -- routing ------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0].rstrip("/")
        if path in ("/v1/files", "/v1/batches", "/v1/messages/batches"):
            return self._batch_post(h, path)
        return super()._handle(h)

    def _handle_get(self, h: BaseHTTPRequestHandler) -> None:
        parts = h.path.split("?")[0].strip("/").split("/")
        if parts[:2] == ["v1", "batches"] or parts[:3] == ["v1", "messages", "batches"] or parts[:2] == ["v1", "files"]:
            return self._batch_get(h, parts)
        return super()._handle_get(h)

    def _key(self, h: BaseHTTPRequestHandler) -> str | None:
        return h.headers.get("x-api-key") or (h.headers.get("Authorization") or "").removeprefix("Bearer ") or None

    def _batch_post(self, h: BaseHTTPRequestHandler, path: str) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        api = "anthropic" if path.startswith("/v1/messages") else "openai"
        key = self._key(h)
        if key not in self.valid_keys:
            return self._send(h, 401, _error(api, "authentication_error", "invalid x-api-key / Incorrect API key"))
        if path == "/v1/files":
            content = _multipart_file(h.headers.get("Content-Type", ""), raw)
            with self._lock:
                file_id = f"file-{next(self._ids)}"
                self.files[file_id] = content
            return self._send(h, 200, _file(file_id, len(content)))
        body = json.loads(raw)
        if api == "openai":
            lines = [json.loads(x) for x in self.files[body["input_file_id"]].decode().splitlines() if x.strip()]
            requests = [(x["custom_id"], x["body"]) for x in lines]
        else:
            requests = [(r["custom_id"], r["params"]) for r in body["requests"]]
        with self._lock:
            batch_id = f"{'msgbatch' if api == 'anthropic' else 'batch'}_{next(self._ids)}"
            batch = Batch(batch_id, api, key, requests, body.get("input_file_id"), expire_after=self.expire_after)
            self.batches[batch_id] = batch
            self.submitted += [(batch_id, cid) for cid, _ in requests]
        return self._send(h, 200, self._describe(batch))

    def _batch_get(self, h: BaseHTTPRequestHandler, parts: list[str]) -> None:
        api = "anthropic" if parts[1] == "messages" else "openai"
        if self._key(h) not in self.valid_keys:
            return self._send(h, 401, _error(api, "authentication_error", "invalid x-api-key / Incorrect API key"))
        if parts[1] == "files":  # /v1/files/ID/content
            data = self.files.get(parts[2])
            if data is None:
                return self._send(h, 404, _error(api, "not_found", "no such file"))
            h.send_response(200)
            h.send_header("Content-Type", "application/octet-stream")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return None
        batch = self.batches.get(parts[3] if api == "anthropic" else parts[2])
        if batch is None:
            return self._send(h, 404, _error(api, "not_found", "no such batch"))
        if parts[-1] == "results":
            data = "".join(json.dumps(r) + "\n" for r in batch.results).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/binary")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return None
        with self._lock:
            steps = ANTHROPIC_STEPS if api == "anthropic" else OPENAI_STEPS
            if not (self.hold and steps[batch.step] == "in_progress") and batch.step < len(steps) - 1:
                batch.step += 1
                if batch.step == len(steps) - 1:
                    self._finish(batch)
        return self._send(h, 200, self._describe(batch))

    # -- answers ------------------------------------------------------------------------
    def _finish(self, batch: Batch) -> None:
        """Answer the batch's requests (the first ``expire_after`` only, when set)."""
        order = list(range(len(batch.requests)))
        answered = set(order[: batch.expire_after] if batch.expire_after is not None else order)
        if self.shuffle:
            random.Random(len(self.batches)).shuffle(order)
        ok, failed = [], []
        for n in order:
            cid, body = batch.requests[n]
            if n not in answered:
                failed.append(_expired(batch.api, cid))
                continue
            req = _parse(batch.api, batch.key, body)
            ok.append(_answer(batch.api, cid, _completion(batch.api, req.model, self.answer(req))))
        if batch.api == "anthropic":
            batch.results = ok + failed
            if self.shuffle:
                random.Random(1).shuffle(batch.results)
        else:
            batch.output_file_id, batch.error_file_id = f"file-{next(self._ids)}", f"file-{next(self._ids)}"
            self.files[batch.output_file_id] = "".join(json.dumps(r) + "\n" for r in ok).encode()
            self.files[batch.error_file_id] = "".join(json.dumps(r) + "\n" for r in failed).encode()
            batch.results = ok + failed

    def _describe(self, b: Batch) -> dict[str, Any]:
        done = b.results and b.expire_after is None
        n, ok = len(b.requests), sum(1 for r in b.results if _succeeded(r))
        if b.api == "anthropic":
            ended = ANTHROPIC_STEPS[b.step] == "ended"
            return {
                "id": b.id,
                "type": "message_batch",
                "processing_status": ANTHROPIC_STEPS[b.step],
                "request_counts": {
                    "processing": 0 if ended else n,
                    "succeeded": ok,
                    "errored": 0,
                    "canceled": 0,
                    "expired": n - ok if ended else 0,
                },
                "created_at": "2026-01-01T00:00:00Z",
                "expires_at": "2026-01-02T00:00:00Z",
                "ended_at": "2026-01-01T01:00:00Z" if ended else None,
                "archived_at": None,
                "cancel_initiated_at": None,
                "results_url": f"{self.url}/v1/messages/batches/{b.id}/results" if ended else None,
            }
        status = OPENAI_STEPS[b.step]
        if status == "completed" and b.expire_after is not None:
            status = "expired"
        return {
            "id": b.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": b.input_file_id,
            "completion_window": "24h",
            "status": status,
            "created_at": int(b.created),
            "output_file_id": b.output_file_id,
            "error_file_id": b.error_file_id,
            "request_counts": {"total": n, "completed": ok, "failed": len(b.results) - ok if b.results else 0},
            "errors": None,
            "done": done,
        }


def _succeeded(row: dict[str, Any]) -> bool:
    if "result" in row:
        return row["result"]["type"] == "succeeded"
    return row.get("error") is None


def _answer(api: str, cid: str, completion: dict[str, Any]) -> dict[str, Any]:
    if api == "anthropic":
        return {"custom_id": cid, "result": {"type": "succeeded", "message": completion}}
    return {
        "id": f"batch_req_{cid[:8]}",
        "custom_id": cid,
        "response": {"status_code": 200, "request_id": "req", "body": completion},
        "error": None,
    }


def _expired(api: str, cid: str) -> dict[str, Any]:
    if api == "anthropic":
        return {"custom_id": cid, "result": {"type": "expired"}}
    return {
        "id": f"batch_req_{cid[:8]}",
        "custom_id": cid,
        "response": None,
        "error": {"code": "batch_expired", "message": "This request could not be executed before the window expired."},
    }


def _file(file_id: str, size: int) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": int(time.time()),
        "filename": "requests.jsonl",
        "purpose": "batch",
        "status": "processed",
    }


def _multipart_file(content_type: str, raw: bytes) -> bytes:
    """The ``file`` part of a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_payload(decode=True)
    raise ValueError("no file part")


@pytest.fixture
def batch_server():
    server = FakeBatchServer().start()
    yield server
    server.stop()
