"""The wheel a user would `pip install`: built from this checkout, installed into a fresh
venv outside it, and used from there (resources ship inside the package, one version)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.plugins.library import make_image_bytes

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, ROOT])
    (built,) = out.glob("vspectrum_app-*.whl")
    return built


def test_wheel_lists_every_package_and_ships_the_resources(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packages = {
        str(p.parent.relative_to(ROOT)).replace(os.sep, ".") for p in (ROOT / "vspectrum_app").rglob("__init__.py")
    }
    shipped = {n.rsplit("/", 1)[0].replace("/", ".") for n in names if n.endswith("/__init__.py")}
    assert packages <= shipped, f"add to [tool.setuptools] packages in pyproject.toml: {packages - shipped}"
    resources = sorted(
        str(p.relative_to(ROOT / "resources")).replace(os.sep, "/")
        for p in (ROOT / "resources").rglob("*")
        if p.is_file()
    )
    assert resources and all(f"vspectrum_app/resources/{r}" in names for r in resources)
    import vspectrum_app

    assert wheel.name.startswith(f"vspectrum_app-{vspectrum_app.__version__}-")


def test_installed_wheel_runs_outside_the_checkout(wheel, tmp_path, tiny_clip):
    # nothing from the checkout may leak in: no PYTHONPATH (it would also show pip the
    # checkout's build metadata as an installed copy), no resources override
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VSPECTRUM_RESOURCES")}
    venv = tmp_path / "venv"
    # no pip of its own (ensurepip took 15 of the test's 60 s): this pip installs into it (--python)
    _run([sys.executable, "-m", "venv", "--without-pip", venv], env=env)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / "python"
    # The dependencies come from the test environment (no registry needed); the app itself
    # only from the wheel: a plain path line, so the checkout's editable finder is not loaded.
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=env).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # from outside the checkout: in it, a build's vspectrum_app.egg-info would pass for an install
    pip = [sys.executable, "-m", "pip", "--python", py, "--disable-pip-version-check"]
    _run([*pip, "install", "-q", "--no-deps", "--no-index", wheel], cwd=tmp_path, env=env)

    env.update(
        VSPECTRUM_DATA_DIR=str(tmp_path / "data"),
        VSPECTRUM_CONFIG_DIR=str(tmp_path / "config"),
        VSPECTRUM_WORKSPACE=str(tmp_path / "ws"),
    )
    cwd = tmp_path  # outside the checkout, so nothing can be imported from it
    where = _run(
        [py, "-c", "import vspectrum_app.core.paths as p; print(p.__file__); print(p.resources_dir())"],
        cwd=cwd,
        env=env,
    ).stdout.split()
    assert all(Path(w).is_relative_to(venv) for w in where), where
    assert "usage" in _run([bindir / "vspectrum", "--help"], cwd=cwd, env=env).stdout

    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for i in range(3):
        (pictures / f"p{i}.jpg").write_bytes(make_image_bytes(seed=i, color=(60 * i, 90, 200 - 50 * i)))
    imported = json.loads(
        _run([bindir / "vspectrum", "library", "import", pictures, "--json"], cwd=cwd, env=env).stdout
    )
    assert imported["added"] == 3, imported
    clip = [
        "--clip-model",
        tiny_clip.model,
        "--clip-config",
        tiny_clip.config,
        "--clip-checkpoint",
        tiny_clip.checkpoint,
    ]
    indexed = json.loads(_run([bindir / "vspectrum", "library", "index", "--json", *clip], cwd=cwd, env=env).stdout)
    assert indexed["embedded"] == 3, indexed
    # the shipped keyword set (a resource) answers a value search from the installed place
    hits = json.loads(
        _run(
            [bindir / "vspectrum", "library", "search", "--value", "Universalism", "-k", "2", "--json", *clip],
            cwd=cwd,
            env=env,
        ).stdout
    )
    assert hits, hits
