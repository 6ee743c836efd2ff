"""The window shows a screenshot stored sideways (EXIF orientation) upright, as its thumbnail
and the CLIP input are (issue 27, item 12): Qt ignores the orientation unless asked."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.library.test_image_modes import sideways
from vspectrum_app.annotate.sampling import create_value_set
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes.annotation import AnnotationPane
from vspectrum_app.gui.pictures import read_upright
from vspectrum_app.library.importer import add_image

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_reads_as_pillow_turns_it(qapp, tmp_path, fmt, orientation):
    base = Image.fromarray(np.random.default_rng(orientation).integers(0, 255, (5, 7, 3), dtype=np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"p.{fmt.lower()}"
    base.save(path, fmt, exif=exif, **({"lossless": True} if fmt == "WEBP" else {"quality": 100}))
    want = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"), dtype=int)
    image = read_upright(str(path))
    got = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(image.width())] for y in range(image.height())])
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= (48 if fmt == "JPEG" else 0)  # JPEG: its own rounding of 35 pixels


def test_the_annotation_pane_and_the_library_show_pictures_upright(qtbot, tmp_path, window):
    path = tmp_path / "portrait.png"
    path.write_bytes(sideways())
    image = read_upright(str(path))
    assert (image.width(), image.height()) == (60, 100)
    top, bottom = image.pixelColor(30, 10), image.pixelColor(30, 90)
    assert top.red() > 150 > top.blue() and bottom.blue() > 150 > bottom.red()

    ctx = AppContext()
    ws = ctx.open_workspace(tmp_path / "ws")
    image_id = add_image(ws, sideways(), source_name="portrait.png")[0]
    create_value_set(ws, "s", lambda v: [image_id], values=["Power"], per_value=1)
    pane = AnnotationPane(ctx)
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.results.lists_loaded, timeout=10_000):
        pane.show()
    pane.annotator.setText("Ana")
    pane.start()
    qtbot.waitUntil(lambda: pane.image.pixmap() is not None and not pane.image.pixmap().isNull(), timeout=10_000)
    shown = pane.image.pixmap()
    assert shown.height() > shown.width()  # portrait, as taken

    window.open_workspace(tmp_path / "ws")
    library = window.show_pane("Library")
    qtbot.waitUntil(lambda: library.model.rowCount() == 1, timeout=10_000)
    library.grid.setCurrentIndex(library.model.index(0))
    detail = library.detail_image.pixmap()
    assert detail.height() > detail.width()
