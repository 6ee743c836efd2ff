"""API keys: in the OS keyring (service ``vspectrum``), else in the environment.

Lookup order for a provider NAME of kind KIND: the keyring, then
``VSPECTRUM_API_KEY_<NAME>``, then the kind's usual variable (``OPENAI_API_KEY``, ...).
Keys are never written to a file, a log, an export, an error message or the catalog: the
functions here return them only to the code that builds an SDK client, and ``redact``
scrubs them from any text that might leave the process.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

SERVICE = "vspectrum"
KIND_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}


class KeyringUnavailable(Exception):
    pass


class SecretError(Exception):
    pass


@dataclass(frozen=True)
class KeyStatus:
    is_set: bool
    source: str | None  # "keyring", an environment variable's name, or None


def env_var_name(provider: str) -> str:
    return "VSPECTRUM_API_KEY_" + re.sub(r"[^A-Z0-9]", "_", provider.upper())


def keyring_status() -> tuple[bool, str]:
    """(usable, one sentence for the user)."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken backend configuration must not stop the app
        return False, f"The system keyring cannot be used ({type(exc).__name__}); set keys in environment variables instead."
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False, ("No system keyring is available on this machine, so keys cannot be stored; set "
                       "VSPECTRUM_API_KEY_<PROVIDER> (or OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY) "
                       "in the environment instead.")
    return True, f"Keys are stored in the system keyring ({type(backend).__name__})."


def set_key(provider: str, key: str) -> None:
    key = key.strip()
    if not key:
        raise SecretError("empty key")
    usable, why = keyring_status()
    if not usable:
        raise KeyringUnavailable(why)
    import keyring

    try:
        keyring.set_password(SERVICE, provider, key)
    except Exception as exc:
        raise KeyringUnavailable(f"The system keyring refused to store the key ({type(exc).__name__}); "
                                 f"set {env_var_name(provider)} in the environment instead.") from None


def delete_key(provider: str) -> bool:
    if not keyring_status()[0]:
        return False
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, provider)
        return True
    except PasswordDeleteError:
        return False


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
    return None, None


def redact(text: str, *secrets: str | None) -> str:
    """Remove the given keys (and anything shaped like an API key) from text."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return re.sub(r"\b(sk-(?:ant-)?[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,})", "[redacted]", text)
