"""Batch APIs over the real SDKs: OpenAI's Files + Batches and Anthropic's Message Batches.

A batch is a list of requests, each under a ``custom_id``, submitted at once and answered
within 24 hours at half the live price (``prices.BATCH_PRICE_FACTOR``). Results come back in
any order: they are returned keyed by ``custom_id``, never by position.

``BatchAPI`` is one provider's adapter: ``submit`` (returns the batch id: the caller stores it
before anything else happens), ``status`` (the provider's own state word and its counts) and
``results`` (custom_id -> a ``Completion`` or the reason that request got none).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vspectrum_app.core.secrets import get_key, redact
from vspectrum_app.providers.clients import Completion, Message, MissingKeyError, Params
from vspectrum_app.providers.errors import AuthFailed, Retryable

if TYPE_CHECKING:
    from vspectrum_app.providers.config import ProviderConfig

BATCH_KINDS = ("openai", "anthropic")  # provider kinds with a batch API
OPENAI_ENDPOINT = "/v1/chat/completions"


def supports_batch(config: ProviderConfig) -> bool:
    return config.kind in BATCH_KINDS


@dataclass
class BatchStatus:
    state: str  # the provider's word: validating, in_progress, finalizing, completed, ended, expired, failed...
    ended: bool  # no more results will come: fetch them
    total: int
    succeeded: int
    failed: int  # errored, expired or cancelled requests (known so far)
    message: str | None = None  # why a batch failed as a whole


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def openai_body(model: str, messages: list[Message], params: Params) -> dict[str, Any]:
    """The chat-completions body of one request (as ``clients.OpenAIChat`` sends it live)."""
    payload = []
    for m in messages:
        content: Any = m.text
        if m.image is not None:
            content = [
                {"type": "text", "text": m.text},
                {"type": "image_url", "image_url": {"url": f"data:{m.media_type};base64,{_b64(m.image)}"}},
            ]
        payload.append({"role": m.role, "content": content})
    body: dict[str, Any] = {"model": model, "messages": payload, "max_tokens": params.max_tokens}
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.seed is not None:
        body["seed"] = params.seed
    return body


def anthropic_body(model: str, messages: list[Message], params: Params) -> dict[str, Any]:
    """The messages body of one request (as ``clients.AnthropicChat`` sends it live)."""
    payload = []
    for m in messages:
        content: list[dict[str, Any]] = []
        if m.image is not None:
            source = {"type": "base64", "media_type": m.media_type, "data": _b64(m.image)}
            content.append({"type": "image", "source": source})
        content.append({"type": "text", "text": m.text})
        payload.append({"role": m.role, "content": content})
    body: dict[str, Any] = {"model": model, "messages": payload, "max_tokens": params.max_tokens}
    if params.temperature is not None:
        body["temperature"] = params.temperature
    return body


class BatchAPI:
    """One provider's batch endpoint. Errors come out in ``providers.errors``' terms."""

    def __init__(self, config: ProviderConfig):
        self.config = config
        key = get_key(config.name, config.kind)
        if key is None:
            raise MissingKeyError(f"no API key for provider {config.name}: run 'vspectrum keys set {config.name}'")
        self._key = key
        self._client: Any = None

    def body(self, model: str, messages: list[Message], params: Params) -> dict[str, Any]:
        raise NotImplementedError

    async def submit(self, requests: dict[str, dict[str, Any]]) -> str:
        """Create a batch of ``requests`` (custom_id -> body); its id."""
        raise NotImplementedError

    async def status(self, batch_id: str) -> BatchStatus:
        raise NotImplementedError

    async def results(self, batch_id: str) -> dict[str, Completion | str]:
        """custom_id -> its answer, or why it has none (errored, expired, cancelled)."""
        raise NotImplementedError

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    def _error(self, exc: Exception) -> Exception:
        status = getattr(exc, "status_code", None)
        text = redact(str(exc), self._key)[:300]
        where = f"{self.config.name} ({self.config.kind}) batch API"
        if status in (401, 403):
            return AuthFailed(f"key rejected by {where}: update it in Settings")
        return Retryable(f"{where}: {type(exc).__name__} {text}".strip(), unreachable=status is None)


class OpenAIBatch(BatchAPI):
    def __init__(self, config: ProviderConfig):
        super().__init__(config)
        import openai

        self._client = openai.AsyncOpenAI(
            api_key=self._key, base_url=config.effective_base_url, timeout=max(config.timeout_s, 60), max_retries=3
        )

    def body(self, model: str, messages: list[Message], params: Params) -> dict[str, Any]:
        return openai_body(model, messages, params)

    async def submit(self, requests: dict[str, dict[str, Any]]) -> str:
        lines = [
            json.dumps({"custom_id": cid, "method": "POST", "url": OPENAI_ENDPOINT, "body": body})
            for cid, body in requests.items()
        ]
        try:
            file = await self._client.files.create(
                file=("requests.jsonl", ("\n".join(lines) + "\n").encode()), purpose="batch"
            )
            batch = await self._client.batches.create(
                input_file_id=file.id, endpoint=OPENAI_ENDPOINT, completion_window="24h"
            )
        except Exception as exc:
            raise self._error(exc) from None
        return str(batch.id)

    async def status(self, batch_id: str) -> BatchStatus:
        try:
            b = await self._client.batches.retrieve(batch_id)
        except Exception as exc:
            raise self._error(exc) from None
        counts = b.request_counts
        errors = "; ".join(e.message or e.code or "" for e in (b.errors.data or [])) if b.errors else None
        return BatchStatus(
            state=b.status,
            ended=b.status in ("completed", "failed", "expired", "cancelled"),
            total=counts.total if counts else 0,
            succeeded=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
            message=errors or None,
        )

    async def results(self, batch_id: str) -> dict[str, Completion | str]:
        out: dict[str, Completion | str] = {}
        try:
            b = await self._client.batches.retrieve(batch_id)
            for file_id in (b.output_file_id, b.error_file_id):
                if file_id:
                    content = await self._client.files.content(file_id)
                    for line in content.text.splitlines():
                        if line.strip():
                            cid, answer = _openai_result(json.loads(line))
                            out[cid] = answer
        except Exception as exc:
            raise self._error(exc) from None
        return out


def _openai_result(row: dict[str, Any]) -> tuple[str, Completion | str]:
    cid = str(row["custom_id"])
    response = row.get("response") or {}
    if row.get("error") or response.get("status_code") != 200:
        error = row.get("error") or (response.get("body") or {}).get("error") or {}
        return cid, str(error.get("message") or error.get("code") or f"HTTP {response.get('status_code')}")
    body = response["body"]
    choice = body["choices"][0]
    refusal = choice["message"].get("refusal")
    usage = body.get("usage") or {}
    return cid, Completion(
        text=choice["message"].get("content") or refusal or "",
        refused=bool(refusal) or choice.get("finish_reason") == "content_filter",
        finish_reason=choice.get("finish_reason"),
        input_tokens=usage.get("prompt_tokens"),
        output_tokens=usage.get("completion_tokens"),
    )


class AnthropicBatch(BatchAPI):
    def __init__(self, config: ProviderConfig):
        super().__init__(config)
        import anthropic

        self._client = anthropic.AsyncAnthropic(
            api_key=self._key, base_url=config.effective_base_url, timeout=max(config.timeout_s, 60), max_retries=3
        )

    def body(self, model: str, messages: list[Message], params: Params) -> dict[str, Any]:
        return anthropic_body(model, messages, params)

    async def submit(self, requests: dict[str, dict[str, Any]]) -> str:
        try:
            batch = await self._client.messages.batches.create(
                requests=[{"custom_id": cid, "params": body} for cid, body in requests.items()]
            )
        except Exception as exc:
            raise self._error(exc) from None
        return str(batch.id)

    async def status(self, batch_id: str) -> BatchStatus:
        try:
            b = await self._client.messages.batches.retrieve(batch_id)
        except Exception as exc:
            raise self._error(exc) from None
        c = b.request_counts
        total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
        return BatchStatus(
            state=b.processing_status,
            ended=b.processing_status == "ended",
            total=total,
            succeeded=c.succeeded,
            failed=c.errored + c.canceled + c.expired,
        )

    async def results(self, batch_id: str) -> dict[str, Completion | str]:
        out: dict[str, Completion | str] = {}
        try:
            async for row in await self._client.messages.batches.results(batch_id):
                result = row.result
                if result.type == "succeeded":
                    m = result.message
                    out[row.custom_id] = Completion(
                        text="".join(getattr(block, "text", "") for block in m.content),
                        refused=m.stop_reason == "refusal",
                        finish_reason=m.stop_reason,
                        input_tokens=m.usage.input_tokens,
                        output_tokens=m.usage.output_tokens,
                    )
                elif result.type == "errored":
                    out[row.custom_id] = f"errored: {getattr(result.error.error, 'message', '')}".strip()
                else:
                    out[row.custom_id] = result.type  # expired, canceled
        except Exception as exc:
            raise self._error(exc) from None
        return out


def make_batch_api(config: ProviderConfig) -> BatchAPI:
    return AnthropicBatch(config) if config.kind == "anthropic" else OpenAIBatch(config)
