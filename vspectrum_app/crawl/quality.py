"""Is a capture worth keeping? Black or blank frames, and near-duplicates by perceptual hash."""

from __future__ import annotations

from typing import TYPE_CHECKING
import io

import numpy as np

from vspectrum_app.library import catalog

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace


BLACK_MEAN = 16  # mean luminance (0-255) at or below which a frame is black
BLANK_STD = 4.0  # luminance spread at or below which a frame is one flat colour
NEAR_DUPLICATE_BITS = 6  # pHash Hamming distance (of 64) within which two captures are the same picture


def frame_flags(jpeg: bytes) -> list[str]:
    """``black_frame`` or ``blank_frame`` when the capture shows nothing (a video that did
    not render, a loading screen); an empty list for a usable frame."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as img:
        lum = np.asarray(img.convert("L").resize((64, 64)), dtype=np.float32)
    if lum.mean() <= BLACK_MEAN and lum.std() <= 3 * BLANK_STD:
        return ["black_frame"]
    if lum.std() <= BLANK_STD:
        return ["blank_frame"]
    return []


PHASH_SIDE = 32  # the picture is reduced to 32x32 grey levels ...
PHASH_LOW = 8  # ... and the 8x8 lowest frequencies of its DCT make the 64-bit hash


def _dct_matrix(n: int) -> np.ndarray:
    """The unnormalised DCT-II as a matrix (scipy.fftpack.dct's default): row k holds
    2*cos(pi*k*(2m+1)/(2n)) for m = 0..n-1."""
    k = np.arange(n)[:, None]
    m = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * m + 1) / (2 * n))


_DCT_LOW = _dct_matrix(PHASH_SIDE)[:PHASH_LOW]


def phash(jpeg: bytes) -> str:
    """The perceptual hash of imagehash.phash (Zauner's pHash as imagehash computes it), in
    numpy alone, so the app needs neither imagehash nor scipy at run time: grey 32x32
    (Lanczos), 2-D DCT-II, the 8x8 lowest frequencies compared with their median, 64 bits
    as 16 hex digits. tests/crawl/test_quality.py checks it bit for bit against imagehash."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as img:
        grey = img.convert("L").resize((PHASH_SIDE, PHASH_SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    low = _DCT_LOW @ pixels @ _DCT_LOW.T  # only the rows/columns of the low frequencies
    # Round away float noise: a flat direction (a pure gradient) has coefficients that are 0
    # exactly in scipy's FFT but 1e-13 here, and they sit on the median.
    low = np.round(low, 6)
    bits = (low > np.median(low)).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def backfill_phashes(ws: Workspace) -> int:
    """Hash the library's screenshots that have no pHash yet (imported ones), so that a crawl
    checks its captures for near-duplicates against the whole library; done once per image."""
    done = []
    for file in catalog.files_without_phash(ws):
        try:
            done.append((phash(file.path(ws).read_bytes()), file.id))
        except (OSError, ValueError):  # a missing or unreadable file: nothing to compare against
            continue
    if done:
        catalog.set_phashes(ws, done)
    return len(done)


class PhashIndex:
    """Every perceptual hash in the workspace as 64-bit integers; near-duplicate lookups are
    one vectorised XOR + popcount (microseconds at 50,000 images)."""

    def __init__(self, hashes: list[str] | None = None):
        self._values = np.array([int(h, 16) for h in hashes or []], dtype=np.uint64)

    @classmethod
    def from_workspace(cls, ws: Workspace) -> "PhashIndex":
        return cls(catalog.phashes(ws))

    def nearest_distance(self, h: str) -> int | None:
        if not len(self._values):
            return None
        x = np.bitwise_xor(self._values, np.uint64(int(h, 16)))
        bits = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
        return int(bits.min())

    def is_near_duplicate(self, h: str) -> bool:
        d = self.nearest_distance(h)
        return d is not None and d <= NEAR_DUPLICATE_BITS

    def add(self, h: str) -> None:
        self._values = np.append(self._values, np.uint64(int(h, 16)))

    def __len__(self) -> int:
        return len(self._values)
