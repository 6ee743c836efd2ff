"""Safe image decoding: every file a user or a crawler hands us passes through ``inspect``.

Refused, with one clear reason each: empty files, non-images, formats other than
JPEG/PNG/WebP, truncated or corrupt data, and decompression bombs (a small file that
declares a huge canvas). Pillow is imported here only; no torch.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 4K screenshot is 8.3 MP; 40 MP leaves room without allowing bombs
THUMB_SIZE = 256


class BadImage(Exception):
    """The file cannot be used; the message says why in a few words."""


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    ext: str
    width: int
    height: int
    bytes: int


def inspect(data: bytes) -> ImageInfo:
    """Validate ``data`` fully (header, pixel count, full decode) and describe it."""
    if not data:
        raise BadImage("empty file")
    if len(data) > MAX_FILE_BYTES:
        raise BadImage(f"file too large ({len(data) / 2**20:.0f} MiB; limit {MAX_FILE_BYTES // 2**20} MiB)")
    img = _open(data)
    with img:
        if img.format not in FORMATS:
            raise BadImage(f"unsupported format {img.format} (JPEG, PNG or WebP expected)")
        width, height = img.size
        _check_pixels(width, height)
        _full_decode(img)
        return ImageInfo(hashlib.sha256(data).hexdigest(), FORMATS[img.format], width, height, len(data))


def decode_rgb(data: bytes, min_size: tuple[int, int] | None = None) -> Image.Image:
    """Decode to an RGB image with the same safety limits (for embedding and display).

    ``min_size``: the caller only needs at least this many pixels per side (CLIP needs 224),
    so a JPEG may be decoded at 1/2, 1/4 or 1/8 scale by the decoder itself, several times
    faster than decoding it whole and then shrinking it.
    """
    img = _open(data)
    _check_pixels(*img.size)
    if min_size and img.format == "JPEG":
        img.draft("RGB", min_size)
    _full_decode(img)
    return img.convert("RGB")


def make_thumbnail(data: bytes, size: int = THUMB_SIZE) -> bytes:
    img = decode_rgb(data)
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"image too large to decode safely ({exc.args[0].split('(')[0].strip()})") from None
    except UnidentifiedImageError:
        raise BadImage("not an image (or an unknown format)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadImage(f"cannot read image header ({exc})") from None


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise BadImage(f"invalid size {width}x{height}")
    if width * height > MAX_PIXELS:
        raise BadImage(f"image too large: {width}x{height} pixels (limit {MAX_PIXELS / 1e6:.0f} MP)")


def _full_decode(img: Image.Image) -> None:
    # Pillow decodes lazily: load() is what finds truncated or corrupt pixel data.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        img.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImage(f"corrupt or truncated image data ({exc})") from None
