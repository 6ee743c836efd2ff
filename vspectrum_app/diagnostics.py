"""The text behind Help > Copy diagnostics and ``vspectrum diagnostics``: what a bug report
needs, and never a key.

Qt-free, so the window and the CLI give the same text (each passes its settings and workspace). It reports on every part (weights,
providers, prices), so it sits above them, beside the CLI, and not in core. Providers are listed with their
kind, address and models, and whether a key is set and where it comes from; the keys
themselves are never read into the text, and a last pass scrubs any that a configured address
might carry.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from vspectrum_app import __version__
from vspectrum_app.core import paths, secrets


def diagnostics_text(settings: Mapping[str, Any], workspace: Path | str | None, extra: Sequence[str] = ()) -> str:
    """``settings``: ``Settings.as_dict()``; ``workspace``: the one in use (None: none open);
    ``extra``: lines about the caller (the window adds its Qt version)."""
    lines = [
        f"Value-Spectrum Studio {__version__}",
        f"Python {platform.python_version()} ({sys.executable})",
        f"Platform {platform.platform()}",
        f"Frozen bundle: {'yes' if getattr(sys, 'frozen', False) else 'no'}",
        *extra,
        "",
        "Folders:",
    ]
    for name, get in (
        ("data", paths.data_dir),
        ("config", paths.config_dir),
        ("models", paths.models_dir),
        ("resources", paths.resources_dir),
        ("log", paths.log_dir),
    ):
        lines.append(f"  {name}: {_safe(get)}")
    lines.append(f"  workspace: {workspace or '(none open)'}")
    lines += [
        "",
        "Keys:",
        f"  {secrets.keyring_status()[1]}",
        f"  key file: {'present' if secrets.key_file().exists() else 'not used'} ({secrets.key_file()})",
    ]
    lines += ["", "Providers:", *_providers()]
    lines += ["", "CLIP model:", *_clip(settings)]
    lines += ["", f"Price table: {_safe(lambda: 'as of ' + _price_date())}"]
    return secrets.redact("\n".join(lines), *_known_keys()) + "\n"


def _providers() -> list[str]:
    from vspectrum_app.providers.config import ProviderError, ProviderStore

    try:
        providers = ProviderStore().all()
    except ProviderError as exc:
        return [f"  {exc}"]
    if not providers:
        return ["  none configured"]
    out = []
    for p in providers:
        status = _safe(lambda: secrets.key_status(p.name, p.kind))  # called at once: no late binding
        key = (
            (f"key set ({status.source})" if status.is_set else "no key")
            if isinstance(status, secrets.KeyStatus)
            else status
        )
        out.append(
            f"  {p.name}: {p.kind}, {p.shown_base_url or 'default address'}, "
            f"models {', '.join(p.models) or 'none'}, {p.concurrency} parallel, "
            f"{p.requests_per_minute}/min, {key}"
        )
    return out


def _clip(s: Mapping[str, Any]) -> list[str]:
    from vspectrum_app.encoders import weights

    if s.get("clip_config") or s.get("clip_checkpoint"):
        return [f"  local: config {s.get('clip_config') or '-'}, checkpoint {s.get('clip_checkpoint') or '-'}"]
    model, tag = s.get("clip_model"), s.get("clip_pretrained")
    source = weights.source_for(model, tag)
    state = weights.state(source) if source else "fetched by open_clip on first use"
    return [f"  {model} / {tag or 'no weights'}: {state}"]


def _price_date() -> str:
    from vspectrum_app.providers.prices import load_table

    return load_table().as_of


def _known_keys() -> list[str]:
    from vspectrum_app.providers.config import ProviderStore

    keys = []
    try:
        for p in ProviderStore().all():
            keys.append(secrets.get_key(p.name, p.kind))
    except Exception:
        pass
    return [k for k in keys if k]


T = TypeVar("T")


def _safe(get: Callable[[], T]) -> T | str:
    """A diagnostics line must not fail the whole text."""
    try:
        return get()
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"
