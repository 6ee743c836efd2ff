"""Provider configuration, stored in the user config folder (``providers.json``).

A provider is a named endpoint of one kind (OpenAI, Anthropic, Gemini through its
OpenAI-compatible endpoint, or any OpenAI-compatible server such as vLLM, Ollama, LM Studio,
DashScope or DeepSeek) with its models, limits and prices. Keys are not here: see
``core.secrets``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from vspectrum_app.core.atomic import atomic_write_text
from vspectrum_app.core.paths import config_dir
from vspectrum_app.core.schema import Int, List, Num, Obj, Optional, Str, read_json

KINDS = ("openai", "anthropic", "gemini", "openai-compatible")
DEFAULT_BASE_URL = {
    "openai": None,  # the SDK's default
    "anthropic": None,
    "gemini": "https://generativelanguage.googleapis.com/v1beta/openai/",
}


class ProviderError(Exception):
    pass


REDACTED = "[redacted]"
# Query (or fragment) parameters whose value is a credential: api-key, access_token, sig, ...
_SECRET_PARAM = re.compile(r"key|token|secret|passw|pwd|auth|sig|credential|session|cookie", re.I)


def redact_url(url: str | None) -> str | None:
    """An address fit to store or show: a user name and password (``user:pass@``) and the values
    of secret-looking query parameters (``?api-key=...``) become ``[redacted]``. The one function
    for every address the app stores (run manifest, call log, exports, reports) or prints
    (``providers list``, diagnostics); the request itself is sent to the address as configured."""
    if not url:
        return url
    from vspectrum_app.core.secrets import redact

    # by hand rather than urlsplit: it must take any text (and its own output) without failing
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = f"{REDACTED}@{authority.rsplit('@', 1)[1]}"
    tail, hash_, fragment = tail.partition("#")
    path, question, query = tail.partition("?")
    shown = f"{scheme}{sep}{authority}{path}{question}{_redact_params(query)}{hash_}{_redact_params(fragment)}"
    return redact(shown)


def _redact_params(query: str) -> str:
    pairs = []
    for pair in query.split("&") if query else []:
        name, eq, value = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if eq and value and _SECRET_PARAM.search(name) else pair)
    return "&".join(pairs)


@dataclass
class ProviderConfig:
    name: str
    kind: str
    base_url: str | None = None
    models: list[str] = field(default_factory=list)
    concurrency: int = 4
    requests_per_minute: int = 60
    tokens_per_minute: int | None = None
    price_input_per_mtok: float = 0.0  # USD per million input tokens, for estimates
    price_output_per_mtok: float = 0.0
    timeout_s: float = 60.0
    max_retries: int = 6

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", self.name or ""):
            raise ProviderError(f"invalid provider name {self.name!r}: letters, digits, '.', '_' and '-' only")
        if self.kind not in KINDS:
            raise ProviderError(f"unknown provider kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.kind == "openai-compatible" and not self.base_url:
            raise ProviderError(
                f"provider {self.name}: an OpenAI-compatible server needs a base URL "
                f"(e.g. http://localhost:8000/v1 for vLLM, http://localhost:11434/v1 for Ollama)"
            )
        if self.concurrency < 1 or self.requests_per_minute < 1:
            raise ProviderError(f"provider {self.name}: concurrency and requests per minute must be at least 1")

    @property
    def effective_base_url(self) -> str | None:
        """The address requests go to, credentials included: only for the client."""
        return self.base_url or DEFAULT_BASE_URL.get(self.kind)

    @property
    def shown_base_url(self) -> str | None:
        """The address as stored and shown anywhere else (``redact_url``)."""
        return redact_url(self.effective_base_url)

    def to_json(self) -> dict[str, Any]:
        """Everything, for providers.json; ``shown_json`` for anything printed or exported."""
        return asdict(self)

    def shown_json(self) -> dict[str, Any]:
        return {**asdict(self), "base_url": redact_url(self.base_url)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "ProviderConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in known})


# providers.json, checked whole when read; unknown fields (from a newer version) are ignored.
PROVIDER_SCHEMA = Obj(
    {
        "name": Str(max_len=64),
        "kind": Str(choices=KINDS),
        "base_url": Optional(Str(max_len=2000)),
        "models": List(Str(max_len=200, non_empty=True), max_items=1000),
        "concurrency": Int(min=1, max=1000),
        "requests_per_minute": Int(min=1, max=10_000_000),
        "tokens_per_minute": Optional(Int(min=1)),
        "price_input_per_mtok": Num(min=0),
        "price_output_per_mtok": Num(min=0),
        "timeout_s": Num(min=0.1, max=86_400),
        "max_retries": Int(min=0, max=100),
    },
    required=("name", "kind"),
    extra="drop",
)
PROVIDERS_FILE_SCHEMA = Obj({"providers": List(PROVIDER_SCHEMA, max_items=1000)}, extra="keep")


class ProviderStore:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else config_dir() / "providers.json"

    def all(self) -> list[ProviderConfig]:
        if not self.path.exists():
            return []
        try:
            doc = read_json(self.path, PROVIDERS_FILE_SCHEMA, ProviderError, name=str(self.path))
            return [ProviderConfig(**p) for p in doc.get("providers", [])]
        except ProviderError as exc:
            raise ProviderError(f"{exc}; fix or delete it") from None

    def get(self, name: str) -> ProviderConfig:
        for p in self.all():
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.all()) or "none yet"
        raise ProviderError(f"no provider named {name!r} (configured: {known}); add it with 'vspectrum providers add'")

    def save(self, provider: ProviderConfig) -> None:
        providers = [p for p in self.all() if p.name != provider.name] + [provider]
        self._write(providers)

    def remove(self, name: str) -> None:
        providers = self.all()
        if not any(p.name == name for p in providers):
            raise ProviderError(f"no provider named {name!r}")
        self._write([p for p in providers if p.name != name])

    def _write(self, providers: list[ProviderConfig]) -> None:
        doc = {"providers": [p.to_json() for p in sorted(providers, key=lambda p: p.name)]}
        atomic_write_text(self.path, json.dumps(doc, indent=2) + "\n")
