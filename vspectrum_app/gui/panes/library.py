"""Library pane: search by keyword or value, a virtualised thumbnail grid, details, import,
index build and the coverage chart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRegularExpression, QSize, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPixmap, QRegularExpressionValidator, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core.operations import Operation
from vspectrum_app.core.values import SCHWARTZ_VALUES
from vspectrum_app.core.workspace import Workspace
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui import links, style
from vspectrum_app.gui.job_log import JobProgress
from vspectrum_app.gui.jobs import Job, result_of
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.pictures import pixmap_upright
from vspectrum_app.gui.thumbnails import ThumbnailCache
from vspectrum_app.gui.workers import Worker
from vspectrum_app.library import ops as library_ops

if TYPE_CHECKING:
    from vspectrum_app.library.search import Hit, Searcher

DEBOUNCE_MS = 300
ICON = QSize(96, 160)  # a thumbnail in the grid (portrait, as the videos are)
LIST_LIMIT = 200_000
ALL_PLATFORMS = "all platforms"
SIMULATED = "sim"  # simulator captures: hidden unless chosen in the platform filter
PLATFORM_LABELS = {
    "tiktok": "TikTok",
    "youtube": "YouTube Shorts",
    "instagram": "Instagram Reels",
    SIMULATED: "simulator captures",
}
NO_INDEX = "Build the index first (Library > Build index): searching needs it."
SIMILARITY_TIP = (
    "Similarity: how close the screenshot is to the search in the CLIP model's space "
    "(cosine, from -1 to 1; higher is closer)"
)


@dataclass
class Tile:
    image_id: int
    sha256: str
    ext: str
    platform: str | None
    post_date: str | None
    similarity: float | None = None
    keyword: str | None = None


class TileModel(QAbstractListModel):
    """Rows are small tuples; pixmaps come from the thumbnail cache when a tile is painted."""

    def __init__(self, thumbs: ThumbnailCache, thumb_path: Callable[[str], Path | None], parent: QWidget | None = None):
        super().__init__(parent)
        self.tiles: list[Tile] = []
        self.thumbs, self.thumb_path = thumbs, thumb_path
        self._rows_by_sha: dict[str, list[int]] = {}
        # the icon's own size: the grid measures one item for all (uniform sizes), and a
        # square placeholder measured first left no room for the caption under a tall thumbnail
        self._placeholder = QPixmap(ICON)
        self._placeholder.fill(Qt.GlobalColor.lightGray)
        self.item_size: QSize | None = None  # every tile's size: room for the longest caption
        thumbs.ready.connect(self._thumb_ready)

    def set_tiles(self, tiles: list[Tile]) -> None:
        self.beginResetModel()
        self.tiles = tiles
        self._rows_by_sha = {}
        for row, t in enumerate(tiles):
            self._rows_by_sha.setdefault(t.sha256, []).append(row)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.tiles)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        tile = self.tiles[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            # always two lines: the grid's uniform item size is measured on one item, and a
            # caption taller than that item would not be drawn at all
            platform = PLATFORM_LABELS.get(tile.platform or "", tile.platform or "") or " "
            score = f"similarity {tile.similarity:.2f}" if tile.similarity is not None else " "
            return f"{score}\n{platform}"
        if role == Qt.ItemDataRole.DecorationRole:
            path = self.thumb_path(tile.sha256)
            return (self.thumbs.get(tile.sha256, str(path)) if path is not None else None) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [
                f"keyword: {tile.keyword}" if tile.keyword else "",
                f"similarity {tile.similarity:.3f} (cosine, higher is closer)" if tile.similarity is not None else "",
                PLATFORM_LABELS.get(tile.platform or "", tile.platform or "platform unknown"),
                f"posted {tile.post_date}" if tile.post_date else "post date unknown",
            ]
            return "\n".join(line for line in lines if line)
        if role == Qt.ItemDataRole.UserRole:
            return tile
        if role == Qt.ItemDataRole.SizeHintRole:
            # the grid measures the first tile for all (uniform sizes): a first "TikTok" made every
            # tile too narrow for "YouTube Shorts"
            return self.item_size
        return None

    def _thumb_ready(self, sha: str) -> None:
        for row in self._rows_by_sha.get(sha, []):
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class LibraryPane(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setAcceptDrops(True)
        self._worker = Worker(self)  # one search at a time: the searcher's index is shared
        self._searcher: Searcher | None = None
        self._pending: tuple[str, str] | None = None  # a search asked for before the index was ready
        self._finished_text: str | None = None
        self._all: list[Tile] = []
        self._job: Job | None = None
        self.thumbs = ThumbnailCache(parent=self)
        self.model = TileModel(self.thumbs, self._thumb_path, self)

        # -- first-run view
        self.first_run = QWidget()
        fr = QVBoxLayout(self.first_run)
        fr.addStretch()
        intro = QLabel(
            "<h2>Welcome to Value-Spectrum Studio</h2>"
            "<p>Three steps to measure a model's value preferences:</p>"
            "<ol><li>Bring in screenshots: import a folder (or crawl a feed).</li>"
            "<li>Build the search index with CLIP.</li>"
            "<li>Add a model provider and its key, then run the benchmark.</li></ol>"
        )
        intro.setWordWrap(True)
        fr.addWidget(intro)
        row = QHBoxLayout()
        self.first_import = QPushButton("1. Import screenshots...")
        self.first_index = QPushButton("2. Build index")
        self.first_index.setToolTip("Import screenshots first: the index is built from them")
        self.first_provider = QPushButton("3. Add a model provider")
        for b in (self.first_import, self.first_index, self.first_provider):
            row.addWidget(b)
        fr.addLayout(row)
        # the CLIP model's state (not downloaded / downloading / ready), with Download...
        from vspectrum_app.gui.weights_dialog import WeightsStateWidget

        self.model_state = WeightsStateWidget(self.ctx)
        fr.addWidget(self.model_state)
        fr.addStretch()
        self.first_import.clicked.connect(self.import_folder)
        self.first_index.clicked.connect(self.build_index)
        self.first_provider.clicked.connect(lambda: self.ctx.show_pane.emit("Settings"))

        # -- browser view
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search screenshots by keyword (e.g. handshake)  Ctrl+F")
        self.search.setAccessibleName("Search screenshots")
        self.search.setClearButtonEnabled(True)
        self.platform = QComboBox()
        self.platform.setAccessibleName("Platform filter")
        self.platform.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.platform.setMinimumContentsLength(12)
        self.platform.addItem(ALL_PLATFORMS, None)  # the catalog's platforms are added by refresh()
        # Post-date range: a year, a month or a day (ISO prefixes), bounds included; empty: no bound.
        self.date_from, self.date_to = QLineEdit(), QLineEdit()
        date_format = QRegularExpressionValidator(QRegularExpression(r"\d{4}(-\d{2}(-\d{2})?)?"), self)
        for edit, text in ((self.date_from, "posted from"), (self.date_to, "posted until")):
            edit.setPlaceholderText(text)  # short: the field is narrow; the format is in the tooltip
            edit.setToolTip(f"{text.capitalize()}: a year, a month or a day (YYYY, YYYY-MM or YYYY-MM-DD), included")
            edit.setValidator(date_format)
            edit.setClearButtonEnabled(True)
            edit.setAccessibleName(text)
            edit.setMaximumWidth(170)
            edit.textChanged.connect(lambda _: self._apply_view())
        self.sort = QComboBox()
        self.sort.addItems(["by similarity", "newest first", "oldest first", "by platform"])
        self.sort.setAccessibleName("Sort order")
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.platform)
        top.addWidget(self.date_from)
        top.addWidget(self.date_to)
        top.addWidget(self.sort)
        chips = self.chip_grid = QGridLayout()  # one row when wide, two rows of five when narrow
        chips.setSpacing(4)
        self.chips: dict[str, QPushButton] = {}
        for value in SCHWARTZ_VALUES:
            chip = QPushButton(value)
            chip.setCheckable(True)
            chip.setToolTip(f"Show {value}'s images: the 5 closest screenshots for each of its keywords")
            # the grid, not the chips, decides the width: resizeEvent picks one row or two
            chip.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            chip.clicked.connect(lambda checked, v=value: self.search_value(v) if checked else self.refresh())
            self.chips[value] = chip
        self._chip_columns = 0
        self._place_chips(len(self.chips))
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setIconSize(ICON)
        # room for the two caption lines (similarity, platform): a caption that does not fit is not
        # drawn, and one narrower than the longest platform name was cut ("YouTube Sho...")
        fm = self.grid.fontMetrics()
        caption = max(fm.horizontalAdvance(t) for t in (*PLATFORM_LABELS.values(), "similarity -0.00"))
        self.grid.setGridSize(QSize(max(124, caption + 24), ICON.height() + 2 * fm.lineSpacing() + 16))
        self.model.item_size = self.grid.gridSize() - QSize(6, 6)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.grid.setModel(self.model)
        self.grid.selectionModel().currentChanged.connect(self._show_detail)

        self.detail_image = QLabel("Select a screenshot")
        self.detail_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail_image.setMinimumWidth(200)
        self.detail_image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.detail_text = QTextBrowser()
        self.open_link = QPushButton("Open video link")
        self.open_link.setEnabled(False)
        self.open_link.clicked.connect(self._open_link)
        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.addWidget(self.detail_image, 2)
        dl.addWidget(self.open_link)
        dl.addWidget(self.detail_text, 1)

        split = QSplitter()
        split.addWidget(self.grid)
        split.addWidget(detail)
        split.setStretchFactor(0, 3)

        actions = QHBoxLayout()
        self.import_button = QPushButton("Import folder...")
        self.import_files_button = QPushButton("Import files...")
        self.index_button = QPushButton("Build index")
        self.coverage_button = QPushButton("Coverage chart")
        self.progress = JobProgress(with_message=False)  # the message goes to the status line
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.status = MessageLabel(lines=2)
        self.progress.message.connect(self.status.set_message)
        self.index_button.setToolTip(
            "Embed the screenshots with the CLIP model chosen in Settings so they can be searched"
        )
        self.coverage_button.setToolTip("How many screenshots lie close to each value's keywords")
        for w in (self.import_button, self.import_files_button, self.index_button, self.coverage_button):
            actions.addWidget(w)
        actions.addWidget(self.progress, 1)
        actions.addWidget(self.cancel_button)
        self.import_button.clicked.connect(self.import_folder)
        self.import_files_button.clicked.connect(self.import_files)
        self.index_button.clicked.connect(self.build_index)
        self.coverage_button.clicked.connect(self.show_coverage)
        self.cancel_button.clicked.connect(lambda: self._job and self._job.cancel())

        self.browser = QWidget()
        bl = QVBoxLayout(self.browser)
        bl.addLayout(top)
        bl.addLayout(chips)
        bl.addWidget(split, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.first_run)
        self.stack.addWidget(self.browser)
        layout = QVBoxLayout(self)
        style.tidy(layout)
        layout.addWidget(self.stack, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _: self._debounce.start())
        self.platform.currentIndexChanged.connect(lambda _: self._apply_view())
        self.sort.currentIndexChanged.connect(lambda _: self._apply_view())
        ctx.workspace_changed.connect(self._workspace_changed)
        ctx.library_changed.connect(self.refresh)
        self._workspace_changed()

    def _place_chips(self, columns: int) -> None:
        if columns != self._chip_columns:
            self._chip_columns = columns
            for n, chip in enumerate(self.chips.values()):
                self.chip_grid.addWidget(chip, n // columns, n % columns)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        wide = sum(c.sizeHint().width() + 4 for c in self.chips.values()) <= self.width() - 2 * style.MARGIN
        self._place_chips(len(self.chips) if wide else (len(self.chips) + 1) // 2)

    # -- data ---------------------------------------------------------------------------
    def _workspace_changed(self) -> None:
        self._searcher = None
        self._pending = None
        self.refresh()

    def refresh(self) -> None:
        """All screenshots, newest first (no model needed)."""
        ws = self.ctx.workspace
        if ws is None:
            self.stack.setCurrentWidget(self.first_run)
            return
        from vspectrum_app.library import catalog

        self._all = [
            Tile(r.id, r.sha256, r.ext, r.platform, r.post_date) for r in catalog.newest_images(ws, LIST_LIMIT)
        ]
        self._set_platforms(catalog.platforms(ws))
        self.stack.setCurrentWidget(self.browser if self._all else self.first_run)
        self._sync_actions()
        pending, self._pending = self._pending, None
        if pending and self.has_index():  # a search asked for before the index existed: its answer now
            kind, what = pending
            if kind == "value":
                self.search_value(what)
            elif self.search.text().strip() == what:
                self._run_search()
            return
        self._pending = pending
        if not self.search.text().strip() and not self._checked_value():
            self._set_results(self._all, self._count_text())

    def _count_text(self) -> str:
        """The library's count, and the index's (with the backend and precision that embedded it)."""
        from vspectrum_app.encoders.embedder import ClipSpec
        from vspectrum_app.library import catalog

        simulated = sum(1 for t in self._all if t.platform == SIMULATED)
        shown = len(self._all) - simulated
        ws = self.ctx.workspace
        index = catalog.index_summary(ws, ClipSpec.from_settings(self.ctx.settings.as_dict()).model_key) if ws else ""
        return (
            f"{shown} screenshots"
            + (
                f' ({simulated} simulator captures hidden: choose "simulator captures" in the platform filter to see '
                "them)"
                if simulated
                else ""
            )
            + (f"; {index}" if index else "")
        )

    def _sync_actions(self) -> None:
        """The first page has its own Import / Build index buttons: the row below shows them only
        for the browser, and Build index needs screenshots."""
        browsing = self.stack.currentWidget() is self.browser
        for b in (self.import_button, self.import_files_button, self.index_button, self.coverage_button):
            b.setVisible(browsing)
        has_images = bool(self._all)
        self.first_index.setEnabled(has_images)
        self.index_button.setEnabled(has_images)
        self.coverage_button.setEnabled(has_images)

    def _set_platforms(self, platforms: list[str]) -> None:
        current = self.platform.currentData()
        self.platform.blockSignals(True)
        self.platform.clear()
        self.platform.addItem(ALL_PLATFORMS, None)
        for p in platforms:
            self.platform.addItem(PLATFORM_LABELS.get(p, p), p)
        if SIMULATED in platforms:
            self.platform.setItemData(
                self.platform.count() - 1 if platforms[-1] == SIMULATED else self.platform.findData(SIMULATED),
                "Screenshots the simulator captured: copies of the library's own, kept out of the benchmark",
                Qt.ItemDataRole.ToolTipRole,
            )
        index = self.platform.findData(current)
        self.platform.setCurrentIndex(max(index, 0))  # kept while the catalog still has it
        self.platform.blockSignals(False)

    def _thumb_path(self, sha: str) -> Path | None:
        return self.ctx.workspace.thumb_path(sha) if self.ctx.workspace is not None else None

    def has_index(self) -> bool:
        """Whether the Settings' CLIP model has an index in this workspace (a search needs one)."""
        from vspectrum_app.library import catalog
        from vspectrum_app.encoders.embedder import ClipSpec

        ws = self.ctx.workspace
        return ws is not None and catalog.has_model(ws, ClipSpec.from_settings(self.ctx.settings.as_dict()).model_key)

    def _checked_value(self) -> str | None:
        return next((v for v, c in self.chips.items() if c.isChecked()), None)

    def searcher(self, ws: Workspace) -> Searcher:
        if self._searcher is None:
            from vspectrum_app.encoders.embedder import ClipSpec
            from vspectrum_app.library.search import Searcher

            self._searcher = Searcher(ws, ClipSpec.from_settings(self.ctx.settings.as_dict()))
        return self._searcher

    def _run_search(self) -> None:
        query = self.search.text().strip()
        for chip in self.chips.values():
            chip.setChecked(False)
        if not query:
            self._set_results(self._all, self._count_text())
            return
        ws = self.ctx.workspace
        if ws is None or not self.has_index():
            self.status.set_message(NO_INDEX + " The search runs when the index is ready.", "error")
            self._pending = ("query", query) if ws is not None else None
            return
        self._pending = None
        self.status.set_message(f"Searching for {query!r} (the first search loads the CLIP model)...")
        searcher = self.searcher(ws)

        def done(hits: list[Hit]) -> None:
            tiles = [Tile(h.image_id, h.sha256, h.ext, h.platform, h.post_date, h.similarity) for h in hits]
            self._search_done(query, tiles)

        self._worker.run(lambda: searcher.search(query, 60), done, self._search_failed)

    def search_value(self, value: str) -> None:
        for v, chip in self.chips.items():
            chip.setChecked(v == value)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        ws = self.ctx.workspace
        if ws is None or not self.has_index():
            self.chips[value].setChecked(False)
            self.status.set_message(NO_INDEX + f" {value}'s images are shown when the index is ready.", "error")
            self._pending = ("value", value) if ws is not None else None
            return
        self._pending = None
        self.status.set_message(f"Retrieving {value}'s images...")
        searcher = self.searcher(ws)

        def work() -> list[Tile]:
            from vspectrum_app.library import keywords

            found = searcher.retrieve_value(value, keywords.default_set(), k=5)
            hits = searcher.retrieval_hits(found)
            return [
                Tile(
                    r.image_id,
                    hits[r.image_id].sha256,
                    hits[r.image_id].ext,
                    hits[r.image_id].platform,
                    hits[r.image_id].post_date,
                    r.similarity,
                    r.keyword,
                )
                for r in found
            ]

        def done(tiles: list[Tile]) -> None:
            keywords = len({t.keyword for t in tiles})
            self._set_results(
                tiles,
                f"{len(tiles)} results for {value}: the closest to each of its {keywords} keywords "
                f"({self._order_text()}; the keyword is in each tile's tooltip)",
            )

        self._worker.run(work, done, self._search_failed)

    def _order_text(self) -> str:
        mode = self.sort.currentText()
        return "closest first, similarity under each" if mode == "by similarity" else mode

    def _search_done(self, label: str, tiles: list[Tile]) -> None:
        self._set_results(tiles, f"{len(tiles)} results for {label} ({self._order_text()})")

    def _search_failed(self, message: str) -> None:
        self.status.set_message(f"Search failed: {message}", "error")

    def _set_results(self, tiles: list[Tile], message: str) -> None:
        self._results = tiles
        self._apply_view()
        self.status.set_message(message)

    def _apply_view(self) -> None:
        tiles = list(getattr(self, "_results", self._all))
        platform = self.platform.currentData()
        tiles = (
            [t for t in tiles if t.platform == platform] if platform else [t for t in tiles if t.platform != SIMULATED]
        )
        # ISO dates compare as text; cutting the post date to the bound's length includes the
        # whole year or month typed. A half-typed bound ("202") filters nothing yet.
        lo, hi = (e.text() if e.hasAcceptableInput() else "" for e in (self.date_from, self.date_to))
        if lo or hi:
            tiles = [
                t
                for t in tiles
                if t.post_date and (not lo or t.post_date[: len(lo)] >= lo) and (not hi or t.post_date[: len(hi)] <= hi)
            ]
        mode = self.sort.currentText()
        if mode == "by similarity":  # a value's results come keyword by keyword: closest first across them
            tiles.sort(key=lambda t: -t.similarity if t.similarity is not None else 2.0)
        elif mode == "newest first":
            tiles.sort(key=lambda t: t.post_date or "", reverse=True)
        elif mode == "oldest first":
            tiles.sort(key=lambda t: t.post_date or "9999")
        elif mode == "by platform":
            tiles.sort(key=lambda t: t.platform or "")
        self.model.set_tiles(tiles)

    # -- details ------------------------------------------------------------------------
    def _show_detail(self, current: QModelIndex, _previous: QModelIndex | None = None) -> None:
        tile = self.model.data(current, Qt.ItemDataRole.UserRole)
        ws = self.ctx.workspace
        if tile is None or ws is None:
            return
        from vspectrum_app.library import catalog

        row = catalog.image_record(ws, tile.image_id)
        if row is None:  # removed meanwhile (a repair, another process)
            return
        pixmap = pixmap_upright(str(row.file.path(ws)))  # EXIF orientation applied, as in thumbnails
        self.detail_image.setPixmap(
            pixmap.scaled(
                self.detail_image.width(),
                420,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
        self._link = row.video_url
        self.open_link.setEnabled(links.openable(self._link or ""))  # http(s) only: metadata is outside text
        fields = [
            ("Platform", row.platform),
            ("Posted", row.post_date),
            ("Author", row.author),
            ("Caption", row.caption),
            ("Video", row.video_url),
            ("File", row.source_name),
            ("Size", f"{row.width}x{row.height}"),
            ("Captured", row.capture_time),
            ("Flags", row.flags),
        ]
        extra = row.extra
        html = "".join(f"<b>{k}:</b> {_esc(v)}<br>" for k, v in fields if v)
        html += "".join(f"<b>{_esc(k)}:</b> {_esc(str(v)[:300])}<br>" for k, v in extra.items())
        html += self._answers_html(ws, tile.image_id)
        self.detail_text.setHtml(html)

    def _answers_html(self, ws: Workspace, image_id: int) -> str:
        from vspectrum_app.bench.store import RunStore

        answers = RunStore(ws).answers_for_image(image_id)
        if not answers:
            return "<p><i>No model has answered about this screenshot yet.</i></p>"
        items = "".join(
            f"<li><b>{_esc(a['target'])}</b> ({_esc(a['value'])}, {a['mode']}): {a['answer_class']} - "
            f"{_esc((a['answer1'] or '')[:80])}<br><small>{_esc((a['answer2'] or '')[:200])}</small></li>"
            for a in answers[-10:]
        )
        return f"<p><b>What models said</b></p><ul>{items}</ul>"

    def _open_link(self) -> None:
        links.open_address(self._link or "")

    # -- jobs ---------------------------------------------------------------------------
    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import screenshots from a folder")
        if folder:
            self.import_paths([folder])

    def import_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Import screenshots", "", "Images (*.jpg *.jpeg *.png *.webp);;CSV (*.csv)"
        )
        if files:
            self.import_paths(files)

    def import_paths(self, paths: list[str]) -> None:
        if not self._need_workspace():
            return
        csvs = [p for p in paths if p.lower().endswith(".csv")]
        images = [p for p in paths if not p.lower().endswith(".csv")]
        params = library_ops.Import(
            paths=tuple(Path(p) for p in images), json=True, metadata=Path(csvs[0]) if csvs else None
        )
        self._start(
            "Import", params, on_finished=lambda code: self.ctx.library_changed.emit(), on_result=self._import_done
        )

    def _import_done(self, job: Job) -> None:
        report = result_of(job, library_ops.Imported)
        if report is None:
            return
        text = (
            f"Import finished: {report.added} added, {report.duplicates} already in the "
            f"library, {len(report.skipped)} skipped"
        )
        if report.skipped:
            text += f" (first: {report.skipped[0].path}: {report.skipped[0].reason})"
        self._finished_text = text

    def build_index(self) -> None:
        if not self._need_workspace():
            return
        self._start(
            "Index",
            library_ops.Index(clip=self.ctx.clip_options()),
            on_finished=self._index_finished,
        )

    def _index_finished(self, code: int) -> None:
        self._searcher = None  # the next search reads the new index
        self.ctx.library_changed.emit()
        if code == 0:  # the finished line says what embedded the index (backend, precision)
            self._finished_text = f"Index finished: {self._count_text()}"

    def show_coverage(self) -> None:
        if not self._need_workspace():
            return
        self._start(
            "Coverage", library_ops.Stats(json=True, clip=self.ctx.clip_options()), on_result=self._plot_coverage
        )

    def _plot_coverage(self, job: Job) -> None:
        """The chart in a dialog over the window (never a free window placed off-screen); the
        numbers were computed by the job, in its own process."""
        from PySide6.QtWidgets import QDialog

        from vspectrum_app.gui.plots import BarPlot

        stats = result_of(job, library_ops.LibraryStats)
        if stats is None or stats.coverage is None:
            self._finished_text = "Coverage finished: the library is empty" if stats is not None else None
            return
        coverage = stats.coverage
        values = coverage.values
        dialog = QDialog(self)
        dialog.setWindowTitle("Coverage per value")
        plot = BarPlot("Screenshots close to each value's keywords")
        if coverage.method == "radius":
            how = (
                f"within distance {coverage.radius} (Euclidean, on unit-length CLIP vectors, as in the "
                f"paper) of one of the value's keywords"
            )
        else:
            how = (
                f"at least {coverage.threshold or 0:.3f} similar (cosine) to one of the value's keywords: "
                f"the closest 1% of all screenshot-keyword pairs for this CLIP model (docs/library.md)"
            )
        plot.setToolTip(f"A screenshot counts for a value when it is {how}")
        plot.set_groups(list(values), {"screenshots": [(v.images, None, None) for v in values.values()]}, None)
        plot.setLabel("left", "screenshots")
        QVBoxLayout(dialog).addWidget(plot)
        window = self.window().geometry()
        dialog.resize(min(900, window.width() - 40), min(420, window.height() - 80))
        dialog.open()
        self._coverage_plot = dialog

    def _start(
        self,
        title: str,
        params: Operation,
        on_finished: Callable[[int], object] | None = None,
        on_result: Callable[[Job], object] | None = None,
    ) -> Job | None:
        """Start the job (one at a time); ``on_result`` gets the ended job (its typed result:
        ``result_of``), then ``on_finished`` its exit code."""
        if self._job is not None and self._job.running:
            QMessageBox.information(self, title, f"{self._job.title} is still running.")
            return None
        job = self.ctx.run_job(title, params)
        self._job = job
        self.progress.setVisible(True)
        self.progress.start()
        self.cancel_button.setVisible(True)
        job.progress.connect(self.progress.on_progress)
        job.log.connect(lambda level, msg: self.status.set_message(msg))
        job.failed.connect(lambda msg: self.status.set_message(f"{title} failed: {msg}", "error"))
        self._finished_text = None

        def finished(code: int) -> None:
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)
            if on_result:
                on_result(job)
            if on_finished:
                on_finished(code)
            if code == 0:
                self.status.set_message(self._finished_text or f"{title} finished", "success")
            elif code == 130:
                self.status.set_message(f"{title} cancelled; what it finished is kept")

        job.finished.connect(finished)
        return job

    def _need_workspace(self) -> bool:
        if self.ctx.workspace is None:
            QMessageBox.information(self, "No workspace", "Open or create a workspace first (File menu).")
            return False
        return True

    # -- drag and drop ------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.import_paths(paths)


def _esc(text: object) -> str:
    import html

    return html.escape(str(text))
