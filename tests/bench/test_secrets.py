"""Keys: keyring first, then the environment; a clear sentence when there is no keyring."""

import pytest

from vspectrum_app.core import secrets


def test_keyring_then_environment(memory_keyring, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert secrets.key_status("acme", "openai") == secrets.KeyStatus(False, None)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-kind-env")
    assert secrets.get_key("acme", "openai") == "sk-from-kind-env"
    monkeypatch.setenv("VSPECTRUM_API_KEY_ACME", "sk-from-own-env")
    assert secrets.key_status("acme", "openai") == secrets.KeyStatus(True, "VSPECTRUM_API_KEY_ACME")
    secrets.set_key("acme", "  sk-in-keyring \n")
    assert secrets.get_key("acme", "openai") == "sk-in-keyring"
    assert memory_keyring.store == {("vspectrum", "acme"): "sk-in-keyring"}
    assert secrets.delete_key("acme") and secrets.get_key("acme", "openai") == "sk-from-own-env"


def test_no_keyring_says_so_and_falls_back(monkeypatch):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        usable, why = secrets.keyring_status()
        assert not usable and "VSPECTRUM_API_KEY_<PROVIDER>" in why and "\n" not in why
        with pytest.raises(secrets.KeyringUnavailable, match="environment"):
            secrets.set_key("acme", "sk-abc")
        monkeypatch.setenv("VSPECTRUM_API_KEY_MY_LAB", "sk-env")
        assert secrets.get_key("my-lab") == "sk-env"
    finally:
        keyring.set_keyring(previous)


def test_redact():
    assert "sk-secret123" not in secrets.redact("bad key sk-secret123 here", "sk-secret123")
    assert (
        secrets.redact("Incorrect API key provided: sk-proj-ABCDEFGHIJ123") == "Incorrect API key provided: [redacted]"
    )
