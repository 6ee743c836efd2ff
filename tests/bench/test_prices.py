"""The dated price table behind the estimate: never $0.00 for a priced model."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from vspectrum_app.bench.plan import estimate
from vspectrum_app.bench.prompts import PromptSet
from vspectrum_app.providers.clients import Params
from vspectrum_app.providers import prices
from vspectrum_app.providers.config import ProviderConfig, ProviderStore


def test_bundled_table_is_dated_and_finds_snapshots():
    table = prices.load_table()
    assert table.as_of[:4].isdigit()
    assert table.lookup("gpt-4o").input_per_mtok == 2.5
    assert table.lookup("gpt-4o-2024-08-06") == table.lookup("gpt-4o")
    assert table.lookup("gpt-4o-mini-2024-07-18").input_per_mtok == 0.15  # not gpt-4o's price
    assert table.lookup("claude-sonnet-4-20250514").output_per_mtok == 15.0
    assert table.lookup("models/gemini-2.5-flash").source.startswith("price table as of ")
    assert table.lookup("my-own-model") is None


def test_user_overrides_and_provider_prices_come_first():
    prices.set_user_price("gpt-4o", 1.0, 2.0)
    doc = json.loads(prices.user_prices_path().read_text())
    assert doc["models"]["gpt-4o"] == {"input": 1.0, "output": 2.0} and doc["as_of"]
    table = prices.load_table()
    assert table.lookup("gpt-4o") == prices.Price(1.0, 2.0, "your price table")
    assert table.lookup("gpt-4o-mini").source.startswith("price table")
    own = ProviderConfig(name="acme", kind="openai", price_input_per_mtok=5.0, price_output_per_mtok=6.0)
    assert prices.price_for(own, "gpt-4o", table) == prices.Price(5.0, 6.0, "provider settings")
    local = ProviderConfig(name="ollama", kind="openai-compatible", base_url="http://localhost:11434/v1")
    assert prices.price_for(local, "llava", table).input_per_mtok == 0.0
    with pytest.raises(prices.PriceError):
        prices.set_user_price("x", -1, 0)


def test_unreadable_user_table_is_one_sentence():
    prices.user_prices_path().parent.mkdir(parents=True, exist_ok=True)
    prices.user_prices_path().write_text("{not json")
    with pytest.raises(prices.PriceError, match="fix or delete it"):
        prices.load_table()


def test_estimate_prices_each_model_from_the_table():
    """Worked example: a 3-turn VLM item sends (765+30) + (765+60+3) + (765+90+3+80) = 2561 input
    and 3+80+80 = 163 output tokens. At gpt-4o's $2.50/$10.00 per million that is
    0.0080325 USD; at gpt-4o-mini's $0.15/$0.60, 0.00048195 USD. Before the table, a provider
    without prices of its own estimated $0.00."""
    store = ProviderStore()
    store.save(ProviderConfig(name="oa", kind="openai"))
    store.save(ProviderConfig(name="lab", kind="openai-compatible", base_url="https://lab.example.test/v1"))
    item = {"mode": "vlm", "image_sha256": "x", "image_id": 1, "value": "Power", "keyword": "wealth", "repeat": 0}
    items = [
        {**item, "target": "oa:gpt-4o"},
        {**item, "target": "oa:gpt-4o-mini"},
        {**item, "target": "lab:mystery-vl"},
    ]
    request = SimpleNamespace(
        describe_with=None,
        values=["Power"],
        k=1,
        keyword_set=SimpleNamespace(keywords=lambda value: ["wealth"]),
        prompts=PromptSet(),
        params=Params(),
        fresh=False,
        wordings=(),
    )
    est = estimate(items, request, store)
    assert est.per_provider["oa"]["cost_usd"] == pytest.approx(0.0080325 + 0.00048195)
    assert est.cost_usd == pytest.approx(0.0080325 + 0.00048195)
    assert est.unpriced == ["lab:mystery-vl"]
    assert "no price known for lab:mystery-vl" in est.describe()
    assert est.cost == "~$0.0085 + unknown (no price known for lab:mystery-vl: set it in Settings)"
