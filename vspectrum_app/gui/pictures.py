"""Screenshots as the window reads them: upright. Qt ignores a picture's EXIF orientation
unless asked, and reads it only from JPEG files, so a phone's portrait screenshot (stored
sideways) would be shown sideways to an annotator while thumbnails and the CLIP input
(``library.images.decode_rgb``, Pillow's ``exif_transpose``) are upright."""

from __future__ import annotations

from PySide6.QtGui import QImage, QImageIOHandler, QImageReader, QPixmap, QTransform

ORIENTATION = 0x0112  # the EXIF tag
# EXIF orientation -> (degrees clockwise, then mirror left-right), as Pillow's exif_transpose
_TURNS = {2: (0, True), 3: (180, False), 4: (180, True), 5: (90, True), 6: (90, False), 7: (270, True), 8: (270, False)}


def read_upright(path: str) -> QImage:
    """The picture at ``path`` turned as its EXIF orientation says (a null image if unreadable)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull() or reader.transformation() != QImageIOHandler.Transformation.TransformationNone:
        return image  # Qt turned it itself (JPEG)
    turn = _TURNS.get(_orientation(path))
    if turn is None:
        return image
    degrees, mirror = turn
    if degrees:
        image = image.transformed(QTransform().rotate(degrees))
    return image.transformed(QTransform().scale(-1, 1)) if mirror else image


def pixmap_upright(path: str) -> QPixmap:
    return QPixmap.fromImage(read_upright(path))


def _orientation(path: str) -> int:
    """The orientation PNG and WebP files carry in their EXIF, read from the header only."""
    from PIL import Image, UnidentifiedImageError  # only for a picture Qt did not turn

    try:
        with Image.open(path) as img:
            raw = img.info.get("exif")
            if not raw:
                return 1
            exif = Image.Exif()
            exif.load(raw)
            value = exif.get(ORIENTATION, 1)
            return value if isinstance(value, int) else 1
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return 1
