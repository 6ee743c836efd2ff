"""Static checks of the whole tree, configured in pyproject.toml: the import contracts
(`lint-imports`: the layers between the app's parts), the linter and the formatter (`ruff
check`, `ruff format --check`) and the type checker (`mypy`: strict on core, library, bench,
persona and gui)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    """The tool installed beside this interpreter (the project venv), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed (it is pinned in requirements.lock)"
    return found


def _run(*cmd: str) -> subprocess.CompletedProcess:
    # this checkout first on the path, so the contracts are checked on it and not on an installed copy
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    done = _run(_tool("lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    # every contract in pyproject was checked (one the tool failed to read would pass silently)
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 8 and f"Contracts: {len(contracts)} kept, 0 broken." in done.stdout, done.stdout


def test_packaging_scripts_take_test_material_only_from_tests_plugins():
    """The rule of the perf contract, for packaging/: its scripts are no package (and the folder's
    name is an installed distribution's), so import-linter cannot read them."""
    wrong = []
    for path in sorted((ROOT / "packaging").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            wrong += [
                f"{path.relative_to(ROOT)}: {n}"
                for n in names
                if n.split(".")[0] == "tests" and n.split(".")[:2] != ["tests", "plugins"]
            ]
    assert wrong == []


def test_ruff_check_passes():
    done = _run(_tool("ruff"), "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_tree_is_formatted():
    done = _run(_tool("ruff"), "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, "run `ruff format .`:\n" + done.stdout + done.stderr


def test_mypy_passes():
    # files, strictness and the (git-ignored) incremental cache all come from pyproject.toml
    done = _run(_tool("mypy"))
    assert done.returncode == 0, done.stdout + done.stderr
    # every module of the app, gui/ included, was checked (a narrowed `files` or an exclude would pass silently)
    checked = re.search(r"no issues found in (\d+) source files", done.stdout)
    expected = list((ROOT / "vspectrum_app").rglob("*.py"))
    assert checked and int(checked.group(1)) == len(expected), done.stdout


def test_mypy_is_strict_on_the_whole_package():
    # the floor: `strict` for everything, and no override that relaxes a module of the app
    # (a weaker one would let `test_mypy_passes` pass on untyped code)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config.get("strict") is True
    ours = [
        o
        for o in config.get("overrides", [])
        for m in ([o["module"]] if isinstance(o["module"], str) else o["module"])
        if m.startswith("vspectrum_app")
    ]
    assert not ours, ours
