"""Hostile pictures beyond the audit's (issue 27, the helper's own experiments): a damaged
EXIF block is read as if absent, quietly (Pillow's warnings no longer reach stderr as four
lines of noise per file), and a canvas too large to decode says how large it claims to be."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vspectrum_app.library import images

ROOT = Path(__file__).resolve().parents[2]
# an EXIF block whose orientation entry points past its end
BAD_EXIF = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\xff\xff\xff\xff\x00\x06\x00\x00"


def _bad_exif_jpeg() -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((40, 30, 3), 120, np.uint8)).save(out, "JPEG", exif=BAD_EXIF)
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 99)) + chunk(b"IEND", b"")


def test_a_damaged_exif_block_is_quietly_ignored():
    data = _bad_exif_jpeg()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        info = images.inspect(data)
        img = images.decode_rgb(data)
        images.make_thumbnail(data)
    assert (info.width, info.height) == img.size == (30, 40)


def test_the_cli_prints_one_line_per_file_and_no_warnings(tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    (folder / "bad-exif.jpg").write_bytes(_bad_exif_jpeg())
    (folder / "huge.png").write_bytes(_png_header(100_000, 100_000))
    proc = subprocess.run(
        [sys.executable, "-m", "vspectrum_app", "-w", str(tmp_path / "wörk spåce ✓"), "library", "import", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 added, 0 already in the library, 1 skipped" in proc.stdout
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("[")]  # progress bars aside
    assert lines == [
        f"warning: skipped {folder / 'huge.png'}: image too large to decode safely (10,000 MP declared; limit 40 MP)"
    ]


@pytest.mark.parametrize("width, height, declared", [(100_000, 100_000, "10,000 MP"), (20_000, 10_000, "200 MP")])
def test_a_canvas_too_large_says_what_it_declares(width, height, declared):
    with pytest.raises(
        images.BadImage, match=rf"^image too large to decode safely \({declared} declared; limit 40 MP\)$"
    ):
        images.inspect(_png_header(width, height))
