"""The Crawl pane through its real widgets, fed by a stand-in job (no browser is started
here; the crawler itself is tested with Chromium under tests/crawl)."""

from __future__ import annotations

import os
import sys
import time

import pytest
from PySide6.QtCore import Qt

from tests.gui.fakes import use_fake_jobs
from tests.plugins.library import make_image_bytes
from vspectrum_app.core import events
from vspectrum_app.crawl.ops import Crawl, Crawled
from vspectrum_app.gui.context import AppContext
from vspectrum_app.library.ops import ClipOptions
from vspectrum_app.gui.jobs import Job
from vspectrum_app.gui.panes.crawl import CrawlPane

pytestmark = pytest.mark.gui


@pytest.fixture
def ctx(tmp_path):
    ctx = AppContext()
    ctx.settings.update(crawl_delay_s=2.5, clip_model="ViT-B-32", clip_pretrained="openai")
    ctx.open_workspace(tmp_path / "ws")
    return use_fake_jobs(ctx)


@pytest.fixture
def pane(qtbot, ctx):
    pane = CrawlPane(ctx)
    qtbot.addWidget(pane)
    pane.show()
    return pane


def _choose(pane, platform: str) -> None:
    pane.platform.setCurrentIndex(pane.platform.findData(platform))


def _capture(position, outcome, image=None, flags=(), **extra):
    return {
        "type": "capture",
        "session_id": "s1",
        "position": position,
        "outcome": outcome,
        "flags": list(flags),
        "image": image,
        "link": f"https://sim.test/v/{position}",
        "author": "@someone",
        "caption": "a caption",
        "post_date": "2024-05-01",
        "offset_s": 2.01,
        **extra,
    }


def _crawled(**fields) -> events.Result:
    """The crawl job's result as the child sends it (typed: the fake job writes and reads it back)."""
    defaults = dict(message=None, positions=0, stored=0, image_ids=(), duplicates=0, flagged=0, restarts=0)
    return events.Result(data=Crawled(**{**defaults, **fields}))


def test_arguments_for_each_platform_choice(pane, ctx, qtbot):
    clip = ClipOptions(clip_model="ViT-B-32", pretrained="openai")
    # the simulator: layout and seed, no politeness delay, a visible window by default
    _choose(pane, "sim")
    assert pane.sim_box.isVisible() and pane.delay.value() == 0
    pane.skin.setCurrentIndex(pane.skin.findData("instagram"))
    pane.seed.setValue(7)
    pane.count.setValue(12)
    assert pane.crawl_params() == Crawl(platform="sim", count=12, delay=0.0, skin="instagram", seed=7, clip=clip)
    pane.images.setText("/data/shots")
    pane.show_browser.setChecked(False)
    assert pane.crawl_params() == Crawl(
        platform="sim", count=12, delay=0.0, headless=True, skin="instagram", images="/data/shots", seed=7, clip=clip
    )
    # real platforms: the Settings delay, no simulator options
    for platform in ("tiktok", "youtube", "instagram"):
        _choose(pane, platform)
        assert not pane.sim_box.isVisible() and pane.delay.value() == 2.5
        assert pane.crawl_params() == Crawl(platform=platform, count=12, delay=2.5, headless=True, clip=clip)
    pane.show_browser.setChecked(True)
    pane.delay.setValue(4)
    assert pane.crawl_params() == Crawl(platform="instagram", count=12, delay=4.0, clip=clip)
    # Start (Ctrl+Return) runs exactly that command as the "Crawl" job
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow)
    qtbot.keyClick(pane, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(ctx.started))  # a button's shortcut clicks it with a short animation
    assert ctx.started == [("Crawl", Crawl(platform="instagram", count=12, delay=4.0, clip=clip))]


def test_live_view_counts_thumbnails_log_and_end(pane, ctx, qtbot, tmp_path):
    shot = tmp_path / "shot.jpg"
    shot.write_bytes(make_image_bytes(seed=1))
    _choose(pane, "sim")
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    job = ctx.job
    assert not pane.start_button.isEnabled() and pane.stop_button.isEnabled() and pane.pause_button.isEnabled()

    job.send({"type": "log", "level": "info", "message": "crawl s1: 3 captures from http://127.0.0.1/feed"})
    job.send(_capture(0, "stored", str(shot)))
    job.send({"type": "progress", "done": 1, "total": 3, "message": "video 1: 1 stored"})
    job.send(_capture(1, "flagged", str(shot), flags=["black_frame"]))
    job.send({"type": "log", "level": "info", "message": "video 2: flagged (black_frame)"})
    job.send(_capture(2, "duplicate_link"))
    job.send(_capture(3, "duplicate_image", str(shot)))
    job.send(_capture(4, "stored", str(shot)))
    job.send({"type": "log", "level": "warning", "message": "a slow page"})

    assert pane.counters.text() == "2 stored, 2 duplicates, 1 flagged, 5 videos seen"
    assert pane.thumbs.count() == 5
    newest, flagged = pane.thumbs.item(0), pane.thumbs.item(3)
    assert newest.data(Qt.ItemDataRole.UserRole).position == 4
    assert "flagged: black_frame" in flagged.text() and flagged.foreground().color().name() == "#b00020"
    assert "https://sim.test/v/1" in flagged.toolTip() and "2024-05-01" in flagged.toolTip()
    assert not flagged.icon().isNull()
    assert (pane.progress.value(), pane.progress.maximum()) == (1, 3)
    log = pane.log.toPlainText()
    assert "crawl s1: 3 captures" in log and "video 2: flagged (black_frame)" in log and "warning: a slow page" in log

    # pause and resume suspend and continue the job; Stop cancels it
    qtbot.mouseClick(pane.pause_button, Qt.MouseButton.LeftButton)
    assert job.paused and pane.pause_button.text() == "Resume" and "Paused" in pane.status.full_text()
    qtbot.mouseClick(pane.pause_button, Qt.MouseButton.LeftButton)
    assert not job.paused and pane.pause_button.text() == "Pause"

    job.send(
        _crawled(session_id="s1", status="done", stored=2, duplicates=2, flagged=1, positions=5, index="2 embedded")
    )
    with qtbot.waitSignal(ctx.library_changed):
        job.finished.emit(0)
    assert "s1: done; 2 stored, 2 duplicates, 1 flagged, 5 videos seen; index: 2 embedded" in pane.log.toPlainText()
    assert pane.status.full_text().startswith("Finished: 2 captures stored.") and pane.status.kind() == "success"
    assert pane.platform.currentData() == "sim"  # the simulator crawl chosen above says where its captures went
    assert "kept out of the benchmark" in pane.status.full_text()
    assert "simulator captures" in pane.status.full_text()
    assert pane.start_button.isEnabled() and not pane.stop_button.isEnabled() and not pane.pause_button.isEnabled()


def test_stop_and_failures_say_why(pane, ctx, qtbot):
    pane.start()
    qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    assert ctx.job.cancelled
    ctx.job.finished.emit(130)
    assert pane.status.full_text() == "Stopped: 0 captures kept."

    # a crash: the one-sentence error goes to the log and the status label
    pane.start()
    ctx.job.failed.emit("Chromium was not found; set its path in Settings")
    ctx.job.finished.emit(1)
    assert "error: Chromium was not found" in pane.log.toPlainText()
    assert pane.status.full_text() == "Failed: Chromium was not found; set its path in Settings"
    assert pane.status.kind() == "error"

    # a crawl blocked by a login wall ends with a result that says what to do
    pane.start()
    ctx.job.send(
        _crawled(session_id="s2", status="blocked", stored=1, flagged=1, positions=1, message="blocked by a login wall")
    )
    ctx.job.failed.emit("exit code 1")
    ctx.job.finished.emit(1)
    assert pane.status.full_text() == "Blocked: blocked by a login wall"
    assert "exit code 1" not in pane.log.toPlainText()


def test_needs_a_workspace(qtbot):
    ctx = AppContext()
    pane = CrawlPane(ctx)
    qtbot.addWidget(pane)
    pane.start()
    assert pane.job is None and "Open a workspace" in pane.status.full_text()


def test_sessions_tab_lists_the_workspace_sessions(pane, ctx):
    from vspectrum_app.crawl.store import CrawlStore

    store = CrawlStore(ctx.workspace)
    sid = store.create("sim", "youtube", "http://127.0.0.1/feed", 5, {})
    store.finish(sid, "done", None)
    ctx.workspace_changed.emit()
    assert pane.sessions.rowCount() == 1
    assert [pane.sessions.item(0, c).text() for c in (1, 2, 3, 4)] == [
        "simulator (kept out of the benchmark)",
        "youtube",
        "done",
        "0/5",
    ]


@pytest.mark.skipif(not Job.can_pause or not os.path.exists("/proc/self/stat"), reason="needs SIGSTOP and /proc")
def test_job_pause_suspends_and_resume_continues_the_child(qtbot):
    # a real child process (Python sleeping) paused and resumed through the Job API
    job = Job("sleep", None, None)
    job.process.setProgram(sys.executable)
    job.process.setArguments(["-c", "import time; time.sleep(30)"])
    job.start()
    assert job.process.waitForStarted(10_000)
    pid = job.process.processId()
    assert job.pause() and _stopped(pid, True)
    job.resume()
    assert not job.paused and _stopped(pid, False)
    job.pause()
    with qtbot.waitSignal(job.finished, timeout=20_000):
        job.cancel()  # a paused job still stops: it is continued to receive the SIGTERM
    assert not job.paused


def _stopped(pid: int, expected: bool) -> bool:
    """Whether the process reaches the expected stopped state (signals land asynchronously)."""
    for _ in range(100):
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        if (state in ("T", "t")) == expected:
            return True
        time.sleep(0.02)
    return False


def test_a_crawl_of_only_duplicates_ends_with_the_crawlers_sentence(pane, ctx, qtbot):
    """Issue 29 item 1: the form's default is the simulator's own pictures, and a crawl the core
    stopped after a run of duplicates says so in the status line, not as "Stopped (stopped ...)"."""
    assert pane.crawl_params().images is None and not pane.crawl_params().workspace_images
    assert "test pictures" in pane.images.placeholderText()
    assert "simulator's own test pictures, new to the workspace" in pane.images.toolTip()
    pane.start()
    sentence = (
        "stopped after 8 videos: the last 8 in a row were already in the library, so the feed has nothing "
        "new (0 new captures kept); on the simulator, serve its own test pictures or another folder of images"
    )
    ctx.job.send(_crawled(session_id="s3", status="stopped", duplicates=8, positions=8, message=sentence))
    ctx.job.finished.emit(1)
    assert pane.status.full_text() == "S" + sentence[1:] + "."
    assert pane.status.kind() == "error"
