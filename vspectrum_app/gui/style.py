"""One look for the whole window: spacing, type sizes and a light and a dark palette.

The palette follows the system's colour scheme (Qt 6.5+ ``styleHints().colorScheme()``) and
changes with it while the app runs; ``scheme`` forces one (the screenshots use both). Panes
take their sizes and colours from here instead of writing their own style sheets.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QLayout

SPACING = 8  # between controls
MARGIN = 10  # around a pane's content
BASE_PT = 10  # body text
TITLE_PT = 14  # a pane's headline (the annotation question, the welcome title)
SMALL_PT = 9  # secondary lines (the sidebar's state, hints)

ERROR = "#b00020"
OK = "#1b7f3b"
CHOSEN_LIGHT, CHOSEN_DARK = "#cfe8d6", "#24583a"  # the chosen answer's background

LIGHT = {
    "window": "#f4f5f7",
    "base": "#ffffff",
    "alt": "#eef0f3",
    "text": "#1c1e21",
    "button": "#e9ebef",
    "highlight": "#2d6cb5",
    "highlighted_text": "#ffffff",
    "mid": "#c4c8ce",
    "link": "#1f5fa8",
    "tooltip": "#ffffe8",
    "disabled": "#8a8f96",
}
DARK = {
    "window": "#24272b",
    "base": "#1b1d20",
    "alt": "#2b2e33",
    "text": "#e6e7e9",
    "button": "#33373c",
    "highlight": "#4a8ad8",
    "highlighted_text": "#ffffff",
    "mid": "#4a4f56",
    "link": "#7fb2f0",
    "tooltip": "#33373c",
    "disabled": "#7d828a",
}

_current: dict[str, Any] = {"dark": False, "scheme": None}  # scheme: "light", "dark" or None (the system's)
_theme_listeners: list[Callable[[], object]] = []  # called after each apply() (gui/plots.py restyles the plots)


def on_theme_change(callback: Callable[[], object]) -> None:
    _theme_listeners.append(callback)


def is_dark() -> bool:
    return bool(_current["dark"])


def chosen_background() -> str:
    return CHOSEN_DARK if is_dark() else CHOSEN_LIGHT


def error_color() -> str:
    return "#ff6b6b" if is_dark() else ERROR  # the light palette's red is unreadable on a dark window


def panel_color() -> str:
    """A placeholder's background (an image not shown yet)."""
    return (DARK if is_dark() else LIGHT)["alt"]


def text_color() -> str:
    return (DARK if is_dark() else LIGHT)["text"]


def hint_color() -> str:
    return (DARK if is_dark() else LIGHT)["disabled"]


def app_icon() -> QIcon:
    from vspectrum_app.core.paths import resources_dir

    return QIcon(str(resources_dir() / "icons" / "app.svg"))


def system_is_dark(app: QApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def palette(dark: bool) -> QPalette:
    c = DARK if dark else LIGHT
    pal = QPalette()
    role = QPalette.ColorRole
    for r, key in (
        (role.Window, "window"),
        (role.Base, "base"),
        (role.AlternateBase, "alt"),
        (role.WindowText, "text"),
        (role.Text, "text"),
        (role.ButtonText, "text"),
        (role.Button, "button"),
        (role.Highlight, "highlight"),
        (role.HighlightedText, "highlighted_text"),
        (role.Mid, "mid"),
        (role.Link, "link"),
        (role.ToolTipBase, "tooltip"),
        (role.ToolTipText, "text"),
        (role.PlaceholderText, "disabled"),
    ):
        pal.setColor(r, QColor(c[key]))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, QColor(c["disabled"]))
    return pal


def apply(app: QApplication, scheme: str | None = None) -> None:
    """Fusion style, the type size and the palette; ``scheme``: "light", "dark", or None or "system"
    (the system's, followed while the app runs)."""
    app.setStyle("Fusion")  # the same widgets on every system, so the palettes read the same
    font = QFont(app.font())
    font.setPointSize(BASE_PT)
    app.setFont(font)
    scheme = scheme if scheme in ("light", "dark") else None  # "system" (View > Theme) is None
    dark = system_is_dark(app) if scheme is None else scheme == "dark"
    _current["dark"], _current["scheme"] = dark, scheme
    app.setPalette(palette(dark))
    c = DARK if dark else LIGHT
    # a pressed-in toggle (value chips, ...) must read as "on" in both palettes: Fusion's is faint
    # and check boxes (also in checklists) need a visible box: Fusion's outline vanishes on a dark base
    from vspectrum_app.core.paths import resources_dir

    tick = (resources_dir() / "icons" / "check.svg").as_posix()
    box = "QCheckBox::indicator, QAbstractItemView::indicator"
    app.setStyleSheet(
        f"QPushButton:checked {{ background-color: {c['highlight']}; color: {c['highlighted_text']}; "
        f"border: 1px solid {c['highlight']}; border-radius: 3px; padding: 3px 8px; }}\n"
        f"{box} {{ width: 13px; height: 13px; border: 1px solid {c['disabled']}; border-radius: 2px; "
        f"background: {c['base']}; }}\n"
        f"{box.replace(',', ':checked,')}:checked {{ background: {c['highlight']}; "
        f"border-color: {c['highlight']}; image: url({tick}); }}\n"
        f"{box.replace(',', ':disabled,')}:disabled {{ background: {c['alt']}; }}"
    )
    app.setWindowIcon(app_icon())
    for callback in _theme_listeners:
        callback()
    if not app.property("vs_follows_scheme"):  # the system's scheme, while the user has not chosen
        app.setProperty("vs_follows_scheme", True)
        app.styleHints().colorSchemeChanged.connect(lambda _s: _follow_system(app))


def _follow_system(app: QApplication) -> None:
    if _current["scheme"] is None:
        apply(app)


def scheme() -> str:
    """The theme chosen: "light", "dark" or "system"."""
    return _current["scheme"] or "system"


def tidy(layout: QLayout, margin: int = MARGIN) -> QLayout:
    """The shared spacing on a pane's top layout."""
    layout.setContentsMargins(margin, margin, margin, margin)
    layout.setSpacing(SPACING)
    return layout
