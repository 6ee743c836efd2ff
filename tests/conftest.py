"""Test isolation: no test touches the user's folders, keyring or the network; and the markers
that let a run leave out the heavy tests (``make test-fast``).

Shared fixtures live in ``tests/plugins/`` (one module per area) and are listed below. They are
the suite's test material: perf/ and packaging/ may import them, nothing else in tests/
(pyproject.toml's import contracts; docs/architecture.md).
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
    "tests.plugins.browser",
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


# -- markers, applied here so that no test can forget them (tests/test_markers.py checks) -------------
# gui: the test drives Qt widgets (it asks for qtbot or qapp, or lives in tests/gui/).
# browser: it starts the real Chromium (it asks for the ``chromium`` fixture, tests/plugins/browser.py).
# slow: it is on the measured list in tests/slow_tests.txt (how it was measured is written there); a
# line is file::function (every parametrisation) or a file (every test in it).
GUI_FIXTURES = frozenset({"qtbot", "qapp"})
BROWSER_FIXTURES = frozenset({"chromium"})
SLOW = frozenset(
    entry
    for line in (Path(__file__).parent / "slow_tests.txt").read_text().splitlines()
    if (entry := line.split("#", 1)[0].strip())
)


def markers_for(nodeid: str, fixturenames) -> set[str]:
    """The markers a test gets from what it uses and where it is measured slow."""
    marks = set()
    if GUI_FIXTURES & set(fixturenames) or nodeid.startswith("tests/gui/"):
        marks.add("gui")
    if BROWSER_FIXTURES & set(fixturenames):
        marks.add("browser")
    path, _, rest = nodeid.partition("::")
    if path in SLOW or f"{path}::{rest.split('[')[0]}" in SLOW:
        marks.add("slow")
    return marks


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in sorted(markers_for(item.nodeid, item.fixturenames)):
            item.add_marker(name)
