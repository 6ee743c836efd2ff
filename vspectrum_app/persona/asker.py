"""Synchronous model calls for the persona loop, which drives a (synchronous) browser.

The SDK clients are asynchronous; they live on one event loop in a worker thread, so the
browser's own loop is never nested. Calls go through the benchmark engine's retry policy
(backoff, Retry-After) and the provider's rate limit, and stay cancellable while waiting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Callable

from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.providers.clients import (
    ChatClient,
    Completion,
    Message,
    Params,
    estimate_tokens,
    make_client,
    request_tokens,
)
from vspectrum_app.providers.config import ProviderConfig
from vspectrum_app.providers.errors import ContentRefused, Retryable
from vspectrum_app.providers.ratelimit import RateLimiter
from vspectrum_app.providers.retry import with_retries

_POLL_S = 0.25  # how often a waiting call looks at the cancel flag


class ModelAsker:
    """``asker(image, prompt) -> text``: one user turn with the screenshot attached.

    A refusal flagged by the API raises ``ContentRefused``; a rejected key ``AuthFailed``;
    retryable errors are retried ``provider.max_retries`` times before they propagate.
    """

    def __init__(
        self,
        provider: ProviderConfig,
        model: str,
        params: Params | None = None,
        reporter: Reporter | None = None,
        client_factory: Callable[..., ChatClient] = make_client,
    ):
        self.provider, self.model = provider, model
        self.params = params or Params()
        self.reporter = reporter or NullReporter()
        self.calls = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="model-calls", daemon=True)
        self._thread.start()
        limiter = RateLimiter(provider.requests_per_minute, provider.tokens_per_minute)
        try:
            self._client = client_factory(provider, limiter.acquire)  # a missing key raises here
        except BaseException:
            self._stop_loop()
            raise

    def __call__(self, image: bytes, prompt: str) -> str:
        future = asyncio.run_coroutine_threadsafe(self._ask(image, prompt), self._loop)
        while True:
            try:
                return future.result(timeout=_POLL_S)
            except concurrent.futures.TimeoutError:
                if self.reporter.cancelled():
                    future.cancel()
                    self.reporter.check_cancelled()

    async def _ask(self, image: bytes, prompt: str) -> str:
        messages = [Message("user", prompt, image=image, media_type=_media_type(image))]

        async def attempt() -> Completion:
            self.calls += 1
            request_tokens.set(estimate_tokens(messages, self.params))
            return await self._client.complete(self.model, messages, self.params)

        def on_retry(exc: Retryable, delay: float, attempt_no: int) -> None:
            self.reporter.log(f"{exc} - retry {attempt_no} in {delay:.1f} s", "warning")

        completion = await with_retries(attempt, max_attempts=self.provider.max_retries, on_retry=on_retry)
        if completion.refused:
            raise ContentRefused(completion.text or f"{self.model} refused to answer")
        return completion.text

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._client.close(), self._loop).result(timeout=5)
        except Exception:  # a client that cannot close cleanly holds nothing we need
            pass
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


def _media_type(image: bytes) -> str:
    return "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
