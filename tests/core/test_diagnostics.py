"""Copy diagnostics: the facts a bug report needs, never a key."""

from __future__ import annotations

from vspectrum_app.cli import main
from vspectrum_app.core import secrets
from vspectrum_app.core.settings import Settings
from vspectrum_app.diagnostics import diagnostics_text
from vspectrum_app.providers.config import ProviderConfig, ProviderStore

KEYRING_KEY = "sk-keyring-DIAGNOSTIC0123456"
FILE_KEY = "sk-ant-file-DIAGNOSTIC0123456"
ENV_KEY = "custom-env-secret-value-42"


def test_keys_never_appear(memory_keyring, monkeypatch):
    store = ProviderStore()
    store.save(ProviderConfig(name="oa", kind="openai", models=["gpt-4o"]))
    store.save(ProviderConfig(name="claude", kind="anthropic"))
    # an address that carries the key, as some gateways want
    store.save(ProviderConfig(name="gw", kind="openai-compatible", base_url=f"https://gw.test/v1?key={ENV_KEY}"))
    secrets.set_key("oa", KEYRING_KEY)
    secrets.set_key("claude", FILE_KEY, store="file")
    monkeypatch.setenv("VSPECTRUM_API_KEY_GW", ENV_KEY)
    text = diagnostics_text(Settings.load().as_dict(), None)
    for key in (KEYRING_KEY, FILE_KEY, ENV_KEY):
        assert key not in text
    assert "oa: openai" in text and "key set (keyring)" in text
    assert f"key set ({secrets.FILE_SOURCE})" in text and "key set (VSPECTRUM_API_KEY_GW)" in text
    assert "ViT-B-32 / laion2b_s34b_b79k: missing" in text
    assert "Price table: as of " in text


def test_without_keyring_or_providers(no_keyring):
    text = diagnostics_text(Settings.load().as_dict(), None)
    assert "No system keyring" in text and "none configured" in text


def test_the_cli_prints_the_windows_text_for_its_settings_and_workspace(tmp_path, capsys):
    settings = Settings.load()
    settings.update(clip_config=str(tmp_path / "m.json"), clip_checkpoint=str(tmp_path / "m.pt"))
    settings.save()
    assert main(["-w", str(tmp_path / "ws"), "diagnostics"]) == 0
    printed = capsys.readouterr().out
    assert printed == diagnostics_text(settings.as_dict(), str(tmp_path / "ws"))
    assert f"workspace: {tmp_path / 'ws'}" in printed and f"checkpoint {tmp_path / 'm.pt'}" in printed


def test_a_broken_settings_file_is_reported_not_fatal(tmp_path, capsys):
    Settings.load().path.parent.mkdir(parents=True, exist_ok=True)
    Settings.load().path.write_text("{not json")
    assert main(["diagnostics"]) == 0
    assert "Settings: " in capsys.readouterr().out
