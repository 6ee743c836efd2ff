"""The newcomer's path through the real window, end to end, with clicks and keys only (issue 12):
first start, import, the CLIP model, the index, a search, a provider from a preset with its key
in the key file, the estimate, a small run, the answers behind a Table 1 cell, CSV and PNG
export, and a five-item annotation set answered with the keyboard.

Native file dialogs cannot be driven offscreen: QFileDialog's static functions are replaced
by ones returning the path a user would pick. Everything else goes through the real widgets
(pytest-qt), the real child jobs (the CLI), the real open_clip tiny model and the real OpenAI
SDK against the local test server. Waits are on outcomes, never on time."""

from __future__ import annotations

import stat

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from tests.gui.conftest import dialog_returns
from tests.plugins.library import make_image_bytes
from tests.plugins.vlm_server import VALID_KEY

pytestmark = pytest.mark.gui  # and slow: tests/slow_tests.txt
JOB_MS = 180_000  # generous: the machine is shared; the waits end on the outcome, not the clock
LEFT, ENTER = Qt.MouseButton.LeftButton, Qt.Key.Key_Return


def _go(qtbot, window, title: str):
    """Click the pane's entry in the navigation list."""
    row = next(r for r in range(window.nav.count()) if window.nav.item(r).data(Qt.ItemDataRole.UserRole) == title)
    window.nav.scrollToItem(window.nav.item(row))
    qtbot.mouseClick(window.nav.viewport(), LEFT, pos=window.nav.visualItemRect(window.nav.item(row)).center())
    assert window.current_pane() is window.pane(title)
    return window.pane(title)


def _click_cell(qtbot, view, index) -> None:
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(index).center())


def _click_tab(qtbot, tabs, label: str) -> None:
    bar = tabs.tabBar()
    i = next(i for i in range(tabs.count()) if tabs.tabText(i) == label)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(i).center())
    assert tabs.currentIndex() == i


def _retype(qtbot, widget, text: str) -> None:
    """Select what the field holds and type over it."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def _wait_job(qtbot, job) -> int:
    qtbot.waitUntil(lambda: job.exit_code is not None, timeout=JOB_MS)
    return job.exit_code


def test_newcomer_path(window, qtbot, tmp_path, tiny_clip, vlm_server, no_keyring, monkeypatch):
    from vspectrum_app.core.settings import default_workspace

    window.resize(1280, 800)
    # -- first start: the app opens the default workspace (as gui/app.py does); the welcome page
    window.open_workspace(default_workspace())
    library = window.current_pane()
    assert library is window.pane("Library")
    assert library.stack.currentWidget() is library.first_run and library.first_run.isVisible()
    assert not library.first_index.isEnabled()  # nothing to index yet
    assert window.index_label.text() == "0 screenshots, 0 indexed"

    # -- import a folder of screenshots
    folder = tmp_path / "shots"
    folder.mkdir()
    for i in range(10):
        (folder / f"s{i}.jpg").write_bytes(make_image_bytes(seed=i, color=((i * 50) % 255, 100, 200 - i * 15)))
    dialog_returns(monkeypatch, "getExistingDirectory", str(folder))
    qtbot.mouseClick(library.first_import, LEFT)
    assert _wait_job(qtbot, library._job) == 0
    assert library.stack.currentWidget() is library.browser
    assert library.model.rowCount() == 10
    assert library.status.full_text() == "Import finished: 10 added, 0 already in the library, 0 skipped"
    assert library.index_button.isEnabled()

    # -- choose the model: the tiny open_clip model's local config and checkpoint, in Settings
    settings = _go(qtbot, window, "Settings")
    for field, path in ((settings.clip_config, tiny_clip.config), (settings.clip_checkpoint, tiny_clip.checkpoint)):
        dialog_returns(monkeypatch, "getOpenFileName", path)
        qtbot.mouseClick(field.findChild(QPushButton), LEFT)
        assert field.path() == path
    assert settings.clip_model.text() == "tiny-clip" and not settings.clip_model.isEnabled()
    qtbot.mouseClick(settings.model_button, LEFT)
    qtbot.waitUntil(lambda: settings.model_status.full_text().startswith(("Ready", "Not available")), timeout=JOB_MS)
    assert (
        settings.model_status.full_text() == f"Ready: tiny-clip from {tiny_clip.checkpoint}, 64-dimensional embeddings."
    )
    assert window.ctx.settings.get("clip_checkpoint") == tiny_clip.checkpoint

    # -- build the index
    library = _go(qtbot, window, "Library")
    qtbot.mouseClick(library.index_button, LEFT)
    assert _wait_job(qtbot, library._job) == 0
    assert window.index_label.text() == "10 screenshots, 10 indexed"

    # -- keyword search shows tiles, closest first
    qtbot.mouseClick(library.search, LEFT)
    qtbot.keyClicks(library.search, "handshake")
    qtbot.waitUntil(lambda: "results for handshake" in library.status.full_text(), timeout=JOB_MS)
    assert library.model.rowCount() == 10
    sims = [library.model.data(library.model.index(r), Qt.ItemDataRole.UserRole).similarity for r in range(10)]
    assert None not in sims and sims == sorted(sims, reverse=True)

    # -- a provider from a preset, pointed at the test server; its key in the key file (no keyring here)
    settings = _go(qtbot, window, "Settings")
    settings.preset.setFocus()
    qtbot.keyClicks(settings.preset, "v")  # keyboard search picks "vLLM (local)"
    assert (settings.name.text(), settings.kind.currentText()) == ("vllm", "openai-compatible")
    _retype(qtbot, settings.base_url, vlm_server.openai_base_url)
    assert not settings.key_store.model().item(0).isEnabled()  # the keyring cannot be chosen...
    assert settings.key_store.currentIndex() == -1  # ...and the file is never a silent default
    settings.key_store.setFocus()
    qtbot.keyClicks(settings.key_store, "A")  # "A file only you can read"
    assert settings.key_store.currentData() == "file"
    qtbot.mouseClick(settings.key, LEFT)
    qtbot.keyClicks(settings.key, VALID_KEY)
    qtbot.mouseClick(settings.fetch_button, LEFT)  # the server lists its models (with the key typed)
    qtbot.waitUntil(lambda: settings.fetch_button.isEnabled(), timeout=JOB_MS)
    assert settings.models.text() == "fake-vlm-large, fake-vlm-small", settings.status.full_text()
    qtbot.mouseClick(settings.save_button, LEFT)
    assert settings.status.full_text() == "Provider vllm saved."
    assert settings.key_status.text() == "key set (key file (not encrypted))"
    assert settings.key.text() == ""
    from vspectrum_app.core import secrets
    from vspectrum_app.core.paths import config_dir

    assert VALID_KEY in secrets.key_file().read_text()
    assert stat.S_IMODE(secrets.key_file().stat().st_mode) == 0o600
    others = [p for p in config_dir().rglob("*") if p.is_file() and p != secrets.key_file()]
    assert others and not any(VALID_KEY in p.read_text(errors="replace") for p in others)  # nowhere else

    # -- Benchmark: one model, one value, one image per keyword; the estimate, then the run
    bench = _go(qtbot, window, "Benchmark")
    assert [bench.models.item(i).text() for i in range(bench.models.count())] == [
        "vllm:fake-vlm-large",
        "vllm:fake-vlm-small",
    ]
    assert not bench.start_button.isEnabled() and bench.form_hint.full_text() == "Tick at least one model."
    bench.models.setFocus()
    qtbot.keyClick(bench.models, Qt.Key.Key_Home)
    qtbot.keyClick(bench.models, Qt.Key.Key_Space)  # ticks the current item
    bench.values.setFocus()
    qtbot.keyClick(bench.values, Qt.Key.Key_Home)
    for i in range(bench.values.count()):
        if bench.values.currentItem().text() != "Power":
            qtbot.keyClick(bench.values, Qt.Key.Key_Space)
        qtbot.keyClick(bench.values, Qt.Key.Key_Down)
    assert bench._selected(bench.models) == ["vllm:fake-vlm-large"]
    assert bench._selected(bench.values) == ["Power"]
    _retype(qtbot, bench.k, "1")
    assert bench.k.value() == 1
    qtbot.mouseClick(bench.estimate_button, LEFT)
    qtbot.waitUntil(
        lambda: " calls" in bench.estimate_label.full_text() or bench.estimate_label.kind() == "error", timeout=JOB_MS
    )
    estimate = bench.estimate_label.full_text()
    assert estimate.startswith("10 items: 30 calls to send"), estimate  # Power's ten keywords, one image each
    qtbot.mouseClick(bench.start_button, LEFT)
    job = bench.job
    assert _wait_job(qtbot, job) == 0, bench.error_label.full_text()
    assert bench.counters.full_text() == "Run finished: 10 items answered. See Results for the scores."
    assert bench.table.rowCount() == 10
    assert len(vlm_server.log) == 30 and {r.key for r in vlm_server.log} == {VALID_KEY}

    # -- Results: select the run, drill into a Table 1 cell
    results = _go(qtbot, window, "Results")
    qtbot.waitUntil(lambda: results.runs.rowCount() == 1, timeout=JOB_MS)  # the list is read on the worker pool
    _click_cell(qtbot, results.runs, results.runs.model().index(0, 0))
    qtbot.waitUntil(lambda: len(results.reports) == 1, timeout=JOB_MS)  # reports come from a worker thread
    _click_tab(qtbot, results.tabs, "Table 1")
    qtbot.waitUntil(lambda: results.table.rowCount() > 0 and results.table.item(0, 0) is not None, timeout=JOB_MS)
    power = next(
        r for r in range(results.table.rowCount()) if results.table.verticalHeaderItem(r).text().startswith("Power")
    )
    assert results.table.item(power, 0).text().startswith("100 [")  # every answer was "Yes."
    _click_cell(qtbot, results.table, results.table.model().index(power, 0))
    dialog = results.cell_answers
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 10, timeout=JOB_MS)
    assert dialog.status.full_text().startswith("10 answer(s).")
    assert {dialog.table.item(r, 2).text() for r in range(10)} == {"Yes."}
    assert {dialog.table.item(r, 3).text() for r in range(10)} == {"yes"}
    dialog.close()
    results.table.setFocus()  # the same drill-down by keyboard: Enter on the current cell
    qtbot.keyClick(results.table, ENTER)
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.status.full_text().startswith("10 answer(s)."), timeout=JOB_MS)
    dialog.close()

    # -- export the table (CSV) and a plot (PNG)
    from vspectrum_app.bench.report import LONG_COLUMNS

    out_csv, out_png = tmp_path / "out" / "scores.csv", tmp_path / "out" / "radar.png"
    out_csv.parent.mkdir()
    dialog_returns(monkeypatch, "getSaveFileName", str(out_csv))
    qtbot.mouseClick(results.export_csv_button, LEFT)
    assert results.status.full_text() == f"Table saved to {out_csv}"
    lines = out_csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(LONG_COLUMNS)
    row = dict(zip(LONG_COLUMNS, next(line for line in lines[1:] if ",Power," in line).split(",")))
    assert (row["n"], row["yes"]) == ("10", "10")
    _click_tab(qtbot, results.tabs, "Radar")
    dialog_returns(monkeypatch, "getSaveFileName", str(out_png))
    qtbot.mouseClick(results.export_plot_button, LEFT)
    assert results.status.full_text() == f"Plot saved to {out_png}"
    from PIL import Image

    with Image.open(out_png) as png:
        assert png.format == "PNG" and png.width > 200 and png.height > 200

    # -- Annotation: a five-item value set, answered with the keyboard
    pane = _go(qtbot, window, "Annotation")
    panel = pane.results
    _click_tab(qtbot, pane.tabs, "Sets and results")
    qtbot.mouseClick(panel.new_name, LEFT)
    qtbot.keyClicks(panel.new_name, "first look")
    qtbot.mouseClick(panel.new_values, LEFT)
    qtbot.keyClicks(panel.new_values, "Power")
    _retype(qtbot, panel.per_value, "5")
    _retype(qtbot, panel.raters, "1")
    qtbot.mouseClick(panel.create_button, LEFT)
    qtbot.waitUntil(lambda: panel.create_button.isEnabled(), timeout=JOB_MS)
    assert panel.status.full_text() == "Task set first look: 5 items"
    assert pane.sets.currentText().startswith("first look")
    qtbot.mouseClick(pane.annotator, LEFT)
    qtbot.keyClicks(pane.annotator, "Ana")
    qtbot.keyClick(pane.annotator, ENTER)  # Enter in the name field starts
    assert pane.tabs.currentWidget() is pane.annotate_page
    assert pane.progress.full_text() == "Item 1 of 5; you have finished 0 of 5"
    for n in range(5):
        qtbot.keyClick(pane, Qt.Key.Key_Y)
        qtbot.keyClick(pane, ENTER)
        if n < 4:
            assert pane.progress.full_text().startswith(f"Item {n + 2} of 5; you have finished {n + 1} of 5")
    assert pane.progress.full_text().endswith("finished 5 of 5 - all done, thank you!")
    from vspectrum_app.annotate.session import answered
    from vspectrum_app.annotate.store import AnnotationStore

    store = AnnotationStore(window.ctx.workspace)
    set_id = pane.sets.currentData()
    assert len(store.items(set_id)) == 5
    assert sum(len(answered(store, set_id, "Ana", item["id"])) for item in store.items(set_id)) == 5
