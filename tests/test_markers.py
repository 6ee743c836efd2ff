"""The markers that narrow a run (``make test-fast``) are on every test that needs them.

tests/conftest.py applies them from what a test uses: ``gui`` for qtbot/qapp (and tests/gui/),
``browser`` for the ``chromium`` fixture, ``slow`` from its measured list. These tests collect the
real suite in a child pytest and read the markers each test ends up with, so a hook that stops
applying them, a stale entry in the slow list, or a test that finds Chromium on its own (and so
escapes the ``browser`` marker) fails here.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DUMP_PLUGIN = """
import json, os

def pytest_collection_finish(session):
    rows = [{"id": item.nodeid, "fixtures": sorted(item.fixturenames),
             "marks": sorted({m.name for m in item.iter_markers()})} for item in session.items]
    with open(os.environ["MARKERS_DUMP"], "w") as out:
        json.dump(rows, out)
"""


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> list[dict]:
    """Every test of the suite with its fixtures and markers, as `pytest tests` collects them."""
    tmp = tmp_path_factory.mktemp("markers")
    (tmp / "markers_dump.py").write_text(DUMP_PLUGIN)
    dump = tmp / "collected.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]), "MARKERS_DUMP": str(dump)}
    env.pop("PYTEST_ADDOPTS", None)  # the whole suite, whatever -m or -k this run was given
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "markers_dump",
            "-p",
            "no:cacheprovider",
            "tests",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # bounds a hung collection; not a speed check
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(dump.read_text())


def test_the_collection_is_the_whole_suite(collected):
    ids = {row["id"] for row in collected}
    assert "tests/test_markers.py::test_the_collection_is_the_whole_suite" in ids
    assert len(ids) > 500  # every folder, not one


def test_every_test_that_drives_qt_is_marked_gui(collected):
    missing = [row["id"] for row in collected if {"qtbot", "qapp"} & set(row["fixtures"]) and "gui" not in row["marks"]]
    assert missing == []


def test_every_test_that_starts_chromium_is_marked_browser(collected):
    missing = [row["id"] for row in collected if "chromium" in row["fixtures"] and "browser" not in row["marks"]]
    assert missing == []
    marked = {row["id"].split("::")[0] for row in collected if "browser" in row["marks"]}
    # the suite's Chromium tests (crawler, persona sessions, selector checks) are all among them
    assert {
        "tests/crawl/test_crawl_sim.py",
        "tests/crawl/test_adapters.py",
        "tests/persona/test_persona_sim.py",
        "tests/gui/test_persona_pane.py",
    } <= marked


def test_every_entry_of_the_slow_list_marks_tests(collected):
    from tests.conftest import SLOW

    by_entry = {
        entry: [row for row in collected if entry in (row["id"].split("::")[0], row["id"].split("[")[0])]
        for entry in SLOW
    }
    assert [entry for entry, rows in by_entry.items() if not rows] == []  # renamed or deleted: re-measure
    assert all("slow" in row["marks"] for rows in by_entry.values() for row in rows)


def test_the_hook_marks_by_fixture_wherever_the_test_lives():
    from tests.conftest import markers_for

    assert markers_for("tests/library/test_x.py::test_a", ["tmp_path", "qtbot"]) == {"gui"}
    assert markers_for("tests/sim/test_x.py::test_a[1]", ["chromium"]) == {"browser"}
    assert markers_for("tests/sim/test_x.py::test_a", ["qapp", "chromium"]) == {"gui", "browser"}
    assert markers_for("tests/sim/test_x.py::test_a", ["tmp_path"]) == set()


def _looks_for_chromium(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            if name == "find_browser" or (name == "which" and "chrom" in str(first)):
                return True
    return False


def test_no_test_module_looks_for_chromium_on_its_own():
    """A test that found the browser itself would skip or run without the ``browser`` marker:
    the ``chromium`` fixture (tests/plugins/browser.py) is the one way to it."""
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path == ROOT / "tests" / "plugins" / "browser.py":
            continue
        if _looks_for_chromium(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
