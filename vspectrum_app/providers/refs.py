"""Model references: ``PROVIDER:MODEL``, the one spelling of "this model at that provider" that
the benchmark, persona sessions, manifests and the window share. Split at the first ':', since
model names may hold ':' themselves (Ollama's ``llama3:8b``)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from vspectrum_app.core.errors import UserError


class ModelRefError(UserError):
    """Not a model reference; the message says how to write one."""


@dataclass(frozen=True)
class ModelRef:
    provider: str
    model: str

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}"

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """``PROVIDER:MODEL``; anything else raises ModelRefError."""
        provider, sep, model = text.partition(":")
        if not sep or not provider or not model:
            raise ModelRefError(f"expected PROVIDER:MODEL (or a model name with --provider NAME), got {text!r}")
        return cls(provider, model)


def split_label(label: str) -> tuple[str, str]:
    """(provider, model) of a stored ``PROVIDER:MODEL`` label (a manifest's target)."""
    provider, _, model = label.partition(":")
    return provider, model


def provider_of(label: str) -> str:
    """The provider's name in a stored ``PROVIDER:MODEL`` label."""
    return split_label(label)[0]


def parse_refs(texts: Iterable[str], provider: str | None, known: Collection[str] = ()) -> list[ModelRef]:
    """``--model`` values as references. With ``provider`` (``--provider``) a value is a model
    name there, unless it starts with a ``known`` provider's name and ':'; without it, every
    value must be PROVIDER:MODEL."""
    texts = list(texts)
    if provider is None:
        return [ModelRef.parse(t) for t in texts]
    if not texts:
        raise ModelRefError(f"--provider {provider} needs at least one --model MODEL")
    return [ModelRef.parse(t) if provider_of(t) in known and ":" in t else ModelRef(provider, t) for t in texts]
