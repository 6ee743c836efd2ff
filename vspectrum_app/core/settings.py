"""User settings: a small JSON file in the config folder, written atomically.

Secrets never go here (see ``core.secrets``). Unknown keys are kept, so an older version of
the app does not drop what a newer one wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vspectrum_app.core.atomic import atomic_write_text

DEFAULTS: dict[str, Any] = {
    "default_workspace": None,
    # CLIP: either an open_clip model name + pretrained tag, or a config JSON + checkpoint.
    "clip_model": "ViT-B-32",
    "clip_pretrained": "laion2b_s34b_b79k",
    "clip_config": None,
    "clip_checkpoint": None,
    "clip_backend": "auto",  # torch | onnx | auto (the faster that passed its check, see library/backends.py)
    "clip_device": "auto",  # auto | cpu | cuda | mps (see library/device.py)
    "browser_executable": None,
    "crawl_delay_s": 1.0,
    "recent_workspaces": [],
}


class Settings:
    def __init__(self, path: Path, values: dict[str, Any]):
        self.path = path
        self._values = values

    @classmethod
    def load(cls, path: Path | None = None) -> "Settings":
        from vspectrum_app.core.paths import config_dir

        path = Path(path) if path else config_dir() / "settings.json"
        values: dict[str, Any] = {}
        if path.exists():
            try:
                values = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise SettingsError(f"Settings file {path} is unreadable ({exc}); fix or delete it.") from exc
            if not isinstance(values, dict):
                raise SettingsError(f"Settings file {path} does not hold a JSON object; fix or delete it.")
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
