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


def _measured() -> dict[str, float]:
    """slow_tests.txt as {entry: seconds measured} (0 where a line has no number)."""
    out = {}
    for line in (Path(__file__).parent / "slow_tests.txt").read_text().splitlines():
        entry, _, note = line.partition("#")
        if entry := entry.strip():
            try:
                out[entry] = float(note.split()[0])
            except (IndexError, ValueError):
                out[entry] = 0.0
    return out


SECONDS = _measured()
SLOW = frozenset(SECONDS)


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
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: every worker sorts alike
        items[:] = longest_first(items)


# -- the suite on both cores (make test: pytest-xdist, --dist loadfile) -------------------------------------
# A file's tests run on one worker, in their order: material a module builds once (the wheel, a
# module's index, Ray) is built once and never by two workers at once. The workers take the files
# longest first (slow_tests.txt's seconds), so that no long file starts last while the other idles.
def measured_seconds(nodeid: str) -> float:
    path, _, rest = nodeid.partition("::")
    return SECONDS.get(f"{path}::{rest.split('[')[0]}", SECONDS.get(path, 0.0))


def longest_first(items: list) -> list:
    """Files by their measured seconds, longest first (stable: ties keep collection order), each
    file's tests in their own order."""
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.partition("::")[0], []).append(item)
    cost = {path: sum(measured_seconds(i.nodeid) for i in tests) for path, tests in files.items()}
    return [item for path in sorted(files, key=lambda path: -cost[path]) for item in files[path]]
