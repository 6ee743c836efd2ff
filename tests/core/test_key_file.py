"""The opt-in key file for machines without a keyring: mode 0600, lookup order, no leaks."""

from __future__ import annotations

import os
import stat

import pytest

from vspectrum_app.core import secrets

KEY = "sk-filestore-SECRET0123456789"


def test_without_a_keyring_the_key_file_is_offered_and_used(no_keyring, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    usable, why = secrets.keyring_status()
    assert not usable and "key file" in why and "not encrypted" in why
    with pytest.raises(secrets.KeyringUnavailable):
        secrets.set_key("acme", KEY)  # the keyring is not silently replaced by a file
    assert not secrets.key_file().exists()
    secrets.set_key("acme", f"  {KEY}\n", store="file")
    path = secrets.key_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".keys-")]  # no temporary left behind
    assert secrets.get_key("acme", "openai") == KEY
    assert secrets.key_status("acme", "openai") == secrets.KeyStatus(True, secrets.FILE_SOURCE)
    monkeypatch.setenv("VSPECTRUM_API_KEY_ACME", "sk-env-wins")
    assert secrets.get_key("acme", "openai") == "sk-env-wins"
    monkeypatch.delenv("VSPECTRUM_API_KEY_ACME")
    assert secrets.delete_key("acme") and secrets.get_key("acme", "openai") is None
    assert KEY not in path.read_text()


def test_keyring_comes_before_the_file(memory_keyring):
    secrets.set_key("acme", "sk-in-file-000000", store="file")
    secrets.set_key("acme", "sk-in-keyring-0000")
    assert secrets.key_status("acme").source == "keyring"
    assert secrets.delete_key("acme")
    assert secrets.get_key("acme") is None  # removed from both


def test_an_unreadable_key_file_never_quotes_its_content(no_keyring):
    path = secrets.key_file()
    path.parent.mkdir(parents=True)
    path.write_text('{"acme": "' + KEY + '"')  # truncated JSON
    os.chmod(path, 0o600)
    with pytest.raises(secrets.SecretError) as err:
        secrets.get_key("acme")
    assert KEY not in str(err.value) and "delete it" in str(err.value)


def test_keys_set_from_the_cli_into_the_key_file(no_keyring, monkeypatch, capsys):
    import io

    from vspectrum_app.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert main(["keys", "set", "acme", "--store", "file"]) == 0
    out = capsys.readouterr()
    assert "not encrypted" in out.out and KEY not in out.out + out.err
    assert secrets.get_key("acme", "openai") == KEY
    assert stat.S_IMODE(secrets.key_file().stat().st_mode) == 0o600
