"""open_clip's evaluation preprocessing in Pillow and numpy (no torch, no torchvision).

open_clip (resize mode ``shortest``, square input) composes torchvision's Resize(size) on a
PIL image (shortest side to ``size``, the other ``int(size * long / short)``, Pillow's
bicubic or bilinear filter), CenterCrop(size) (offsets ``int(round((side - size) / 2))``),
conversion to RGB, ToTensor (/255, channels first) and Normalize(mean, std). This module
does exactly those steps, so the pixels match open_clip's to float rounding (tested).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def to_rgb(img: Image.Image) -> Image.Image:
    """``img`` as 8-bit RGB. 16-bit greyscale (PNG's I;16, or I) is scaled, 0-65535 to 0-255:
    Pillow's ``convert`` would clip every value above 255 to white."""
    if img.mode in _SIXTEEN_BIT:
        from PIL import Image

        levels = np.asarray(img).astype(np.float64)
        img = Image.fromarray(np.clip(np.rint(levels / 257.0), 0, 255).astype(np.uint8), "L")
    return img if img.mode == "RGB" else img.convert("RGB")


# Pillow's resampling filters by open_clip's name, as ``Image.Resampling`` members' names:
# Pillow is imported where an image is resized, not by the text-only search that imports this.
FILTERS = {"bicubic": "BICUBIC", "bilinear": "BILINEAR"}


@dataclass(frozen=True)
class Preprocess:
    size: int
    mean: tuple[float, ...]  # one per channel (RGB)
    std: tuple[float, ...]
    interpolation: str = "bicubic"

    def __call__(self, img: Image.Image) -> np.ndarray:
        """One image as float32 (3, size, size), normalised."""
        w, h = img.size
        short, long = (w, h) if w <= h else (h, w)
        if short != self.size:
            from PIL import Image

            new_long = int(self.size * long / short)
            img = img.resize(
                (self.size, new_long) if w <= h else (new_long, self.size),
                getattr(Image.Resampling, FILTERS[self.interpolation]),
            )
        w, h = img.size
        top, left = int(round((h - self.size) / 2.0)), int(round((w - self.size) / 2.0))
        if img.mode != "RGB":  # as images.decode_rgb does it (16-bit greyscale scaled, not clipped)
            img = to_rgb(img)
        # The crop is a view (both sides are at least ``size`` after the resize), and
        # ToTensor + Normalize are one pass per channel, (x / 255 - mean) / std written as
        # x * scale + offset: a quarter of the time of Pillow's crop and four whole-array
        # steps, the same values to float rounding (tested against open_clip).
        pixels = np.asarray(img)[top : top + self.size, left : left + self.size]
        out = np.empty((3, self.size, self.size), dtype=np.float32)
        for channel, (mean, std) in enumerate(zip(self.mean, self.std)):
            np.multiply(pixels[:, :, channel], np.float32(1.0 / (255.0 * std)), out=out[channel], casting="unsafe")
            out[channel] += np.float32(-mean / std)
        return out

    def batch(self, images: Iterable[Image.Image]) -> np.ndarray:
        return np.stack([self(img) for img in images])
