"""Addresses from outside (a screenshot's video link, an imported set's) as the window shows
and opens them: shown as the text they are, opened only when they are http(s)."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from vspectrum_app.core.visible import visible


def shown_address(url: str) -> str:
    """A link as the user sees it: its real address, with control and format characters
    (a newline, a right-to-left override that would show ``moc.kotkit`` as ``tiktok.com``)
    written as ``\\uXXXX``, so that nothing in it can pass for other text."""
    return visible(url)


def openable(url: str) -> bool:
    """Only http(s) addresses with a host are opened (never file:, javascript:, data: ...),
    and only when what is shown is all there is (no hidden characters, no spaces)."""
    parsed = QUrl(url, QUrl.ParsingMode.StrictMode)
    return (
        parsed.isValid()
        and parsed.scheme() in ("http", "https")
        and bool(parsed.host())
        and shown_address(url) == url
        and not any(ch.isspace() for ch in url)
    )


def open_address(url: str) -> bool:
    """Open ``url`` in the system's browser if it is ``openable``; whether it was."""
    return openable(url) and bool(QDesktopServices.openUrl(QUrl(url, QUrl.ParsingMode.StrictMode)))
