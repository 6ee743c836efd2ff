"""API keys: in the OS keyring (service ``vspectrum``), else in the environment, else in an
opt-in key file.

Lookup order for a provider NAME of kind KIND: the keyring, then
``VSPECTRUM_API_KEY_<NAME>``, then the kind's usual variable (``OPENAI_API_KEY``, ...), then
the key file. The key file (``keys.json`` in the user config folder, mode 0600, NOT
encrypted) exists only where the user chose it explicitly, as command-line tools do on
machines without a keyring (headless Linux, WSL). Keys are never written to a log, an
export, an error message or the catalog: the functions here return them only to the code
that builds an SDK client, and ``redact`` scrubs them from any text that might leave the
process.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVICE = "vspectrum"
FILE_SOURCE = "key file (not encrypted)"
STORES = ("keyring", "file")
KIND_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}


class KeyringUnavailable(Exception):
    pass


class SecretError(Exception):
    pass


@dataclass(frozen=True)
class KeyStatus:
    is_set: bool
    source: str | None  # "keyring", an environment variable's name, FILE_SOURCE, or None


def env_var_name(provider: str) -> str:
    return "VSPECTRUM_API_KEY_" + re.sub(r"[^A-Z0-9]", "_", provider.upper())


def keyring_status() -> tuple[bool, str]:
    """(usable, one sentence for the user)."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken backend configuration must not stop the app
        return (
            False,
            f"The system keyring cannot be used ({type(exc).__name__}); set keys in environment variables instead.",
        )
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False, (
            "No system keyring is available on this machine: store keys in a key file readable "
            "only by you (not encrypted), or set VSPECTRUM_API_KEY_<PROVIDER> (or OPENAI_API_KEY / "
            "ANTHROPIC_API_KEY / GEMINI_API_KEY) in the environment."
        )
    return True, f"Keys are stored in the system keyring ({type(backend).__name__})."


def key_file() -> Path:
    from vspectrum_app.core.paths import config_dir

    return config_dir() / "keys.json"


def set_key(provider: str, key: str, store: str = "keyring") -> None:
    """Store a key in the keyring, or (``store="file"``, the user's explicit choice) in the
    key file."""
    key = key.strip()
    if not key:
        raise SecretError("empty key")
    if store == "file":
        keys = _read_file()
        keys[provider] = key
        _write_file(keys)
        return
    usable, why = keyring_status()
    if not usable:
        raise KeyringUnavailable(why)
    import keyring

    try:
        keyring.set_password(SERVICE, provider, key)
    except Exception as exc:
        raise KeyringUnavailable(
            f"The system keyring refused to store the key ({type(exc).__name__}); "
            f"store it in the key file or set {env_var_name(provider)} in the environment "
            f"instead."
        ) from None


def delete_key(provider: str) -> bool:
    """Remove the key from the keyring and the key file; True if one was removed."""
    removed = False
    keys = _read_file()
    if keys.pop(provider, None) is not None:
        _write_file(keys)
        removed = True
    if not keyring_status()[0]:
        return removed
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, provider)
        return True
    except PasswordDeleteError:
        return removed


def get_key(provider: str, kind: str | None = None) -> str | None:
    key, _ = _lookup(provider, kind)
    return key


def key_status(provider: str, kind: str | None = None) -> KeyStatus:
    key, source = _lookup(provider, kind)
    return KeyStatus(key is not None, source)


def _lookup(provider: str, kind: str | None) -> tuple[str | None, str | None]:
    if keyring_status()[0]:
        import keyring

        try:
            key = keyring.get_password(SERVICE, provider)
        except Exception:
            key = None
        if key:
            return key, "keyring"
    for var in (env_var_name(provider), KIND_ENV.get(kind or "")):
        if var and os.environ.get(var):
            return os.environ[var], var
    if key := _read_file().get(provider):
        return key, FILE_SOURCE
    return None, None


def _read_file() -> dict[str, str]:
    path = key_file()
    try:
        doc = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        # never quote the content: it holds keys
        raise SecretError(f"The key file {path} is unreadable; delete it and enter the keys again.") from None
    return {k: v for k, v in doc.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(doc, dict) else {}


def _write_file(keys: dict[str, str]) -> None:
    """Atomic, and readable only by the user from the first byte (the temporary file is
    created with mode 0600 before anything is written to it)."""
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(keys, f, indent=2, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def redact(text: str, *secrets: str | None) -> str:
    """Remove the given keys (and anything shaped like an API key) from text."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return re.sub(r"\b(sk-(?:ant-)?[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,})", "[redacted]", text)
