"""Issue 29 (the window, round 3): what a newcomer tripped on, each through the real widgets."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from tests.gui.fakes import use_fake_jobs
from vspectrum_app.core import events
from vspectrum_app.gui.context import AppContext
from vspectrum_app.library.ops import ModelInfo

pytestmark = pytest.mark.gui


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


# -- item 4: the welcome view's CLIP line follows the model chosen in Settings ---------------------
def test_the_welcome_views_clip_line_follows_a_local_model_saved_in_settings(window, qtbot, tiny_clip, tmp_path):
    window.open_workspace(tmp_path / "ws")
    library = window.show_pane("Library")
    assert library.model_state.label.full_text() == "CLIP weights: not downloaded"
    settings = window.show_pane("Settings")
    settings.clip_config.set_path(tiny_clip.config)
    settings.clip_checkpoint.set_path(tiny_clip.checkpoint)
    qtbot.mouseClick(settings.save_settings_button, Qt.MouseButton.LeftButton)
    window.show_pane("Library")
    assert library.model_state.label.full_text().startswith("CLIP model: tiny-clip from ")
    assert library.model_state.button.isHidden()  # no Download... for a model on disk


# -- item 10: a validation message does not move the form ------------------------------------------
def test_persona_validation_messages_take_space_kept_for_them(qtbot, tmp_path, monkeypatch):
    from vspectrum_app.gui.panes.persona import FormError, PersonaPane

    ctx = AppContext()
    ctx.open_workspace(tmp_path / "ws")
    pane = PersonaPane(ctx)
    qtbot.addWidget(pane)
    pane.resize(1100, 900)
    pane.show()
    qtbot.waitExposed(pane)

    def places() -> tuple[int, int, int]:
        _settle()
        return tuple(w.mapTo(pane, QPoint(0, 0)).y() for w in (pane.models, pane.trials, pane.start_button))

    monkeypatch.setattr(pane, "run_params", lambda: None)
    pane.validate()
    valid = places()

    def invalid():
        raise FormError("Tick at least one persona (add one in the Personas tab first) " * 2, pane.personas)

    monkeypatch.setattr(pane, "run_params", invalid)
    assert pane.validate()
    assert pane.field_errors[pane.personas].full_text() and pane.form_error.full_text()
    assert places() == valid


# -- item 13: Settings: progress while the model loads, a column that stays, no stale "saved" -------
def test_the_model_check_shows_progress_until_it_ends(window, tiny_clip):
    use_fake_jobs(window.ctx)
    window.ctx.settings.update(clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint)
    pane = window.show_pane("Settings")
    assert not pane.model_progress.isVisibleTo(pane)
    pane.model_button.click()
    assert pane.model_progress.isVisibleTo(pane) and not pane.model_button.isEnabled()
    window.ctx.job.send(events.Result(data=ModelInfo("tiny-clip", "k", 8, "torch on the CPU", (224, 224))))
    window.ctx.job.finished.emit(0)
    assert not pane.model_progress.isVisibleTo(pane) and pane.model_button.isEnabled()
    assert pane.model_status.full_text().startswith("Ready: tiny-clip")


def test_settings_keep_room_for_the_scroll_bar_and_drop_a_stale_saved_line(window, qtbot):
    pane = window.show_pane("Settings")
    window.resize(1366, 768)
    _settle()
    (scroll,) = [a for a in pane.findChildren(type(window.stack.currentWidget())) if a.parent() is pane]
    assert scroll.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOn
    qtbot.mouseClick(pane.save_settings_button, Qt.MouseButton.LeftButton)
    assert pane.status.full_text().startswith("Settings saved")
    qtbot.keyClicks(pane.browser.edit, "/usr/bin/chromium")
    assert pane.status.full_text() == ""
    qtbot.mouseClick(pane.save_settings_button, Qt.MouseButton.LeftButton)
    window.show_pane("Library")
    window.show_pane("Settings")
    assert pane.status.full_text() == ""  # not news on the next visit


# -- item 5: a search typed before the index existed runs when the index is ready -------------------
def test_a_search_typed_before_the_index_runs_when_the_index_is_ready(window, qtbot, workspace, clip_used_before):
    tiny_clip = clip_used_before  # the model used before: the build below embeds, it does not export first
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import build_index

    for i in range(6):
        add_image(workspace, make_image_bytes(seed=i), source_name=f"{i}.jpg", meta={"platform": "tiktok"})
    window.ctx.settings.update(clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint)
    window.open_workspace(workspace.root)
    pane = window.show_pane("Library")
    qtbot.keyClicks(pane.search, "handshake")
    qtbot.waitUntil(lambda: "Build the index first" in pane.status.full_text(), timeout=5000)
    assert "runs when the index is ready" in pane.status.full_text()
    build_index(workspace, tiny_clip)  # what the Build index job does in its own process
    window.ctx.library_changed.emit()  # ... and what the pane hears when it ends
    qtbot.waitUntil(lambda: "results for handshake" in pane.status.full_text(), timeout=60_000)
    assert pane.model.rowCount() == 6


# -- item 6: a value's results are in the order the status line says --------------------------------
def test_value_chip_results_are_closest_first_as_said(window, qtbot, indexed_workspace, tiny_clip):
    window.ctx.settings.update(clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint)
    window.open_workspace(indexed_workspace.root)
    pane = window.show_pane("Library")
    pane.search_value("Power")
    qtbot.waitUntil(lambda: "results for Power" in pane.status.full_text(), timeout=60_000)
    assert "closest first" in pane.status.full_text()
    shown = [pane.model.tiles[i].similarity for i in range(pane.model.rowCount())]
    assert len(shown) > 1 and shown == sorted(shown, reverse=True)
    assert len({t.keyword for t in pane.model.tiles}) > 1  # several keywords, interleaved by closeness


# -- item 7: tile captions are not cut ----------------------------------------------------------------
def test_tile_captions_have_room_for_the_longest_platform_name(window, workspace):
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.library.importer import add_image

    # the newest first: a TikTok tile is measured for all, then a YouTube Shorts one must fit
    for i, platform in enumerate(("youtube", "instagram", "tiktok")):
        meta = {"platform": platform, "post_date": f"2024-0{i + 1}-01"}
        add_image(workspace, make_image_bytes(seed=i), source_name=f"{i}.jpg", meta=meta)
    window.open_workspace(workspace.root)
    pane = window.show_pane("Library")
    QApplication.processEvents()
    fm = pane.grid.fontMetrics()
    assert pane.model.rowCount() == 3
    for row in range(3):
        caption = pane.model.data(pane.model.index(row), Qt.ItemDataRole.DisplayRole).split("\n")[1]
        room = pane.grid.visualRect(pane.model.index(row)).width()
        assert fm.horizontalAdvance(caption) + 12 <= room, (caption, room)  # the style's text margins


# -- item 8: no terminal text in the window --------------------------------------------------------
def test_a_stop_notice_for_the_window_names_no_terminal_key():
    import io
    import json

    from vspectrum_app.core.jobs import JsonLinesReporter, TerminalReporter

    out = io.StringIO()
    reporter = JsonLinesReporter(out)  # the reporter of a job the window runs (--events)
    reporter._stop_notice_due = True  # what the signal handler sets on the Stop button's SIGINT
    reporter.cancel()
    assert reporter.cancelled()
    (notice,) = [json.loads(line)["message"] for line in out.getvalue().splitlines()]
    assert notice == "stopping after the work in flight"
    assert "Ctrl-C" in TerminalReporter.STOP_NOTICE  # the terminal keeps its hint


# -- item 9: the sidebar says what runs -------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "pane", "said"),
    [
        (["library", "model", "--json"], "Library", "checking the CLIP model"),
        (["bench", "run", "--model", "a:b", "--dry-run"], "Benchmark", "estimating the cost"),
        (["bench", "run", "--model", "a:b"], "Benchmark", "run in progress"),
        (["library", "index"], "Library", "building the index"),
    ],
)
def test_the_sidebar_tells_a_model_check_or_an_estimate_from_a_run(window, args, pane, said):
    from vspectrum_app.gui.panes import PANES

    row = [t for t, _, _ in PANES].index(pane)
    params = SimpleNamespace(dry_run="--dry-run" in args)  # what bench.ops.Run carries
    window.ctx.jobs.jobs.append(type("J", (), {"args": args, "title": "a job", "params": params})())
    window.ctx.jobs.changed.emit()
    text = window.nav.item(row).text()
    window.ctx.jobs.jobs.clear()  # before any assert: a job left in the list makes closing the window ask
    window.ctx.jobs.changed.emit()
    assert text == f"{pane}\n{said}"


# -- item 12: the watched browser opens beside the app ----------------------------------------------
def test_jobs_learn_where_a_watched_browser_window_goes(window, tmp_path):
    from PySide6.QtCore import QRect

    from vspectrum_app.crawl.browser import WINDOW_ENV
    from vspectrum_app.gui.jobs import Job
    from vspectrum_app.gui.main_window import browser_beside
    from vspectrum_app.library.ops import Stats

    available = QRect(0, 0, 1920, 1080)
    assert browser_beside(available, QRect(0, 0, 1300, 1080)) == QRect(1300, 0, 620, 1080)  # the room beside
    assert browser_beside(available, QRect(700, 0, 1220, 1080)) == QRect(0, 0, 700, 1080)  # the wider side
    small = QRect(0, 0, 1366, 768)  # the app fills the screen: the browser takes the right part only
    assert browser_beside(small, small) == QRect(1366 - 614, 0, 614, 768)

    window.resize(1000, 700)
    QApplication.processEvents()
    place = window.ctx.jobs.env[WINDOW_ENV]
    frame = window.frameGeometry()
    assert place == "{},{},{},{}".format(*browser_beside(window.available_area(), frame).getRect())
    job = Job("Coverage", Stats(json=True), str(tmp_path / "ws"), window.ctx.jobs)  # not started
    assert job.process.processEnvironment().value(WINDOW_ENV) == place


def test_two_runs_with_one_name_are_told_apart_and_ids_are_not_cut(qtbot, tmp_path):
    from vspectrum_app.gui.panes.results import ResultsPane

    ctx = AppContext()
    ctx.open_workspace(tmp_path / "ws")
    pane = ResultsPane(ctx)
    qtbot.addWidget(pane)
    pane.names = {"run-20261207-101533-aaaaaa": "pilot", "run-20261207-101533-bbbbbb": "pilot", "run-3": "solo"}
    assert pane.run_name("run-20261207-101533-aaaaaa") == "pilot (run-20261207-101533-aaaaaa)"
    assert pane.run_name("run-3") == "solo" and pane.run_name("run-4") == "run-4"
    assert pane.runs.textElideMode() == Qt.TextElideMode.ElideMiddle  # a long name keeps its end
    assert pane.runs.minimumWidth() > pane.runs.fontMetrics().horizontalAdvance("run-20261207-101533-abcdef")
