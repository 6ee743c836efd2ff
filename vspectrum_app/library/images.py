"""Safe image decoding: every file a user or a crawler hands us passes through ``inspect``.

Refused, with one clear reason each: empty files, non-images, formats other than
JPEG/PNG/WebP, truncated or corrupt data, and decompression bombs (a small file that
declares a huge canvas). Pillow is imported here only; no torch.

``decode_rgb`` is the one way pixels leave a file (thumbnails, the CLIP input): it turns the
picture upright as its EXIF orientation says (a phone's portrait photo is stored sideways)
and scales 16-bit greyscale to 8 bits (Pillow's own conversion clips it, so anything above
1/256 of full brightness became white).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from vspectrum_app.encoders.clip_preprocess import to_rgb

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


_KINDS = {
    stat.S_IFIFO: "a pipe (FIFO)",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def read_image_file(path: Path | str) -> bytes:
    """A file's bytes, for ``inspect``, refused before anything is read when it is not a
    regular file (``/dev/zero``, a FIFO, a socket) or is larger than ``MAX_FILE_BYTES`` by its
    size on disk (a 3 GB sparse file costs no memory). Opened without blocking, so a FIFO
    with no writer cannot hang the import; read at most one byte past the limit, so a file
    that grows meanwhile cannot either. Raises ``BadImage`` or ``OSError``."""
    fd = os.open(
        path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadImage(f"not a regular file ({_KINDS.get(stat.S_IFMT(st.st_mode), 'a special file')})")
        if st.st_size > MAX_FILE_BYTES:
            raise BadImage(_too_large(st.st_size))
        chunks, total = [], 0
        while total <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > MAX_FILE_BYTES:
        raise BadImage(_too_large(total))
    return b"".join(chunks)


def _too_large(size: int) -> str:
    return f"file too large ({-(-size // 2**20)} MiB; limit {MAX_FILE_BYTES // 2**20} MiB)"  # rounded up


def inspect(data: bytes) -> ImageInfo:
    """Validate ``data`` fully (header, pixel count, full decode) and describe it."""
    if not data:
        raise BadImage("empty file")
    if len(data) > MAX_FILE_BYTES:
        raise BadImage(_too_large(len(data)))
    img = _open(data)
    with img:
        if img.format not in FORMATS:
            raise BadImage(f"unsupported format {img.format} (JPEG, PNG or WebP expected)")
        width, height = img.size
        _check_pixels(width, height)
        _full_decode(img)
        if _orientation(img) in (5, 6, 7, 8):  # stored sideways: shown turned a quarter
            width, height = height, width
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
    try:
        with warnings.catch_warnings():  # a damaged EXIF block: Pillow warns on stderr, we show it as stored
            warnings.simplefilter("ignore", UserWarning)
            ImageOps.exif_transpose(img, in_place=True)  # no copy when there is nothing to turn
    except (OSError, ValueError, SyntaxError, TypeError, KeyError):
        pass
    return to_rgb(img)


def _orientation(img: Image.Image) -> object:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return img.getexif().get(ORIENTATION)
    except (OSError, ValueError, SyntaxError, TypeError, KeyError):
        return None


ORIENTATION = 0x0112  # the EXIF tag


def make_thumbnail(data: bytes, size: int = THUMB_SIZE) -> bytes:
    img = decode_rgb(data)
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a damaged EXIF block: Pillow's warnings on stderr
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))  # "Image size (N pixels) exceeds limit of ..."
        declared = f"{int(pixels.group(1)) / 1e6:,.0f} MP declared" if pixels else "a huge canvas declared"
        raise BadImage(f"image too large to decode safely ({declared}; limit {MAX_PIXELS / 1e6:.0f} MP)") from None
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
