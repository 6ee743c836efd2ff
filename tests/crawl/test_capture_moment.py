"""The capture moment under CPU load (issue 13, item 13): the video is paused at 2.0 s of its
own clock for the screenshot, so a busy machine cannot make the picture late."""

from __future__ import annotations

import subprocess
import sys

import pytest

import io

import numpy as np
from PIL import Image

from tests.crawl.test_crawl_sim import crawl, sim  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("chromium")  # marked browser (and slow) by tests/conftest.py

MOMENT_TOLERANCE_S = 0.1  # the bound; the progress bar resolves 30 s / 405 px = 0.074 s


def bar_end_seconds(jpeg: bytes, duration_s: float = 30.0) -> float:
    """The video's own clock read off the capture: where the simulated player's progress bar
    (white on dark grey, the bottom 6 px) ends. The bar's right end, not its share of white
    pixels: the player's rounded corner eats a few pixels at the left."""
    img = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float32)
    row = img[-6]
    white = np.flatnonzero(row > 180)
    return 0.0 if not len(white) else (white.max() + 1) / len(row) * duration_s


@pytest.fixture
def busy_cores():
    """Two processes spinning at full speed while the test runs (both cores of a small machine)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for p in procs:
        p.kill()
        p.wait()


def test_capture_lands_on_the_moment_while_both_cores_are_busy(workspace, sim, busy_cores, tmp_path):  # noqa: F811
    _, server = sim
    report = crawl(workspace, server, "youtube", 3, tmp_path=tmp_path)
    assert report.status == "done" and len(report.stored) == 3
    for row in workspace.db.execute("SELECT sha256, ext FROM images"):
        shown = bar_end_seconds(workspace.image_path(row["sha256"], row["ext"]).read_bytes())
        assert abs(shown - 2.0) <= MOMENT_TOLERANCE_S, shown
    offsets = [r[0] for r in workspace.db.execute("SELECT offset_s FROM crawl_captures WHERE outcome = 'stored'")]
    assert offsets and all(abs(o - 2.0) <= MOMENT_TOLERANCE_S for o in offsets), offsets
