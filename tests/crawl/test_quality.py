"""The app's numpy perceptual hash against imagehash, the reference implementation it
replaces at run time (imagehash stays a test-only oracle)."""

import io

import imagehash
import numpy as np
import pytest
from PIL import Image

from vspectrum_app.crawl.quality import phash


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _pictures():
    rng = np.random.default_rng(7)
    for i in range(40):
        h, w = rng.integers(40, 400, size=2)
        smooth = rng.normal(size=(h // 8 + 2, w // 8 + 2, 3))
        arr = np.kron(smooth, np.ones((8, 8, 1)))[:h, :w]
        arr = (arr - arr.min()) / (np.ptp(arr) + 1e-9) * 255
        mode = "RGB" if i % 3 else "L"
        img = Image.fromarray(arr.astype(np.uint8), "RGB").convert(mode)
        yield i, _jpeg(img)
    yield "gradient", _jpeg(Image.linear_gradient("L").resize((300, 500)))


@pytest.mark.parametrize("name,jpeg", list(_pictures()), ids=lambda v: str(v) if not isinstance(v, bytes) else "")
def test_phash_equals_imagehash_bit_for_bit(name, jpeg):
    with Image.open(io.BytesIO(jpeg)) as img:
        expected = str(imagehash.phash(img))
    assert phash(jpeg) == expected


def test_phash_does_not_import_imagehash_or_scipy():
    import subprocess
    import sys

    code = (
        "import io, sys; from PIL import Image; from vspectrum_app.crawl.quality import phash; "
        "b = io.BytesIO(); Image.new('RGB', (50, 50), 'red').save(b, 'JPEG'); phash(b.getvalue()); "
        "print(sorted(m for m in ('imagehash', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
