"""The price table for estimates: bundled ``resources/prices.json`` (dated: its "as_of"),
overridden entry by entry by ``prices.json`` in the user config folder.

A provider's own prices (set in Settings) come first; then the table, by the model's name or,
for a dated snapshot such as ``gpt-4o-2024-08-06`` or ``claude-sonnet-4-20250514``, by the
name without the date. A model found nowhere has no price, and the estimate says so rather
than showing $0.00.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Protocol
from pathlib import Path

from vspectrum_app.core.atomic import atomic_write_text
from vspectrum_app.core.paths import config_dir, resources_dir

# what may follow a table entry's name in a model id: a date, a version number, "latest"
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview(-\d{2}-\d{2,4})?)$")


# A batch (OpenAI's Batch API, Anthropic's Message Batches) costs this share of the live
# price, per provider kind; kinds not listed have no batch API (``providers.batch``).
BATCH_PRICE_FACTOR = {"openai": 0.5, "anthropic": 0.5}


class Priced(Protocol):
    """What pricing reads of a provider: a ProviderConfig, or the Settings form as typed so far."""

    @property
    def price_input_per_mtok(self) -> float: ...
    @property
    def price_output_per_mtok(self) -> float: ...
    @property
    def base_url(self) -> str | None: ...


class PriceError(Exception):
    pass


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    source: str  # where it came from, for the user: "provider settings", "price table as of ..."


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    models: dict[str, tuple[float, float]]
    overridden: frozenset[str] = frozenset()  # the entries the user's file set

    def lookup(self, model: str) -> Price | None:
        name = model.lower().removeprefix("models/")  # Gemini lists "models/gemini-..."
        candidates = [name]
        if match := _SNAPSHOT.search(name):
            candidates.append(name[: match.start()])
        for candidate in candidates:
            if candidate in self.models:
                source = "your price table" if candidate in self.overridden else f"price table as of {self.as_of}"
                return Price(*self.models[candidate], source)
        return None


def user_prices_path() -> Path:
    return config_dir() / "prices.json"


def load_table() -> PriceTable:
    bundled = _read(resources_dir() / "prices.json")
    user = _read(user_prices_path()) if user_prices_path().exists() else {"models": {}}
    models = {**_entries(bundled), **_entries(user)}
    return PriceTable(
        as_of=str(user.get("as_of") or bundled.get("as_of") or "unknown date"),
        models=models,
        overridden=frozenset(_entries(user)),
    )


def price_for(provider: Priced, model: str, table: PriceTable | None = None) -> Price | None:
    """The price of ``model`` at ``provider``, or None when unknown."""
    if provider.price_input_per_mtok or provider.price_output_per_mtok:
        return Price(provider.price_input_per_mtok, provider.price_output_per_mtok, "provider settings")
    if _is_local(provider.base_url):
        return Price(0.0, 0.0, "a server on this machine")
    return (table or load_table()).lookup(model)


def batch_price(price: Price | None, kind: str) -> Price | None:
    """``price`` at the batch discount of provider ``kind`` (unchanged for kinds without one)."""
    factor = BATCH_PRICE_FACTOR.get(kind)
    if price is None or factor is None:
        return price
    return Price(price.input_per_mtok * factor, price.output_per_mtok * factor, price.source + ", batch price")


def _is_local(url: str | None) -> bool:
    from urllib.parse import urlparse

    return bool(url) and (urlparse(url).hostname or "") in ("localhost", "127.0.0.1", "::1")


def set_user_price(model: str, input_per_mtok: float, output_per_mtok: float) -> None:
    """Add or change one entry of the user's price table (dated today)."""
    import datetime

    if input_per_mtok < 0 or output_per_mtok < 0:
        raise PriceError("prices cannot be negative")
    path = user_prices_path()
    doc = _read(path) if path.exists() else {"models": {}}
    doc.setdefault("models", {})[model.lower()] = {"input": input_per_mtok, "output": output_per_mtok}
    doc["as_of"] = datetime.date.today().isoformat()
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise PriceError(f"The price table {path} is unreadable ({exc}); fix or delete it.") from None
    if not isinstance(doc, dict):
        raise PriceError(f"The price table {path} does not hold a JSON object; fix or delete it.")
    return doc


def _entries(doc: dict[str, Any]) -> dict[str, tuple[float, float]]:
    out = {}
    for name, entry in (doc.get("models") or {}).items():
        try:
            out[name.lower()] = (float(entry["input"]), float(entry["output"]))
        except (TypeError, KeyError, ValueError):
            raise PriceError(
                f"The price of {name!r} in the price table needs numbers 'input' and 'output' (USD per million tokens)."
            ) from None
    return out


def call_cost(price: Price | None, input_tokens: int | None, output_tokens: int | None) -> float | None:
    """What one call cost in USD: 0 at a price of 0 (free), None when the price is unknown or
    the server did not say how many tokens it counted."""
    if price is None:
        return None
    if not (price.input_per_mtok or price.output_per_mtok):
        return 0.0
    if input_tokens is None or output_tokens is None:
        return None
    return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6


def format_cost(usd: float | None, unpriced: Iterable[str] = (), estimate: bool = False) -> str:
    """A cost in the one wording every part and the window use: "$0.42" ("~$0.42" for an
    estimate), "$0.00" (a price of 0: a free or local model, or nothing to send), "cost unknown"
    (no price), and what a partial sum leaves out."""
    missing = sorted(set(unpriced))
    note = f"no price known for {', '.join(missing)}: set it in Settings" if missing else ""
    if usd is None or (missing and not usd):
        return "cost unknown" + (f" ({note})" if note else "")
    text = ("~" if estimate and usd else "") + (f"${usd:.4f}" if 0 < usd < 0.01 else f"${usd:.2f}")
    return text + (f" + unknown ({note})" if note else "")
