"""Provider and settings files edited by hand or by someone else: one sentence that names the
field, never a traceback (issue 14, item 4: the one schema layer)."""

import json

import pytest

from vspectrum_app.cli import main
from vspectrum_app.core.paths import config_dir
from vspectrum_app.core.settings import Settings, SettingsError
from vspectrum_app.providers.config import ProviderConfig, ProviderError, ProviderStore


def _write(name, doc):
    config_dir().mkdir(parents=True, exist_ok=True)
    path = config_dir() / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


GOOD = {"name": "lab", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "models": ["m1"]}


@pytest.mark.parametrize(
    "providers, says",
    [
        (
            [{**GOOD, "concurrency": "four"}],
            "field 'providers', item 1, field 'concurrency': expected a whole number, got 'four'",
        ),
        ([{**GOOD, "models": "m1"}], "field 'models': expected a list, got 'm1'"),
        ([{**GOOD, "kind": "openia"}], "field 'kind': expected one of openai, anthropic, gemini, openai-compatible"),
        ([{**GOOD, "price_input_per_mtok": -1}], "field 'price_input_per_mtok': expected a number at least 0, got -1"),
        ([GOOD, 5], "item 2: expected an object, got 5"),
        ({"lab": GOOD}, "field 'providers': expected a list, got an object"),
    ],
)
def test_a_wrong_providers_file_names_the_field(providers, says, capsys):
    path = _write("providers.json", {"providers": providers})
    with pytest.raises(ProviderError) as err:
        ProviderStore().all()
    assert str(err.value).startswith(f"{path}: field 'providers'") and says in str(err.value)
    assert str(err.value).endswith("; fix or delete it")
    assert main(["providers", "list"]) == 1
    assert says in capsys.readouterr().err


def test_unknown_provider_fields_from_a_newer_version_are_ignored():
    _write("providers.json", {"providers": [{**GOOD, "preset": "vllm"}], "version": 2})
    assert ProviderStore().all() == [ProviderConfig(**GOOD)]


@pytest.mark.parametrize(
    "doc, says",
    [
        ({"crawl_delay_s": "slow"}, "field 'crawl_delay_s': expected a number, got 'slow'"),
        ({"recent_workspaces": "/tmp/x"}, "field 'recent_workspaces': expected a list"),
        ({"clip_model": 5}, "field 'clip_model': expected text, got 5"),
        ("[1]", "expected an object, got a list"),
        ("{", "not valid JSON"),
    ],
)
def test_a_wrong_settings_file_names_the_field(doc, says):
    _write("settings.json", doc)
    with pytest.raises(SettingsError) as err:
        Settings.load()
    assert says in str(err.value) and str(err.value).endswith("fix or delete it.")


def test_a_local_checkpoint_without_a_pretrained_tag_loads_again():
    # what the Settings pane saves for a local model: no tag (null); the jobs reread it
    settings = Settings.load()
    settings.update(clip_pretrained=None, clip_config="/m/tiny.json", clip_checkpoint="/m/tiny.pt")
    settings.save()
    again = Settings.load()
    assert again.get("clip_pretrained") is None and again.get("clip_checkpoint") == "/m/tiny.pt"


def test_unknown_settings_are_kept():
    _write("settings.json", {"crawl_delay_s": 2, "future_option": [1]})
    settings = Settings.load()
    assert settings.get("crawl_delay_s") == 2 and settings.get("future_option") == [1]
