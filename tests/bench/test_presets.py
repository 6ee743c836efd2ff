"""Provider presets and the models a server lists, read with the real SDKs."""

from __future__ import annotations

import pytest

from tests.plugins.vlm_server import VALID_KEY
from vspectrum_app.providers import presets
from vspectrum_app.providers.presets import ModelListError


def test_presets_have_the_usual_addresses():
    urls = {p.name: p.base_url for p in presets.PRESETS}
    assert urls["ollama"] == "http://localhost:11434/v1"
    assert urls["lmstudio"] == "http://localhost:1234/v1"
    assert urls["vllm"] == "http://localhost:8000/v1"
    assert urls["llamacpp"] == "http://localhost:8080/v1"
    assert {p.kind for p in presets.PRESETS} == {"openai", "anthropic", "gemini", "openai-compatible"}
    for p in presets.PRESETS:
        p.config()  # every preset makes a valid provider


@pytest.mark.parametrize("kind", ["openai-compatible", "anthropic"])
def test_models_are_read_from_the_server(vlm_server, kind):
    base = vlm_server.openai_base_url if kind != "anthropic" else vlm_server.url
    assert presets.fetch_models(kind, base, VALID_KEY) == ["fake-vlm-large", "fake-vlm-small"]


def test_refused_key_and_no_server_are_one_sentence(vlm_server):
    with pytest.raises(ModelListError, match="refused the API key") as err:
        presets.fetch_models("openai", vlm_server.openai_base_url, "sk-wrong-KEY-0123456789")
    assert "sk-wrong" not in str(err.value)
    with pytest.raises(ModelListError, match="Nothing answers at"):
        presets.fetch_models("openai-compatible", "http://127.0.0.1:9/v1", None, timeout_s=2)
