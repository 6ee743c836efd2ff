"""Provider presets: the usual services and local servers with their default addresses, and
the models a server lists (``GET /v1/models``), read with the providers' own SDKs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vspectrum_app.core.secrets import redact
from vspectrum_app.providers.config import DEFAULT_BASE_URL, ProviderConfig

if TYPE_CHECKING:
    import anthropic
    import openai


@dataclass(frozen=True)
class Preset:
    name: str  # the provider name it suggests
    label: str  # what the combo box shows
    kind: str
    base_url: str | None
    models: tuple[str, ...]  # suggestions until the server's list is fetched
    needs_key: bool = True
    concurrency: int = 4
    requests_per_minute: int = 60

    @property
    def local(self) -> bool:
        return not self.needs_key

    def config(self, name: str | None = None) -> ProviderConfig:
        return ProviderConfig(
            name=name or self.name,
            kind=self.kind,
            base_url=self.base_url,
            models=list(self.models),
            concurrency=self.concurrency,
            requests_per_minute=self.requests_per_minute,
        )


# Local servers run one model at a time on one machine: a low concurrency, no request limit to speak of.
PRESETS: tuple[Preset, ...] = (
    Preset("openai", "OpenAI", "openai", None, ("gpt-4o", "gpt-4o-mini", "gpt-4.1-mini")),
    Preset("anthropic", "Anthropic", "anthropic", None, ("claude-sonnet-4-5", "claude-haiku-4-5")),
    Preset("gemini", "Google Gemini", "gemini", DEFAULT_BASE_URL["gemini"], ("gemini-2.5-flash", "gemini-2.5-pro")),
    Preset("ollama", "Ollama (local)", "openai-compatible", "http://localhost:11434/v1", (), False, 2, 10_000),
    Preset("lmstudio", "LM Studio (local)", "openai-compatible", "http://localhost:1234/v1", (), False, 2, 10_000),
    Preset("vllm", "vLLM (local)", "openai-compatible", "http://localhost:8000/v1", (), False, 8, 10_000),
    Preset(
        "llamacpp", "llama.cpp server (local)", "openai-compatible", "http://localhost:8080/v1", (), False, 2, 10_000
    ),
)

# where each SDK sends requests when no base URL is configured
SDK_DEFAULT_URL = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}


class ModelListError(Exception):
    """The server could not list its models; one sentence, never the key."""


def preset(name: str) -> Preset:
    for p in PRESETS:
        if p.name == name:
            return p
    raise KeyError(name)


def fetch_models(kind: str, base_url: str | None, key: str | None, timeout_s: float = 10.0) -> list[str]:
    """The model ids the server lists, sorted; ModelListError with the cause otherwise."""
    url = base_url or DEFAULT_BASE_URL.get(kind) or SDK_DEFAULT_URL[kind if kind == "anthropic" else "openai"]
    try:
        if kind == "anthropic":
            import anthropic

            client: anthropic.Anthropic | openai.OpenAI = anthropic.Anthropic(
                api_key=key or "not-set", base_url=_anthropic_root(url), timeout=timeout_s, max_retries=0
            )
        else:
            import openai

            client = openai.OpenAI(api_key=key or "not-needed", base_url=url, timeout=timeout_s, max_retries=0)
        with client:
            ids = [m.id for m in client.models.list()]
    except Exception as exc:
        raise ModelListError(_explain(exc, url, key)) from None
    return sorted({i.removeprefix("models/") for i in ids if i})


def _anthropic_root(url: str) -> str:
    """The Anthropic SDK adds /v1 itself."""
    return url.rstrip("/").removesuffix("/v1")


def _explain(exc: Exception, url: str, key: str | None) -> str:
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return f"The server at {url} refused the API key (HTTP {status}): check the key."
    if status == 404:
        return f"The server at {url} does not list its models (HTTP 404): type the model names instead."
    if status:
        return f"The server at {url} answered HTTP {status} when asked for its models; try again later."
    name = type(exc).__name__
    if "Connection" in name or "Timeout" in name:
        return f"Nothing answers at {url}: is the server running, and is the address right?"
    return redact(f"Could not read the model list from {url} ({name}: {exc})", key)[:300]
