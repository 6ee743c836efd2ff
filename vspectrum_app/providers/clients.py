"""Chat clients over the real SDKs (openai, anthropic), one interface for the run engine.

Gemini and every OpenAI-compatible server (vLLM, Ollama, LM Studio, DashScope, DeepSeek)
go through the OpenAI SDK with their base URL. The SDKs' own retries are off: the engine
retries with its own policy and rate limiter, so that every attempt is counted.

Every answer is bounded by the client, under the SDK (an HTTP transport around the SDK's
own): the provider's timeout is a total deadline from the moment the request leaves to the
last byte of the answer (a server trickling bytes is cut there, as a timeout the circuit
breaker counts), a body larger than ``MAX_RESPONSE_BYTES`` is refused while it arrives, and
an answer's text is kept up to ``MAX_ANSWER_CHARS`` (longer ones are truncated and flagged).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import functools
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

from vspectrum_app.core.secrets import get_key, redact
from vspectrum_app.providers.config import ProviderConfig
from vspectrum_app.providers.errors import AuthFailed, ContentRefused, ProviderCallError, RequestRejected, Retryable

DEFAULT_MAX_TOKENS = 300
# A chat answer is a few kilobytes; these bound what one call can put into the catalog and
# its exports (an outside audit stored thirty 20 MB answers: a 1.9 GB catalog).
MAX_RESPONSE_BYTES = 1 << 20  # a larger HTTP body is refused unread beyond this (RequestRejected)
MAX_ANSWER_CHARS = 64 * 1024  # text kept of one answer; the rest is cut and ``truncated`` set


@dataclass
class Message:
    role: str  # "user" | "assistant"
    text: str
    image: bytes | None = None  # attached to a user message
    media_type: str = "image/jpeg"


@dataclass
class Params:
    temperature: float | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed}


@dataclass
class Completion:
    text: str
    refused: bool = False  # the API flagged a refusal (content filter, stop_reason "refusal")
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False  # the text was longer than MAX_ANSWER_CHARS and was cut there


class MissingKeyError(Exception):
    pass


BeforeSend = Callable[[int], Awaitable[None]]  # awaited with the request's estimated tokens

# The estimated tokens of the request being sent, set by the caller around ``complete`` so
# that the HTTP hook (which sees only bytes) can charge a tokens-per-minute limit.
request_tokens: contextvars.ContextVar[int] = contextvars.ContextVar("request_tokens", default=0)

# Rough token count of an image (a 512 px image costs ~765 tokens at OpenAI's high detail).
IMAGE_TOKENS = 765


def estimate_tokens(messages: list[Message], params: Params) -> int:
    """What a request will cost against a tokens-per-minute limit: text at ~4 characters a
    token, an image at a flat rate, and the answer's maximum length."""
    text = sum(len(m.text) for m in messages) // 4
    images = sum(IMAGE_TOKENS for m in messages if m.image is not None)
    return text + images + params.max_tokens


class ChatClient:
    """Base: subclasses implement ``_send``; errors are mapped to providers.errors.

    ``before_send`` is awaited just before each HTTP request leaves (an httpx event hook),
    after the SDK has built it: a rate limiter placed there counts what the server sees.
    """

    _client: Any  # the SDK's async client, made by the subclass

    def __init__(self, provider: ProviderConfig, api_key: str, before_send: BeforeSend | None = None):
        self.provider = provider
        self._key = api_key
        self._before_send = before_send

    def _http_client(self, sdk: Any) -> Any:
        hooks: dict[str, list[Any]] = {}
        if self._before_send is not None:
            before = self._before_send

            async def hook(request: Any) -> None:
                await before(request_tokens.get())

            hooks = {"request": [hook]}
        client = sdk.DefaultAsyncHttpxClient(event_hooks=hooks)
        # Wrapped in place rather than passed as ``transport=``: that would drop the proxies the
        # client takes from the environment (its mounts).
        deadline = self.provider.timeout_s
        client._transport = _BoundedTransport(client._transport, deadline)
        client._mounts = {k: None if t is None else _BoundedTransport(t, deadline) for k, t in client._mounts.items()}
        return client

    async def _send(self, model: str, messages: list[Message], params: Params) -> Completion:
        raise NotImplementedError

    async def complete(self, model: str, messages: list[Message], params: Params) -> Completion:
        try:
            completion = await self._send(model, messages, params)
        except Exception as exc:
            raise self._map_error(exc) from None
        if len(completion.text) > MAX_ANSWER_CHARS:
            completion.text, completion.truncated = completion.text[:MAX_ANSWER_CHARS], True
        return completion

    async def close(self) -> None:
        await self._client.close()

    def _map_error(self, exc: Exception) -> Exception:
        if isinstance(exc, ProviderCallError):
            return exc  # already in the engine's terms (an answer refused for its size)
        status = getattr(exc, "status_code", None)
        name = type(exc).__name__
        text = redact(str(exc), self._key)[:300]
        where = f"{self.provider.name} ({self.provider.kind})"
        if status in (401, 403) or name in ("AuthenticationError", "PermissionDeniedError"):
            return AuthFailed(
                f"key rejected by {where}: update it in Settings or with 'vspectrum keys set {self.provider.name}'"
            )
        if status == 429 or name == "RateLimitError":
            return Retryable(f"rate limited by {where}", retry_after=_retry_after(exc))
        if name in ("APITimeoutError", "APIConnectionError"):
            return Retryable(f"{where}: {name} {text}".strip(), unreachable=True)
        if (status is not None and status >= 500) or name == "APIResponseValidationError":
            return Retryable(f"{where}: {name} {status or ''} {text}".strip(), retry_after=_retry_after(exc))
        if name == "BadRequestError" and any(w in text.lower() for w in ("content_policy", "content policy", "safety")):
            return ContentRefused(f"{where} refused the content: {text}")
        if status is not None and 400 <= status < 500:
            return RequestRejected(f"{where} rejected the request ({status}): {text}")
        if isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)):  # malformed body
            return Retryable(f"{where}: malformed response ({name})")
        return exc


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        if "retry-after" in headers:
            return float(headers["retry-after"])
    except (TypeError, ValueError):
        return None
    return None


class _BoundedTransport:
    """Around the SDK's HTTP transport: one total deadline for the answer's headers and body,
    and a size cap on the body. A deadline passed raises the HTTP library's ReadTimeout, which
    the SDK reports as a timeout (retried, counted by the circuit breaker)."""

    def __init__(self, inner: Any, deadline_s: float, max_bytes: int = MAX_RESPONSE_BYTES):
        self.inner, self.deadline_s, self.max_bytes = inner, deadline_s, max_bytes

    async def handle_async_request(self, request: Any) -> Any:
        import httpx2

        deadline = asyncio.get_running_loop().time() + self.deadline_s
        try:
            async with asyncio.timeout_at(deadline):
                response = await self.inner.handle_async_request(request)
        except TimeoutError:
            raise httpx2.ReadTimeout(f"no answer within {self.deadline_s:g} s", request=request) from None
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            await response.aclose()
            raise _too_large(self.max_bytes)
        stream = _bounded_stream_class()(response.stream, deadline, self.deadline_s, self.max_bytes, request)
        return httpx2.Response(
            response.status_code, headers=response.headers, stream=stream, extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:  # anything else the client asks of its transport
        return getattr(self.inner, name)


def _too_large(limit: int) -> RequestRejected:
    return RequestRejected(
        f"the answer was larger than {limit // 1024} KiB and was refused unread (a chat answer is a few KiB)"
    )


@functools.cache
def _bounded_stream_class() -> type:
    """Made on first use: the HTTP library is imported only with the SDK that needs it."""
    import httpx2

    class BoundedStream(httpx2.AsyncByteStream):
        def __init__(self, inner: Any, deadline: float, deadline_s: float, max_bytes: int, request: Any):
            self.inner, self.deadline, self.deadline_s = inner, deadline, deadline_s
            self.max_bytes, self.request = max_bytes, request

        async def __aiter__(self) -> AsyncIterator[bytes]:
            chunks = self.inner.__aiter__()
            received = 0
            while True:
                try:
                    async with asyncio.timeout_at(self.deadline):
                        chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise httpx2.ReadTimeout(
                        f"the answer was not complete within {self.deadline_s:g} s", request=self.request
                    ) from None
                received += len(chunk)
                if received > self.max_bytes:
                    raise _too_large(self.max_bytes)
                yield chunk

        async def aclose(self) -> None:
            await self.inner.aclose()

    return BoundedStream


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class OpenAIChat(ChatClient):
    def __init__(self, provider: ProviderConfig, api_key: str, before_send: BeforeSend | None = None):
        super().__init__(provider, api_key, before_send)
        import openai

        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=provider.effective_base_url,
            timeout=provider.timeout_s,
            max_retries=0,
            http_client=self._http_client(openai),
        )

    async def _send(self, model: str, messages: list[Message], params: Params) -> Completion:
        payload = []
        for m in messages:
            if m.image is not None:
                content: Any = [
                    {"type": "text", "text": m.text},
                    {"type": "image_url", "image_url": {"url": f"data:{m.media_type};base64,{_b64(m.image)}"}},
                ]
            else:
                content = m.text
            payload.append({"role": m.role, "content": content})
        kwargs: dict[str, Any] = {"model": model, "messages": payload, "max_tokens": params.max_tokens}
        if params.temperature is not None:
            kwargs["temperature"] = params.temperature
        if params.seed is not None:
            kwargs["seed"] = params.seed
        # ``post`` with the plain JSON body: the resource method's per-call type transform of
        # the messages costs ~7 ms of CPU, which caps a run against a fast local server.
        from openai.types.chat import ChatCompletion

        response = await self._client.post("/chat/completions", body=kwargs, cast_to=ChatCompletion)
        choice = response.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        text = choice.message.content or refusal or ""
        usage = response.usage
        return Completion(
            text=text,
            refused=bool(refusal) or choice.finish_reason == "content_filter",
            finish_reason=choice.finish_reason,
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
        )


class AnthropicChat(ChatClient):
    def __init__(self, provider: ProviderConfig, api_key: str, before_send: BeforeSend | None = None):
        super().__init__(provider, api_key, before_send)
        import anthropic

        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=provider.effective_base_url,
            timeout=provider.timeout_s,
            max_retries=0,
            http_client=self._http_client(anthropic),
        )

    async def _send(self, model: str, messages: list[Message], params: Params) -> Completion:
        payload = []
        for m in messages:
            content: list[dict[str, Any]] = []
            if m.image is not None:
                content.append(
                    {"type": "image", "source": {"type": "base64", "media_type": m.media_type, "data": _b64(m.image)}}
                )
            content.append({"type": "text", "text": m.text})
            payload.append({"role": m.role, "content": content})
        kwargs: dict[str, Any] = {"model": model, "messages": payload, "max_tokens": params.max_tokens}
        if params.temperature is not None:
            kwargs["temperature"] = params.temperature
        response = await self._client.messages.create(**kwargs)
        text = "".join(getattr(block, "text", "") for block in response.content)
        return Completion(
            text=text,
            refused=response.stop_reason == "refusal",
            finish_reason=response.stop_reason,
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
        )


def make_client(provider: ProviderConfig, before_send: BeforeSend | None = None) -> ChatClient:
    key = get_key(provider.name, provider.kind)
    if key is None:
        if provider.kind == "openai-compatible":
            key = "not-needed"  # local servers (vLLM, Ollama) usually take any key
        else:
            from vspectrum_app.core.secrets import env_var_name

            raise MissingKeyError(
                f"no API key for provider {provider.name}: run 'vspectrum keys set {provider.name}' "
                f"or set {env_var_name(provider.name)}"
            )
    return (AnthropicChat if provider.kind == "anthropic" else OpenAIChat)(provider, key, before_send)
