"""The simulator's own test material: generated pictures that no library holds yet.

A crawl of the simulator serving the workspace's own screenshots stores nothing (every video
is a duplicate), so by default the simulator serves a batch of generated pictures instead:
one per video, in the ten values' folders (its topics), each drawn from a seeded random
generator, so that two pictures are far apart to a perceptual hash. Each crawl of a workspace
gets the next batch (its number is the workspace's count of crawl sessions), so a second crawl
captures new pictures too, and the same workspace history gives the same pictures.
"""

from __future__ import annotations

import colorsys
import io
import random
from pathlib import Path

from vspectrum_app.core.values import SCHWARTZ_VALUES

SIZE = (360, 640)  # the feeds are vertical video
MAX_ITEMS = 400  # a longer crawl sees the batch again (feeds repeat); the duplicates rule ends it


def picture(batch: int, n: int) -> bytes:
    """Test picture ``n`` of ``batch``: its topic's hue, random shapes and its own label."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(f"vspectrum-sim-material:{batch}:{n}")
    topic = SCHWARTZ_VALUES[n % len(SCHWARTZ_VALUES)]
    hue = (n % len(SCHWARTZ_VALUES)) / len(SCHWARTZ_VALUES)
    base = tuple(int(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.55, 0.8))
    img = Image.new("RGB", SIZE, base)
    draw = ImageDraw.Draw(img)
    for _ in range(16):
        x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        w, h = rng.randrange(40, 220), rng.randrange(40, 300)
        shade = tuple(min(255, max(0, c + rng.randrange(-140, 140))) for c in base)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=shade)
    font = ImageFont.load_default(size=28)
    for i, line in enumerate(("Test video", f"{batch}-{n + 1}", topic)):
        draw.text((24, 40 + 40 * i), line, fill="white", font=font, stroke_width=2, stroke_fill="black")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


def write_batch(folder: Path, batch: int, count: int) -> Path:
    """``count`` pictures of ``batch`` (at most MAX_ITEMS) in ``folder``/<value>/; returns ``folder``."""
    folder = Path(folder)
    for n in range(max(1, min(count, MAX_ITEMS))):
        topic = SCHWARTZ_VALUES[n % len(SCHWARTZ_VALUES)]
        (folder / topic).mkdir(parents=True, exist_ok=True)
        (folder / topic / f"test-{batch}-{n + 1:04d}.jpg").write_bytes(picture(batch, n))
    return folder


def items_for(count: int) -> int:
    """Pictures a crawl of ``count`` captures needs: one per video it may look at."""
    return count * 3 + 20
