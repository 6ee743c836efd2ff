"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions and Anthropic
messages APIs, for the real SDKs in tests and benchmarks.

Answers come from a script (a function of the request: its question, its image, the
model); faults can be injected per request: latency, 429 with Retry-After, 500, timeouts,
dropped connections, malformed bodies, refusals, rejected keys. Every request is logged.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

VALID_KEY = "sk-test-VALIDKEY0123456789abcdef"


@dataclass
class Request:
    api: str  # openai | anthropic
    model: str
    key: str | None
    body: dict[str, Any]
    question: str  # the last user message's text
    turn: int  # number of user messages so far
    image: bytes | None  # the image of the first user message, if any
    time: float = field(default_factory=time.monotonic)
    status: int = 200
    fault: str | None = None

    def image_rgb_mean(self) -> tuple[float, float, float] | None:
        if self.image is None:
            return None
        from PIL import Image, ImageStat

        return tuple(ImageStat.Stat(Image.open(io.BytesIO(self.image)).convert("RGB")).mean)


def default_answer(req: Request) -> str:
    if req.turn == 1:
        return "Yes."
    if req.turn == 2:
        return "It looks pleasant and well composed."
    return "A picture."


class FakeVLMServer:
    def __init__(
        self, answer: Callable[[Request], str] = default_answer, valid_keys=(VALID_KEY,), latency_s: float = 0.0
    ):
        self.answer = answer
        self.valid_keys = set(valid_keys)
        self.latency_s = latency_s
        self.faults: deque[tuple] = deque()  # consumed one per request, in order
        self.fault_rule: Callable[[Request], tuple | None] | None = None
        self.log: list[Request] = []
        self.models: list[str] = ["fake-vlm-large", "fake-vlm-small"]  # what GET /v1/models lists
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> "FakeVLMServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every response
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (ConnectionResetError, BrokenPipeError):
                    pass  # a client that gave up or was killed

            def do_POST(self):
                server._handle(self)

            def do_GET(self):
                server._handle_get(self)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 makes concurrent clients wait 1 s for a SYN retry

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    def inject(self, *faults: tuple) -> None:
        """Queue faults: ("429", retry_after_s), ("500",), ("timeout", seconds), ("drop",),
        ("malformed",), ("refusal",), ("policy",) (a 400 content-policy block), ("422",) (a request
        refused for good), ("latency", seconds), ("trickle", seconds) (a valid answer sent one byte
        every ``seconds``), ("huge", characters) (a valid answer of that many characters)."""
        self.faults.extend(faults)

    def requests_for(self, question_prefix: str = "") -> list[Request]:
        return [r for r in self.log if r.question.startswith(question_prefix) and r.status == 200 and not r.fault]

    # -- handling -----------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length)
        api = "anthropic" if h.path.rstrip("/").endswith("/messages") else "openai"
        # Anthropic's SDK sends x-api-key or (2.x) a bearer token; OpenAI's a bearer token.
        key = h.headers.get("x-api-key") or (h.headers.get("Authorization") or "").removeprefix("Bearer ") or None
        try:
            body = json.loads(raw)
        except ValueError:
            return self._send(h, 400, {"error": {"message": "invalid JSON"}})
        req = _parse(api, key, body)
        with self._lock:
            self.log.append(req)
            fault = self.faults.popleft() if self.faults else (self.fault_rule(req) if self.fault_rule else None)
        if self.latency_s:
            time.sleep(self.latency_s)
        if key not in self.valid_keys:
            req.status = 401
            return self._send(h, 401, _error(api, "authentication_error", "invalid x-api-key / Incorrect API key"))
        if fault:
            req.fault = fault[0]
            kind = fault[0]
            if kind == "latency":
                time.sleep(fault[1])
                req.fault = None
            elif kind == "429":
                req.status = 429
                return self._send(
                    h, 429, _error(api, "rate_limit_error", "slow down"), headers={"retry-after": str(fault[1])}
                )
            elif kind == "500":
                req.status = 500
                return self._send(h, 500, _error(api, "api_error", "internal error"))
            elif kind == "timeout":
                time.sleep(fault[1])
                req.status = 599
                return
            elif kind == "drop":
                req.status = 599
                h.close_connection = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            elif kind == "malformed":
                req.status = 200
                payload = b'{"id": "x", "choices": [ {"message": '
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(payload)))
                h.end_headers()
                h.wfile.write(payload)
                return
            elif kind == "refusal":
                return self._send(h, 200, _refusal(api, req.model))
            elif kind == "huge":
                return self._send(h, 200, _completion(api, req.model, "Yes. " + "x" * int(fault[1])))
            elif kind == "trickle":
                return self._trickle(h, _completion(api, req.model, self.answer(req)), fault[1])
            elif kind == "policy":  # a content-policy block: HTTP 400, as OpenAI's moderation sends it
                req.status = 400
                return self._send(
                    h, 400, _error(api, "invalid_request_error", "Your request was rejected by our content_policy")
                )
            elif kind == "422":  # a request the server will never take (not retried)
                req.status = 422
                return self._send(h, 422, _error(api, "invalid_request_error", "unprocessable request"))
        text = self.answer(req)
        return self._send(h, 200, _completion(api, req.model, text))

    def _handle_get(self, h: BaseHTTPRequestHandler) -> None:
        """GET /v1/models in the OpenAI or (with an anthropic-version header) Anthropic shape."""
        if h.path.split("?")[0].rstrip("/") != "/v1/models":
            return self._send(h, 404, {"error": {"message": f"no route {h.path}"}})
        anthropic = bool(h.headers.get("anthropic-version"))
        api = "anthropic" if anthropic else "openai"
        key = h.headers.get("x-api-key") or (h.headers.get("Authorization") or "").removeprefix("Bearer ") or None
        if key not in self.valid_keys:
            return self._send(h, 401, _error(api, "authentication_error", "invalid x-api-key / Incorrect API key"))
        if anthropic:
            data = [
                {"id": m, "type": "model", "display_name": m, "created_at": "2025-01-01T00:00:00Z"} for m in self.models
            ]
            return self._send(
                h,
                200,
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                },
            )
        return self._send(
            h,
            200,
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in self.models],
            },
        )

    def _trickle(self, h, payload: dict, every_s: float) -> None:
        """Headers at once, then the body one byte every ``every_s`` (until the client leaves)."""
        data = json.dumps(payload).encode()
        try:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.flush()
            for i in range(len(data)):
                h.wfile.write(data[i : i + 1])
                h.wfile.flush()
                time.sleep(every_s)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, h, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to deliver


def _parse(api: str, key: str | None, body: dict) -> Request:
    messages = body.get("messages", [])
    users = [m for m in messages if m.get("role") == "user"]
    image = None
    question = ""
    for i, m in enumerate(users):
        content = m.get("content")
        parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        for part in parts:
            if part.get("type") == "text" and i == len(users) - 1:
                question = part.get("text", "")
            if image is None and part.get("type") == "image_url":
                image = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
            if image is None and part.get("type") == "image":
                image = base64.b64decode(part["source"]["data"])
    return Request(
        api=api, model=body.get("model", ""), key=key, body=body, question=question, turn=len(users), image=image
    )


def _error(api: str, kind: str, message: str) -> dict:
    if api == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "code": kind}}


def _completion(api: str, model: str, text: str) -> dict:
    if api == "anthropic":
        return {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": len(text.split())},
        }
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": len(text.split()), "total_tokens": 100},
    }


def _refusal(api: str, model: str) -> dict:
    if api == "anthropic":
        return {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": "refusal",
            "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 0},
        }
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "refusal": "I'm sorry, I can't help with that."},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 0, "total_tokens": 100},
    }


@pytest.fixture
def vlm_server():
    server = FakeVLMServer().start()
    yield server
    server.stop()


def main() -> None:
    """Run the server on its own (a separate process keeps its CPU out of a benchmark's):
    ``python -m tests.plugins.vlm_server --latency 0.25`` prints the base URL, then serves."""
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = FakeVLMServer(latency_s=args.latency).start()
    print(server.url, flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
    server.stop()


if __name__ == "__main__":
    main()
