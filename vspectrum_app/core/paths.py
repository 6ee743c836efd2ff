"""Where things live: user data and config folders, bundled resources (the default workspace,
which the settings can name, is ``settings.default_workspace``).

Every location can be overridden by an environment variable, which is how the tests keep
away from the user's real folders.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "vspectrum"


def data_dir() -> Path:
    """Per-user data: default workspace, CLIP weights, browser profiles."""
    if env := os.environ.get("VSPECTRUM_DATA_DIR"):
        return Path(env)
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


def config_dir() -> Path:
    """Per-user configuration: settings.json, providers.json (never API keys)."""
    if env := os.environ.get("VSPECTRUM_CONFIG_DIR"):
        return Path(env)
    import platformdirs

    return platformdirs.user_config_path(APP_NAME)


def log_dir() -> Path:
    """The user log folder (beside the data folder when that is overridden, as in the tests)."""
    if os.environ.get("VSPECTRUM_DATA_DIR"):
        return data_dir() / "logs"
    import platformdirs

    return platformdirs.user_log_path(APP_NAME)


def models_dir() -> Path:
    return data_dir() / "models"


def resources_dir() -> Path:
    """The bundled ``resources/``: inside the package once installed from a wheel (the wheel
    maps the checkout's top-level folder to ``vspectrum_app/resources``), beside the package
    in a checkout, inside a PyInstaller bundle."""
    if env := os.environ.get("VSPECTRUM_RESOURCES"):
        return Path(env)
    if bundle := getattr(sys, "_MEIPASS", None):  # PyInstaller
        return Path(bundle) / "resources"
    from importlib.resources import files

    installed = Path(str(files("vspectrum_app"))) / "resources"
    return installed if installed.is_dir() else installed.parents[1] / "resources"


def cli_command() -> list[str]:
    """How to start the ``vspectrum`` CLI as a child process (the GUI's background jobs).

    In a PyInstaller bundle ``sys.executable`` is the GUI program itself, so the console
    program beside it is used instead of ``python -m``.
    """
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable).with_name("vspectrum.exe" if os.name == "nt" else "vspectrum")
        return [str(exe)]
    return [sys.executable, "-m", "vspectrum_app"]
