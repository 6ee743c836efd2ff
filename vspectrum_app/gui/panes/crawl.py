"""Crawl pane: `vspectrum crawl` with a form. Choose the simulator or a real feed, how many
captures and how politely; start, pause, stop; watch captures arrive as thumbnails with
counters and a log. Past sessions are listed in the second tab."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImageReader, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core import events
from vspectrum_app.crawl import ops as crawl_ops
from vspectrum_app.crawl.ops import Crawl
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.feed_options import SimulatorBox, platform_combo
from vspectrum_app.gui.job_controls import JobControls
from vspectrum_app.gui.job_log import JobLog, JobProgress
from vspectrum_app.gui.jobs import Job, result_of

THUMB = QSize(90, 160)  # the feeds are vertical video
MAX_THUMBS = 500  # oldest tiles are dropped so a long crawl does not grow memory without bound
FLAG_COLOR = QColor("#b00020")
SIM_NOTE = (
    " Simulator captures are tagged and kept out of the benchmark; the Library shows them under "
    '"simulator captures" in its platform filter.'
)
DUPLICATES = ("duplicate_link", "duplicate_image")


def _thumbnail(path: str | None, flagged: bool) -> QPixmap:
    """A small pixmap decoded at thumbnail size (rejected captures are full screenshots);
    flagged captures get a red frame so they stand out in the grid."""
    pixmap = QPixmap(THUMB)
    pixmap.fill(QColor("#dddddd"))
    if path:
        reader = QImageReader(path)
        size = reader.size()
        if size.isValid():
            reader.setScaledSize(size.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if not image.isNull():
            painter = QPainter(pixmap)
            painter.drawImage((THUMB.width() - image.width()) // 2, (THUMB.height() - image.height()) // 2, image)
            painter.end()
    if flagged:
        painter = QPainter(pixmap)
        painter.setPen(QPen(FLAG_COLOR, 6))
        painter.drawRect(pixmap.rect().adjusted(3, 3, -3, -3))
        painter.end()
    return pixmap


class CrawlPane(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.job: Job | None = None
        self._reset_counts()

        # -- configuration
        config = QGroupBox("Crawl")
        form = QFormLayout(config)
        self.platform = platform_combo()
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The simulated recommender's seed: same seed and same watching, same feed")
        self.sim_box = SimulatorBox([("Seed", self.seed)], empty=SimulatorBox.TEST_PICTURES)
        self.skin, self.images = self.sim_box.skin, self.sim_box.images
        self.count = QSpinBox()
        self.count.setRange(1, 100_000)
        self.count.setValue(20)
        self.count.setToolTip("New captures to store (duplicates and flagged frames do not count)")
        self.show_browser = QCheckBox("Show the browser window")
        self.show_browser.setChecked(True)
        self.show_browser.setToolTip(
            "Watch the crawl and log in or solve a captcha when asked; off runs the browser headless"
        )
        self.delay = QDoubleSpinBox()
        self.delay.setRange(0, 600)
        self.delay.setDecimals(1)
        self.delay.setSuffix(" s")
        self.delay.setToolTip("Seconds between videos (politeness; the default comes from Settings)")
        form.addRow("Platform", self.platform)
        form.addRow(self.sim_box)
        form.addRow("Captures", self.count)
        form.addRow("Delay between videos", self.delay)
        form.addRow(self.show_browser)
        self.controls = JobControls(
            start_tip="Start the crawl (Ctrl+Return)",
            pause_tip="Freeze the crawl where it stands; a video whose capture moment passes meanwhile "
            "is started again",
            stop_tip="Stop after the video in flight; every capture so far is kept",
            idle="No crawl yet.",
            running="Crawling...",
            paused="Paused: Resume continues the crawl.",
            stopping="Stopping after the video in flight...",
            kept="every capture so far",
        )
        self.start_button, self.pause_button, self.stop_button, self.status = (  # the names tests use
            self.controls.start_button,
            self.controls.pause_button,
            self.controls.stop_button,
            self.controls.status,
        )
        form.addRow(self.controls)
        self.platform.currentIndexChanged.connect(self._platform_changed)
        self.controls.start_requested.connect(self.start)

        # -- live view
        self.progress = JobProgress()
        self.counters = QLabel()
        self.thumbs = QListWidget()
        self.thumbs.setViewMode(QListView.ViewMode.IconMode)
        self.thumbs.setIconSize(THUMB)
        self.thumbs.setResizeMode(QListView.ResizeMode.Adjust)
        self.thumbs.setMovement(QListView.Movement.Static)
        self.thumbs.setUniformItemSizes(True)
        self.log = JobLog()
        live = QWidget()
        ll = QVBoxLayout(live)
        ll.addWidget(self.progress)
        ll.addWidget(self.counters)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.thumbs)
        split.addWidget(self.log)
        split.setStretchFactor(0, 3)
        ll.addWidget(split, 1)

        # -- past sessions
        self.sessions = QTableWidget(0, 6)
        self.sessions.setHorizontalHeaderLabels(["Started", "Platform", "Layout", "Status", "Stored", "Message"])
        self.sessions.horizontalHeader().setStretchLastSection(True)
        self.sessions.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.tabs = QTabWidget()
        self.tabs.addTab(live, "Live")
        self.tabs.addTab(self.sessions, "Sessions")

        outer = QSplitter()
        outer.addWidget(config)
        outer.addWidget(self.tabs)
        outer.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(outer)

        ctx.workspace_changed.connect(self._load_sessions)
        self._platform_changed()
        self._show_counts()
        self._load_sessions()

    # -- form ---------------------------------------------------------------------------
    def _platform_changed(self) -> None:
        is_sim = self.platform.currentData() == "sim"
        self.sim_box.setVisible(is_sim)
        # the simulator is ours to hammer; real sites get the politeness delay from Settings
        self.delay.setValue(0.0 if is_sim else float(self.ctx.settings.get("crawl_delay_s") or 0))

    def crawl_params(self) -> Crawl:
        """The `vspectrum crawl` job for the form as it stands."""
        platform = self.platform.currentData()
        params = Crawl(
            platform=platform,
            count=self.count.value(),
            delay=self.delay.value(),
            headless=None if self.show_browser.isChecked() else True,
            clip=self.ctx.clip_options(),
        )  # captures are embedded with the Settings' model
        if platform != "sim":
            return params
        skin, images = self.sim_box.choice()
        return replace(params, skin=skin, images=images, seed=self.seed.value())

    # -- actions ------------------------------------------------------------------------
    def start(self) -> None:
        if self.job is not None:
            return
        if self.ctx.workspace is None:
            self.controls.set_status("Open a workspace first (File menu): captures go into it.", error=True)
            return
        self._reset_counts()
        self.thumbs.clear()
        self.log.clear()
        self._show_counts()
        self.progress.start(self.count.value())
        self.job = job = self.ctx.run_job("Crawl", self.crawl_params())
        job.received.connect(self._on_event)
        self.log.follow(job, self.progress)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._finished)
        self.controls.attach(job)
        self.controls.set_status("Crawling...")

    # -- job events ---------------------------------------------------------------------
    def _reset_counts(self) -> None:
        self.counts = {"stored": 0, "duplicates": 0, "flagged": 0}
        self.positions: set[int] = set()  # a login wall is recorded at a position again once passed
        self._error: str | None = None

    def _show_counts(self) -> None:
        c = self.counts
        self.counters.setText(
            f"{c['stored']} stored, {c['duplicates']} duplicates, {c['flagged']} flagged, "
            f"{len(self.positions)} videos seen"
        )

    def _on_event(self, event: events.Event) -> None:
        match event:
            case events.Capture():
                self._add_capture(event)
            case events.Result(data=crawl_ops.Crawled() as result):
                self._on_result(result)

    def _add_capture(self, e: events.Capture) -> None:
        outcome = e.outcome or ""
        if outcome == "stored":
            self.counts["stored"] += 1
        elif outcome in DUPLICATES:
            self.counts["duplicates"] += 1
        elif outcome == "flagged":
            self.counts["flagged"] += 1
        if e.position is not None:
            self.positions.add(e.position)
        self._show_counts()
        flagged = outcome == "flagged"
        flags = ", ".join(e.flags or [])
        label = outcome.replace("_", " ") + (f": {flags}" if flagged and flags else "")
        item = QListWidgetItem(QIcon(_thumbnail(e.image, flagged)), label)
        item.setData(Qt.ItemDataRole.UserRole, e)
        if flagged:
            item.setForeground(FLAG_COLOR)
        item.setToolTip(
            "\n".join(
                line
                for line in (
                    f"video {(e.position or 0) + 1}: {label}",
                    e.link or "",
                    e.author or "",
                    e.post_date or "",
                    (e.caption or "")[:200],
                )
                if line
            )
        )
        self.thumbs.insertItem(0, item)  # newest first: what the browser shows now is at the top
        while self.thumbs.count() > MAX_THUMBS:
            self.thumbs.takeItem(self.thumbs.count() - 1)

    def _on_failed(self, message: str) -> None:
        self._error = message
        if result_of(self.job, crawl_ops.Crawled) is None:  # a crawl that ended with a result has said why there
            self.log.appendPlainText(f"error: {message}")

    def _on_result(self, r: crawl_ops.Crawled) -> None:
        # the final counts are the crawler's own (videos seen excludes repeated walls)
        self.counts.update(stored=r.stored, duplicates=r.duplicates, flagged=r.flagged)
        self.positions = set(range(r.positions))
        self._show_counts()
        self.log.appendPlainText(crawl_ops.summary(r))

    def _finished(self, code: int) -> None:
        result = result_of(self.job, crawl_ops.Crawled)
        self.job = None
        self.controls.attach(None)
        status, message = (result.status, result.message) if result is not None else (None, None)
        if code == 0:
            sim = SIM_NOTE if self.platform.currentData() == "sim" and self.counts["stored"] else ""
            self.controls.set_status(f"Finished: {self.counts['stored']} captures stored.{sim}", kind="success")
        elif status == "stopped" and message and message.startswith("stopped after"):
            self.controls.set_status(message[0].upper() + message[1:] + ".", error=True)  # e.g. only duplicates
        elif code == 130 or status == "stopped":
            why = f" ({message})" if message and message != "cancelled" else ""
            self.controls.set_status(f"Stopped{why}: {self.counts['stored']} captures kept.")
        else:
            # a blocked or failed crawl says why in its result; a crash only through the error
            why = message or self._error or f"exit code {code}"
            self.controls.set_status(f"{(status or 'failed').capitalize()}: {why}", error=True)
        self.ctx.library_changed.emit()
        self._load_sessions()

    # -- sessions -----------------------------------------------------------------------
    def _load_sessions(self) -> None:
        self.sessions.setRowCount(0)
        if self.ctx.workspace is None:
            return
        from vspectrum_app.crawl.store import CrawlStore

        rows = CrawlStore(self.ctx.workspace).sessions()
        self.sessions.setRowCount(len(rows))
        for i, r in enumerate(rows):
            platform = "simulator (kept out of the benchmark)" if r["platform"] == "sim" else r["platform"]
            cells = [
                (r.get("started_at") or "")[:19].replace("T", " "),
                platform,
                r.get("skin") or "",
                r["status"],
                f"{r['stored']}/{r['target']}",
                r.get("message") or "",
            ]
            for col, text in enumerate(cells):
                self.sessions.setItem(i, col, QTableWidgetItem(str(text)))
        self.sessions.resizeColumnsToContents()
