"""The feed choices shared by the panes that drive a browser (Crawl, Persona): which platform,
and for the simulator its layout and the images it serves."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

# (label, --platform); the simulator's layout is chosen separately with --skin
PLATFORM_CHOICES = [
    ("Simulator", "sim"),
    ("TikTok", "tiktok"),
    ("YouTube Shorts", "youtube"),
    ("Instagram Reels", "instagram"),
]
SKINS = [("TikTok", "tiktok"), ("YouTube Shorts", "youtube"), ("Instagram Reels", "instagram")]


def platform_combo() -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName("Platform")
    for label, value in PLATFORM_CHOICES:
        combo.addItem(label, value)
    return combo


class SimulatorBox(QGroupBox):
    """Layout and images folder, plus the caller's own rows (the crawl's recommender seed, the
    persona session's clock speed). An empty folder means ``empty``: the workspace's screenshots
    (a persona session), or the simulator's own test pictures (a crawl: the workspace's own
    would all be duplicates)."""

    WORKSPACE = ("empty: the open workspace's screenshots", "the open workspace's screenshots")
    TEST_PICTURES = (
        "empty: the simulator's own test pictures",
        "the simulator's own test pictures, new to the workspace",
    )

    def __init__(
        self,
        extra_rows: Sequence[tuple[str, QWidget]] = (),
        parent: QWidget | None = None,
        empty: tuple[str, str] = WORKSPACE,
    ):
        super().__init__("Simulator", parent)
        self.skin = QComboBox()
        for label, value in SKINS:
            self.skin.addItem(label, value)
        self.images = QLineEdit()
        self.images.setPlaceholderText(empty[0])
        self.images.setToolTip(
            f"A folder of images to serve (sub-folders are topics); empty: {empty[1]}. "
            "Captures of the simulator are tagged and kept out of the benchmark."
        )
        self.skin.setAccessibleName("Simulator layout")
        self.images.setAccessibleName("Simulator images folder")
        browse = QPushButton("Browse...")
        browse.setAccessibleName("Choose the simulator's images folder")
        browse.clicked.connect(self._browse_images)
        images_row = QHBoxLayout()
        images_row.addWidget(self.images, 1)
        images_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Layout", self.skin)
        for label, widget in extra_rows:
            form.addRow(label, widget)
        form.addRow("Images folder", images_row)

    def choice(self) -> tuple[str, str | None]:
        """(the layout, the images folder or None for the workspace's screenshots)."""
        return self.skin.currentData(), self.images.text().strip() or None

    def _browse_images(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Images for the simulator (sub-folders are topics)")
        if folder:
            self.images.setText(folder)
