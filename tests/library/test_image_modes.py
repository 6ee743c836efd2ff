"""Pictures whose pixels need more than Pillow's ``convert("RGB")`` (issue 27, item 12):
16-bit greyscale PNGs are scaled to 8 bits, not clipped to white, and a picture stored
sideways with an EXIF orientation is turned upright, in thumbnails and in the CLIP input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vspectrum_app.library import catalog, images
from vspectrum_app.encoders.clip_preprocess import Preprocess
from vspectrum_app.library.importer import add_image
from vspectrum_app.library.indexer import build_index

RED, BLUE = (220, 30, 30), (30, 30, 220)


def _png(img: Image.Image, **kw) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG", **kw)
    return out.getvalue()


def grey16() -> tuple[bytes, bytes]:
    """A 16-bit greyscale gradient PNG, and the same picture in 8 bits (each level / 257)."""
    levels = np.tile(np.linspace(0, 65535, 64).round().astype(np.uint16), (48, 1))
    eight = np.rint(levels / 257.0).astype(np.uint8)
    return _png(Image.fromarray(levels)), _png(Image.fromarray(eight, "L"))


def upright() -> Image.Image:
    """60x100, red above, blue below: a portrait picture."""
    img = Image.new("RGB", (60, 100), BLUE)
    img.paste(RED, (0, 0, 60, 50))
    return img


def sideways(fmt: str = "PNG") -> bytes:
    """``upright()`` stored as a phone stores it: turned a quarter, with EXIF orientation 6
    ("turn 90 degrees clockwise to show")."""
    exif = Image.Exif()
    exif[images.ORIENTATION] = 6
    out = io.BytesIO()
    upright().transpose(Image.Transpose.ROTATE_90).save(
        out, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {})
    )
    return out.getvalue()


def test_16_bit_greyscale_is_scaled_not_clipped():
    sixteen, eight = grey16()
    assert Image.open(io.BytesIO(sixteen)).mode in ("I;16", "I")
    row = np.asarray(images.decode_rgb(sixteen))[0]
    assert row[0].tolist() == [0, 0, 0] and row[-1].tolist() == [255, 255, 255]
    assert abs(int(row[32, 0]) - 130) <= 1  # 33266 / 257, where clipping made it 255
    assert np.array_equal(np.asarray(images.decode_rgb(sixteen)), np.asarray(images.decode_rgb(eight)))
    thumb = np.asarray(Image.open(io.BytesIO(images.make_thumbnail(sixteen))).convert("L"), dtype=float)
    assert 100 < thumb.mean() < 155  # a gradient, not a white square


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_exif_orientation_is_applied_to_pixels_thumbnail_and_size(fmt):
    data = sideways(fmt)
    assert Image.open(io.BytesIO(data)).size == (100, 60)  # as stored
    img = images.decode_rgb(data)
    assert img.size == (60, 100)
    top, bottom = img.getpixel((30, 10)), img.getpixel((30, 90))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # red above, blue below
    thumb = Image.open(io.BytesIO(images.make_thumbnail(data)))
    assert thumb.size[0] < thumb.size[1]
    info = images.inspect(data)
    assert (info.width, info.height) == (60, 100)


def test_clip_preprocess_scales_16_bit_greyscale_too():
    sixteen, eight = grey16()
    pre = Preprocess(size=32, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    as_stored = Image.open(io.BytesIO(sixteen))
    np.testing.assert_allclose(pre(as_stored), pre(Image.open(io.BytesIO(eight))), atol=0.05)


def test_the_clip_input_is_upright_and_scaled(workspace, tiny_clip):
    """The embedder sees what the thumbnail shows: a picture stored sideways with EXIF
    orientation and the same picture stored upright get the same vector (PNG: lossless), and
    so do a 16-bit greyscale PNG and its 8-bit twin."""
    sixteen, eight = grey16()
    ids = [
        add_image(workspace, data, source_name=f"{n}.png")[0]
        for n, data in enumerate([sideways(), _png(upright()), sixteen, eight])
    ]
    build_index(workspace, tiny_clip)
    key = workspace.db.execute("SELECT model_key FROM clip_models").fetchone()[0]
    vectors = catalog.vectors(workspace, key)
    rotated, straight, deep, shallow = (vectors[i] for i in ids)
    assert float(rotated @ straight) == pytest.approx(1.0, abs=1e-5)
    assert float(deep @ shallow) == pytest.approx(1.0, abs=1e-5)
    assert float(straight @ shallow) < 0.999  # different pictures do differ
