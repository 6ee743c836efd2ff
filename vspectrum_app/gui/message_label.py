"""MessageLabel: the one widget for status and error lines in every pane.

A QLabel sizes itself to its text, so one long message (a path, a server's error body) used
to widen the whole window past the screen. This label never asks for more width than it is
given: it shows the message on at most ``lines`` lines, elided with "...", keeps the full
text in its tooltip, and writes every message to the app log. Colour is kept for real
problems: ``kind`` is "info" (plain), "success" (plain, with a tick) or "error" (red).
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

log = logging.getLogger("vspectrum.gui")

STYLES = {"info": "", "success": "", "error": "color: #b00020"}
PREFIX = {"info": "", "success": "\u2713 ", "error": ""}


def plain_tooltip(text: str) -> str:
    """``text`` for ``setToolTip``, shown as the text it is. Qt shows a tooltip that looks like
    HTML as rich text (``<b>``, ``<img src=file:...>``), so text from outside (a file's name,
    an imported set's, a crafted value echoed in an error) is escaped inside a paragraph."""
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>" if text else ""


class MessageLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None, *, lines: int = 2, reserve: bool = False):
        """``reserve``: always as tall as ``lines`` lines, message or not, so that a message that
        comes and goes (a form's validation) never moves the controls below it."""
        super().__init__(parent)
        self._full = ""
        self._kind = "info"
        self._lines = max(1, lines)
        self._reserve = reserve
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.set_message(text)

    # -- API --------------------------------------------------------------------------
    def set_message(self, text: str, kind: str = "info") -> None:
        """Show ``text`` (any length); ``kind`` is "info", "success" or "error"."""
        if kind not in STYLES:
            raise ValueError(f"unknown message kind {kind!r}")
        self._full, self._kind = text or "", kind
        if text:
            (log.warning if kind == "error" else log.info)("%s", text)
        from vspectrum_app.gui import style  # the error red that reads on the current palette

        self.setStyleSheet(f"color: {style.error_color()}" if kind == "error" else STYLES[kind])
        self.setToolTip(plain_tooltip(self._full))
        self.setAccessibleDescription(self._full)
        self._relayout()

    def full_text(self) -> str:
        return self._full

    def kind(self) -> str:
        return self._kind

    # -- layout -----------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._relayout()

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = super().sizeHint()
        fm = QFontMetrics(self.font())
        hint.setHeight(fm.lineSpacing() * (self._lines if self._reserve else self._shown_lines() or 1) + 4)
        hint.setWidth(min(hint.width(), 400))
        return hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        hint.setWidth(40)
        if self._reserve:
            hint.setHeight(self.sizeHint().height())
        return hint

    def _shown_lines(self) -> int:
        return min(self._lines, max(1, QLabel.text(self).count("\n") + 1)) if self._full else 0

    def _relayout(self) -> None:
        text = PREFIX[self._kind] + self._full if self._full else ""
        width = max(40, self.width() - 4)
        fm = QFontMetrics(self.font())
        out: list[str] = []
        rest = " ".join(text.split())
        while rest and len(out) < self._lines:
            if len(out) == self._lines - 1 or fm.horizontalAdvance(rest) <= width:
                out.append(fm.elidedText(rest, Qt.TextElideMode.ElideRight, width))
                break
            # the longest prefix that fits, broken at a space where there is one
            cut = len(rest)
            while cut > 1 and fm.horizontalAdvance(rest[:cut]) > width:
                cut -= max(1, cut // 8)
            space = rest.rfind(" ", 0, cut)
            cut = space if space > cut // 2 else cut
            out.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
        super().setText("\n".join(out))
        if self._reserve:
            self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.updateGeometry()
