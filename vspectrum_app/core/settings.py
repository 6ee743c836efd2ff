"""User settings: a small JSON file in the config folder, written atomically.

Secrets never go here (see ``core.secrets``). Unknown keys are kept, so an older version of
the app does not drop what a newer one wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vspectrum_app.core.atomic import atomic_write_text
from vspectrum_app.core.paths import config_dir, data_dir
from vspectrum_app.core.protocol import CRAWL_DELAY_S
from vspectrum_app.core.schema import List, Num, Obj, Optional, Str, read_json

DEFAULTS: dict[str, Any] = {
    "default_workspace": None,
    # CLIP: either an open_clip model name + pretrained tag, or a config JSON + checkpoint.
    "clip_model": "ViT-B-32",
    "clip_pretrained": "laion2b_s34b_b79k",
    "clip_config": None,
    "clip_checkpoint": None,
    "clip_backend": "auto",  # torch | onnx | auto (the faster that passed its check, see encoders/backends.py)
    "clip_device": "auto",  # auto | cpu | cuda | mps (see encoders/device.py)
    "browser_executable": None,
    "crawl_delay_s": CRAWL_DELAY_S,
    "recent_workspaces": [],
}


_PATH = Optional(Str(max_len=4096))
# The known settings' types; keys this version does not know are kept as they are. No pretrained
# tag (null) is what Settings saves for a local checkpoint or random weights.
SETTINGS_SCHEMA = Obj(
    {
        "default_workspace": _PATH,
        "clip_model": Str(max_len=200),
        "clip_pretrained": Optional(Str(max_len=200)),
        "clip_config": _PATH,
        "clip_checkpoint": _PATH,
        "browser_executable": _PATH,
        "crawl_delay_s": Num(min=0, max=3600),
        "recent_workspaces": List(Str(max_len=4096), max_items=100),
    },
    extra="keep",
)


class Settings:
    def __init__(self, path: Path, values: dict[str, Any]):
        self.path = path
        self._values = values

    @classmethod
    def load(cls, path: Path | None = None) -> "Settings":
        path = Path(path) if path else config_dir() / "settings.json"
        values: dict[str, Any] = {}
        if path.exists():
            try:
                values = read_json(path, SETTINGS_SCHEMA, SettingsError, name=f"Settings file {path}")
            except SettingsError as exc:
                raise SettingsError(f"{exc}; fix or delete it.") from None
        return cls(path, values)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._values:
            return self._values[key]
        return DEFAULTS.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value

    def update(self, **values: Any) -> None:
        self._values.update(values)

    def as_dict(self) -> dict[str, Any]:
        return {**DEFAULTS, **self._values}

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self._values, indent=2, sort_keys=True) + "\n")


class SettingsError(Exception):
    pass


def default_workspace() -> Path:
    """$VSPECTRUM_WORKSPACE, else the one the settings name, else ``workspace`` in the data folder."""
    if env := os.environ.get("VSPECTRUM_WORKSPACE"):
        return Path(env)
    configured = Settings.load().get("default_workspace")
    return Path(configured) if configured else data_dir() / "workspace"
