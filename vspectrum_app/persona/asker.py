"""Synchronous model calls for the persona loop, which drives a (synchronous) browser.

Every call goes through the model-calling service (providers/service.py), the benchmark's
own: its rate limit (shared with other processes), retries, circuit breaker and cost. The
service's event loop runs in a worker thread (``BlockingService``), so the browser's own loop
is never nested, and a call stays cancellable while it waits.
"""

from __future__ import annotations

import hashlib
from typing import Any

from vspectrum_app.providers.clients import Message, MissingKeyError, Params
from vspectrum_app.providers.config import ProviderConfig
from vspectrum_app.providers.errors import ContentRefused
from vspectrum_app.providers.service import BlockingService, CallResult, ModelService, request_record


class ModelAsker:
    """``asker(image, prompt) -> text``: one user turn with the screenshot attached.

    A refusal flagged by the API raises ``ContentRefused``; a rejected key ``AuthFailed``;
    retryable errors are retried ``provider.max_retries`` times before they propagate.
    ``last_call`` is the call behind the latest answer (refusals included), as the session's
    call log stores it; ``service.spent`` what the calls cost so far.
    """

    def __init__(
        self, provider: ProviderConfig, model: str, params: Params | None = None, service: ModelService | None = None
    ):
        self.provider, self.model = provider, model
        self.params = params or Params()
        self.service = service or ModelService()  # the job's, which knows its reporter (cancel, waits)
        line = self.service.open(provider)
        if line.dead:  # a missing key: said before the session starts
            raise MissingKeyError(line.dead)
        self._blocking = BlockingService(self.service)
        self.last_call: dict[str, Any] | None = None

    @property
    def calls(self) -> int:
        return self.service.spent.calls

    def __call__(self, image: bytes, prompt: str) -> str:
        self.last_call = None
        messages = [Message("user", prompt, image=image, media_type=_media_type(image))]
        result = self._blocking.call(self.provider.name, self.model, messages, self.params)
        request = request_record(self.provider, self.model, self.params, messages, hashlib.sha256(image).hexdigest())
        self.last_call = call_row(request, result)
        if result.completion.refused:
            raise ContentRefused(result.completion.text or f"{self.model} refused to answer")
        return result.completion.text

    def close(self) -> None:
        self._blocking.close()


def call_row(request: dict[str, Any], result: CallResult) -> dict[str, Any]:
    """A call as the persona call log stores it."""
    c = result.completion
    return {
        "provider": result.provider,
        "model": result.model,
        "request": request,
        "response_text": c.text,
        "refused": c.refused,
        "truncated": c.truncated,
        "finish_reason": c.finish_reason,
        "input_tokens": c.input_tokens,
        "output_tokens": c.output_tokens,
        "latency_s": result.latency_s,
        "cost_usd": result.cost_usd,
        "created_at": result.created_at,
    }


def _media_type(image: bytes) -> str:
    return "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
