"""The providers' job as data: the window's "Test" button. ``providers.cli`` builds its options
from this class and ``gui.jobs`` starts it (core.operations)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vspectrum_app.core.operations import Operation, argument, option


@dataclass(frozen=True)
class Checked:
    ok: bool  # the provider answered
    message: str  # what happened, in one sentence


@dataclass(frozen=True, kw_only=True)
class Check(Operation):
    """One tiny call: success, or the exact cause (`vspectrum providers test`)."""

    command: ClassVar[tuple[str, ...]] = ("providers", "test")
    result_type: ClassVar[type[Checked]] = Checked
    name: str = argument()
    model: str | None = option("--model", help="model to try (default: the provider's first)")


def run(params: Check, ws: object = None, reporter: object = None) -> Checked:
    """One tiny call to the provider: whether it answered, and what happened."""
    import asyncio

    from vspectrum_app.providers.probe import probe_provider

    return Checked(*asyncio.run(probe_provider(params.name, params.model)))
