"""Static checks of the whole tree, configured in pyproject.toml: the import contracts
(`lint-imports`: the layers between the app's parts) and the linter (`ruff check`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    # every contract in pyproject was checked (one dropped from the config would pass silently)
    assert "Contracts: 6 kept, 0 broken." in done.stdout, done.stdout


def test_ruff_check_passes():
    done = _run(_tool("ruff"), "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr
