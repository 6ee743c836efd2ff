"""Issue 29 item 11: under a real window manager (Xvfb + openbox, as CI installs them with
`make system-deps`) the window opens with its whole frame, title bar included, on a 1366x768
screen. The app runs in a child process on that display (the test process is offscreen)."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1366, 768)

APP = r"""
import json, subprocess, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from vspectrum_app.gui import style
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.main_window import MainWindow

app = QApplication(sys.argv)
style.apply(app)
win = MainWindow(AppContext())
win.show()
ticks = []

def look():
    ticks.append(1)
    framed = win.frameGeometry() != win.geometry()
    fitting = getattr(win, "_fit_timer", None)  # the window's own fitting, done once framed
    if not (framed and not (fitting and fitting.isActive())) and len(ticks) < 200:  # 20 s at most
        return
    f, g, a = win.frameGeometry(), win.geometry(), win.screen().availableGeometry()
    print(json.dumps({
        "frame": [f.x(), f.y(), f.width(), f.height()],
        "content": [g.x(), g.y(), g.width(), g.height()],
        "available": [a.x(), a.y(), a.width(), a.height()],
        # the X server's own word on where the client area is, while the window is there
        "xwininfo": subprocess.run(["xwininfo", "-id", str(int(win.winId()))], capture_output=True, text=True).stdout,
        "extents": subprocess.run(
            ["xprop", "-id", str(int(win.winId())), "_NET_FRAME_EXTENTS"], capture_output=True, text=True
        ).stdout,
    }), flush=True)
    app.quit()

timer = QTimer()
timer.timeout.connect(look)
timer.start(100)
app.exec()
"""


def _missing(*tools: str) -> list[str]:
    return [t for t in tools if not shutil.which(t)]


def _wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.1)


@pytest.fixture
def openbox_display(tmp_path):
    """An Xvfb screen of SCREEN pixels with openbox managing it; the environment to use it."""
    missing = _missing("Xvfb", "openbox", "xwininfo", "xprop")
    if missing:
        pytest.skip(f"needs {', '.join(missing)} for a real window manager (make system-deps installs them)")
    # -displayfd: Xvfb picks a free display itself and says its number once it accepts clients (no
    # race with another X server starting, no client started before the server listens)
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    wm = None
    try:
        ready, _, _ = select.select([read_end], [], [], 60)  # bounds a hung start; not a speed check
        number = os.read(read_end, 64).decode().strip() if ready else ""
        if not number.isdigit():
            pytest.fail("Xvfb did not come up within 60 s")
        env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
        env.update(DISPLAY=f":{number}", QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))

        def wm_running() -> bool:
            nonlocal wm
            if wm is None or wm.poll() is not None:  # not started, or gave up early on a busy machine
                wm = subprocess.Popen(
                    ["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            out = subprocess.run(
                ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True, text=True
            ).stdout
            return "window id" in out

        _wait_for(wm_running, 60, "openbox")
        yield env
    finally:
        os.close(read_end)
        for proc in (wm, xvfb):
            if proc is not None:
                proc.terminate()
                proc.wait(10)


def test_the_window_and_its_frame_open_whole_on_a_1366x768_screen(openbox_display, tmp_path):
    env = {
        **openbox_display,
        "VSPECTRUM_CONFIG_DIR": str(tmp_path / "config"),  # a first start: no remembered geometry
        "VSPECTRUM_DATA_DIR": str(tmp_path / "data"),
    }
    run = subprocess.run(
        [sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    fx, fy, fw, fh = seen["frame"]
    cx, cy, cw, ch = seen["content"]
    ax, ay, aw, ah = seen["available"]
    assert (aw, ah) == SCREEN
    assert fh > ch and cy > fy, f"openbox drew no title bar: {seen}"  # a real frame, not offscreen
    assert ax <= fx and ay <= fy and fx + fw <= ax + aw and fy + fh <= ay + ah, f"frame off the screen: {seen}"
    # the same from the X server and openbox (not Qt): client area + openbox's frame extents
    info = seen["xwininfo"]
    x, y, w, h = (
        int(re.search(rf"{key}:\s+(-?\d+)", info).group(1))
        for key in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")
    )
    left, right, top, bottom = (int(n) for n in re.findall(r"\d+", seen["extents"].split("=")[-1]))
    assert top > 0, seen["extents"]
    assert x - left >= 0 and y - top >= 0, (info, seen["extents"])
    assert x + w + right <= SCREEN[0] and y + h + bottom <= SCREEN[1], (info, seen["extents"])
