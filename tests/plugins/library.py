"""Fixtures for workspaces and generated images."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from vspectrum_app.library.catalog import open_workspace


@pytest.fixture
def workspace(tmp_path):
    ws = open_workspace(tmp_path / "ws")
    yield ws
    ws.close()


def make_image_bytes(color=(200, 30, 30), size=(64, 96), fmt="JPEG", seed: int | None = None) -> bytes:
    """A small real image; with ``seed``, a distinct noisy picture (so content hashes differ)."""
    img = Image.new("RGB", size, color)
    if seed is not None:
        import random

        rng = random.Random(seed)
        px = img.load()
        for _ in range(size[0] * size[1] // 4):
            px[rng.randrange(size[0]), rng.randrange(size[1])] = (
                rng.randrange(256),
                rng.randrange(256),
                rng.randrange(256),
            )
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


@pytest.fixture
def image_folder(tmp_path):
    """A folder of 6 distinct JPEG/PNG/WebP images."""
    folder = tmp_path / "shots"
    folder.mkdir()
    fmts = [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")]
    for i in range(6):
        fmt, ext = fmts[i % 3]
        (folder / f"shot{i}.{ext}").write_bytes(make_image_bytes(seed=i, fmt=fmt))
    return folder
