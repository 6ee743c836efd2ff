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

import numpy as np
from PIL import Image

FILTERS = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


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
            new_long = int(self.size * long / short)
            img = img.resize((self.size, new_long) if w <= h else (new_long, self.size), FILTERS[self.interpolation])
        w, h = img.size
        top, left = int(round((h - self.size) / 2.0)), int(round((w - self.size) / 2.0))
        img = img.crop((left, top, left + self.size, top + self.size))
        if img.mode != "RGB":
            img = img.convert("RGB")
        pixels: np.ndarray = np.asarray(img, dtype=np.float32) / 255.0
        pixels = (pixels - np.asarray(self.mean, dtype=np.float32)) / np.asarray(self.std, dtype=np.float32)
        return np.ascontiguousarray(pixels.transpose(2, 0, 1))

    def batch(self, images: Iterable[Image.Image]) -> np.ndarray:
        return np.stack([self(img) for img in images])
