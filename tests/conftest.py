"""Test isolation: no test touches the user's folders, keyring or the network.

Shared fixtures live in ``tests/plugins/`` (one module per area) and are listed below.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before anything imports Qt, huggingface_hub or keyring.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

pytest_plugins = [
    "tests.plugins.library",
    "tests.plugins.clip",
    "tests.plugins.vlm_server",
    "tests.plugins.keyring_memory",
    "tests.plugins.sim",
]

PILOT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pilot"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own data and config folders; VSPECTRUM_WORKSPACE is cleared."""
    root = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("VSPECTRUM_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("VSPECTRUM_CONFIG_DIR", str(root / "config"))
    monkeypatch.delenv("VSPECTRUM_WORKSPACE", raising=False)
    yield


@pytest.fixture
def pilot_dir() -> Path:
    """The real pilot screenshots and GPT-4o answers; tests using it skip when it is absent."""
    if not PILOT_DIR.is_dir():
        pytest.skip(f"pilot data not found at {PILOT_DIR}")
    return PILOT_DIR
