"""The Linux installer scripts on a stand-in bundle (two shell programs), so that `make test`
exercises them without the 10-minute PyInstaller build: the .deb's layout and Depends, and
install.sh / uninstall.sh in a scratch home. The real bundle is tested by `make package-test`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"


@pytest.fixture
def bundle(tmp_path) -> Path:
    app = tmp_path / "ValueSpectrumStudio"
    app.mkdir()
    for name in ("vspectrum", "vspectrum-studio"):
        (app / name).write_text(f'#!/bin/sh\necho {name} "$@"\n')
        (app / name).chmod(0o755)
    return app


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_deb_installs_the_app_on_path_with_menu_entry_and_qt_dependencies(bundle, tmp_path):
    deb = Path(
        subprocess.run(
            [LINUX / "build_deb.sh", "1.2.3", bundle, tmp_path / "out"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    assert deb.name.startswith("value-spectrum-studio_1.2.3_") and deb.exists()
    info = subprocess.run(
        ["dpkg-deb", "-f", deb, "Version", "Depends"], check=True, capture_output=True, text=True
    ).stdout
    assert "Version: 1.2.3" in info
    for lib in ("libxcb-cursor0", "libxkbcommon-x11-0", "libegl1"):
        assert lib in info
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    assert os.readlink(root / "usr/bin/vspectrum") == "/opt/value-spectrum-studio/app/vspectrum"
    assert (root / "opt/value-spectrum-studio/app/vspectrum-studio").stat().st_mode & 0o111
    desktop = (root / "usr/share/applications/vspectrum-studio.desktop").read_text()
    assert "Exec=/opt/value-spectrum-studio/app/vspectrum-studio" in desktop and "Icon=vspectrum-studio" in desktop
    assert (root / "usr/share/icons/hicolor/scalable/apps/vspectrum-studio.svg").read_bytes() == (
        ROOT / "resources/icons/app.svg"
    ).read_bytes()


def _layout(bundle: Path, tmp_path: Path) -> Path:
    """The .tar.gz's folder as build.sh lays it out."""
    out = tmp_path / "ValueSpectrumStudio-1.2.3-linux-x86_64"
    out.mkdir()
    shutil.copytree(bundle, out / "app")
    for name in ("install.sh", "uninstall.sh", "system_libs.sh", "vspectrum-studio.desktop"):
        shutil.copy(LINUX / name, out / name)
    return out


def test_install_and_uninstall_in_a_home_keep_the_users_data(bundle, tmp_path):
    unpacked = _layout(bundle, tmp_path)
    home = tmp_path / "home"
    (home / ".local/share/vspectrum/workspace").mkdir(parents=True)
    (home / ".local/share/vspectrum/workspace/catalog.sqlite").write_text("user data")
    env = {**os.environ, "HOME": str(home)}
    subprocess.run(["bash", unpacked / "install.sh"], check=True, env=env, capture_output=True)
    out = subprocess.run([home / ".local/bin/vspectrum", "--help"], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "vspectrum --help"
    assert (
        "Exec=" + str(home / ".local/opt/value-spectrum-studio/app/vspectrum-studio")
        in (home / ".local/share/applications/vspectrum-studio.desktop").read_text()
    )
    subprocess.run(
        ["bash", home / ".local/opt/value-spectrum-studio/uninstall.sh"], check=True, env=env, capture_output=True
    )
    left = sorted(p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file() or p.is_symlink())
    assert left == [".local/share/vspectrum/workspace/catalog.sqlite"]


def test_install_names_the_missing_system_libraries_in_one_sentence(bundle, tmp_path):
    unpacked = _layout(bundle, tmp_path)
    fake_ldconfig = tmp_path / "ldconfig"
    fake_ldconfig.write_text("#!/bin/sh\necho '\tlibGL.so.1 (libc6,x86-64) => /usr/lib/libGL.so.1'\n")
    fake_ldconfig.chmod(0o755)
    env = {**os.environ, "HOME": str(tmp_path / "home"), "LDCONFIG": str(fake_ldconfig)}
    out = subprocess.run(["bash", unpacked / "install.sh"], check=True, env=env, capture_output=True, text=True).stdout
    (sentence,) = [line for line in out.splitlines() if "sudo apt install" in line]
    assert "libxcb-cursor0" in sentence and "libegl1" in sentence and "libgl1 " not in sentence + " "


def test_licence_file_lists_what_is_bundled_with_its_licence_text(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import licenses
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    out = tmp_path / "LICENSES.txt"
    assert licenses.write(out, {"numpy", "PySide6", "hnswlib"}) == 3
    text = out.read_text()
    assert text.startswith("Value-Spectrum Studio is released under the MIT licence.")
    assert "PySide6_Essentials 6.11.3: LGPL-3.0-only" in text
    assert "Copyright (c) 2005-" in text  # numpy's own LICENSE.txt, reproduced
    assert "pytest" not in text.lower()  # not bundled: not listed
