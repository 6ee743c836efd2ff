"""Smoke test of the real installers (`make package-test`, after `make package`).

Installs the .deb into a scratch root and the .tar.gz into a scratch home, then uses each
installed copy as a user would: the CLI imports generated screenshots, indexes them with a
small model made here, and searches; the window maps under Xvfb within 2 s and shows a new
user the welcome page (read from the line the window logs); a simulator
crawl of 3 videos stores 3 screenshots; uninstalling leaves only the user's data. Sizes and
times are printed. Needs: dpkg-deb, Xvfb, xdotool, Chromium (what `make test` installs).

    python packaging/smoke_test.py [DIST_DIR]                # Linux: .deb and .tar.gz
    python packaging/smoke_test.py [DIST_DIR] --bundle-only  # any OS: the bundle folder's CLI
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the checkout on the path for its test material (tests/plugins: the tiny CLIP model, generated
# images), the only part of tests/ a packaging script may import (docs/architecture.md)
sys.path.insert(0, str(ROOT))


def run(cmd, env=None, timeout=600, cwd=None) -> str:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"FAILED: {' '.join(map(str, cmd))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def user_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VSPECTRUM_", "PYTHON"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        HF_HUB_OFFLINE="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def is_lean(app: Path) -> bool:
    """A lean bundle carries no torch (PyInstaller puts packages under _internal/)."""
    return not any((app / d / "torch").is_dir() for d in ("_internal", "."))


def check_cli(app: Path, home: Path, model_args: list[str]) -> None:
    from tests.plugins.library import make_image_bytes

    if is_lean(app):  # nothing prepared: the bundle builds the towers from the checkpoint itself
        print("  lean bundle: no torch; the CLI builds the ONNX towers from the model's checkpoint")
    env = user_env(home)
    pictures = home / "pictures"
    pictures.mkdir(parents=True, exist_ok=True)
    for i in range(6):
        (pictures / f"shot{i}.jpg").write_bytes(make_image_bytes(seed=i, color=(40 * i, 120, 220 - 30 * i)))
    t = time.monotonic()
    imported = json.loads(run([app / "vspectrum", "library", "import", pictures, "--json"], env=env))
    assert imported["added"] == 6, imported
    indexed = json.loads(run([app / "vspectrum", "library", "index", "--json", *model_args], env=env))
    assert indexed["embedded"] == 6, indexed
    hits = json.loads(
        run([app / "vspectrum", "library", "search", "a red picture", "-k", "3", "--json", *model_args], env=env)
    )
    assert len(hits) == 3, hits
    print(f"  cli: import + index + search of 6 screenshots in {time.monotonic() - t:.1f} s")


def check_licences(path: Path) -> None:
    """The licences of the bundled parts ship with the installer (Qt's LGPL above all)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if "PySide6" not in text or "numpy" not in text:
        raise SystemExit(f"FAILED: {path} does not list the bundled parts' licences")
    print(f"  licences: {path.name}, {text.count(chr(10) + '=' * 78)} bundled parts")


def check_window(app: Path, home: Path) -> None:
    env = user_env(home)
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
    try:
        time.sleep(1)  # Xvfb's own start, before the clock starts for the app
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
        started = time.monotonic()
        gui = subprocess.Popen([app / "vspectrum-studio"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        mapped = None
        while time.monotonic() - started < 20 and gui.poll() is None:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", "Value-Spectrum Studio"],
                capture_output=True,
                text=True,
                env=env,
            )
            if found.stdout.strip():
                mapped = time.monotonic() - started
                break
            time.sleep(0.05)
        if mapped is None:
            raise SystemExit(
                f"FAILED: the window did not map\n{gui.stderr.read().decode()[-2000:] if gui.poll() is not None else ''}"
            )
        page = first_page(home, gui)
        gui.terminate()
        gui.wait(timeout=20)
        print(f"  window: mapped in {mapped:.2f} s (goal < 2 s: {'met' if mapped < 2 else 'NOT met'}), showing {page}")
        if mapped >= 2:
            raise SystemExit("FAILED: the window took 2 s or more to map")
        if page != "the welcome page":
            raise SystemExit(f"FAILED: a new user's window shows {page}, not the welcome page")
    finally:
        xvfb.terminate()


def first_page(home: Path, gui: subprocess.Popen, wait_s: float = 20) -> str:
    """What the window showed first, from the line it logs once the workspace is open
    ("... Library pane shows the welcome page")."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and gui.poll() is None:
        for log in home.rglob("vspectrum-studio.log"):
            for line in log.read_text(errors="replace").splitlines():
                if " pane shows " in line:
                    return line.split(" pane shows ", 1)[1].strip()
        time.sleep(0.1)
    return "nothing (no 'pane shows' line in the window's log)"


def check_crawl(app: Path, home: Path) -> None:
    env = user_env(home)
    before = json.loads(run([app / "vspectrum", "library", "stats", "--json"], env=env))["images"]
    t = time.monotonic()
    run([app / "vspectrum", "crawl", "--platform", "sim", "--count", "3", "--headless"], env=env, timeout=300)
    after = json.loads(run([app / "vspectrum", "library", "stats", "--json"], env=env))["images"]
    assert after - before == 3, (before, after)
    print(f"  crawl: 3 simulator videos stored in {time.monotonic() - t:.1f} s")


def leftovers(home: Path) -> list[str]:
    """What is left in the scratch home besides the user's data and our own test files."""
    # the user's data and settings, and what the user's own browser (not ours: none is
    # bundled) writes in their home when the crawler starts it
    keep = {"pictures", ".local/share/vspectrum", ".config/vspectrum", ".cache", ".pki", ".config/chromium"}
    found = []
    for p in sorted(home.rglob("*")):
        rel = p.relative_to(home).as_posix()
        if p.is_dir() or any(rel == k or rel.startswith(k + "/") for k in keep):
            continue
        found.append(rel)
    return found


def main(dist: Path, bundle_only: bool = False) -> None:
    from tests.plugins.clip import make_tiny_clip

    if bundle_only:  # Windows and macOS in CI: the bundle folder itself, CLI only
        scratch = Path(tempfile.mkdtemp(prefix="vspectrum-smoke-"))
        spec = make_tiny_clip(scratch / "model")
        check_cli(
            dist / "ValueSpectrumStudio",
            scratch / "home",
            ["--clip-model", spec.model, "--clip-config", spec.config, "--clip-checkpoint", spec.checkpoint],
        )
        print("bundle smoke test passed")
        return
    debs, tars = (
        sorted(dist.glob("value-spectrum-studio_*.deb")),
        sorted(dist.glob("ValueSpectrumStudio-*-linux-*.tar.gz")),
    )
    if not debs or not tars:
        raise SystemExit(f"no .deb / .tar.gz in {dist}: run `make package` first")
    scratch = Path(tempfile.mkdtemp(prefix="vspectrum-smoke-"))
    try:
        spec = make_tiny_clip(scratch / "model")
        model_args = ["--clip-model", spec.model, "--clip-config", spec.config, "--clip-checkpoint", spec.checkpoint]

        print(f"deb {debs[-1].name}: {debs[-1].stat().st_size / 2**20:.0f} MB")
        root = scratch / "root"
        run(["dpkg-deb", "-x", debs[-1], root])
        app = root / "opt/value-spectrum-studio/app"
        assert os.readlink(root / "usr/bin/vspectrum") == "/opt/value-spectrum-studio/app/vspectrum"
        check_licences(root / "usr/share/doc/value-spectrum-studio/copyright")
        check_window(app, scratch / "home-deb")  # first, in a new user's home: the welcome page
        check_cli(app, scratch / "home-deb", model_args)

        print(f"tar.gz {tars[-1].name}: {tars[-1].stat().st_size / 2**20:.0f} MB")
        home = scratch / "home-tar"
        home.mkdir()
        run(["tar", "-xzf", tars[-1], "-C", scratch])
        (unpacked,) = [p for p in scratch.iterdir() if p.name.startswith("ValueSpectrumStudio-") and p.is_dir()]
        check_licences(unpacked / "LICENSES.txt")
        run(["bash", unpacked / "install.sh"], env=user_env(home))
        app = home / ".local/opt/value-spectrum-studio/app"
        check_cli(app, home, model_args)
        check_crawl(app, home)
        run(["bash", home / ".local/opt/value-spectrum-studio/uninstall.sh"], env=user_env(home))
        left = leftovers(home)
        if left:
            raise SystemExit(f"FAILED: uninstall left {left}")
        print("  uninstall: only the user's data is left")
        print("package smoke test passed")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--bundle-only"]
    main(Path(args[0]) if args else ROOT / "dist", bundle_only="--bundle-only" in sys.argv)
