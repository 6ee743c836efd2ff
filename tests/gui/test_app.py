"""The app through its real widgets (pytest-qt, offscreen), and its jobs through the real CLI."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt

from tests.plugins.library import make_image_bytes
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.gui.panes import PANES

pytestmark = pytest.mark.gui
JOB_TIMEOUT_MS = 120_000


def _wait_job(qtbot, job):
    with qtbot.waitSignal(job.finished, timeout=JOB_TIMEOUT_MS) as blocker:
        pass
    return blocker.args[0]


def test_window_starts_without_heavy_imports(window):
    # the window is up; torch, open_clip, playwright and matplotlib (figures for a paper) must not be imported for it
    assert window.isVisible()
    assert [window.nav.item(i).data(Qt.ItemDataRole.UserRole) for i in range(window.nav.count())] == [
        t for t, _, _ in PANES
    ]
    heavy = [m for m in ("torch", "open_clip", "playwright", "matplotlib") if m in sys.modules]
    if heavy:  # another test in this process may have loaded them: check in a fresh interpreter
        import subprocess

        code = (
            "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from vspectrum_app.gui.context import AppContext; from vspectrum_app.gui.main_window import MainWindow;"
            "w = MainWindow(AppContext()); w.show(); app.processEvents();"
            "print([m for m in ('torch', 'open_clip', 'playwright', 'matplotlib') if m in sys.modules])"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr


def test_an_unreadable_settings_file_is_one_sentence_not_a_traceback(qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from vspectrum_app.core.paths import config_dir
    from vspectrum_app.gui.app import load_context

    path = config_dir() / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"clip_model": 5}')
    said = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda parent, title, text: said.append(text)))
    assert load_context() is None
    assert said == [f"Settings file {path}: field 'clip_model': expected text, got 5; fix or delete it."]
    assert path.read_text() == '{"clip_model": 5}'  # left for the user to fix


def test_first_run_view_then_library(window, qtbot, tmp_path, caplog):
    with caplog.at_level("INFO", logger="vspectrum.gui"):
        window.open_workspace(tmp_path / "ws")
    pane = window.pane("Library")
    assert pane.stack.currentWidget() is pane.first_run
    # the log says what the user saw first (the installer's smoke test reads this line)
    assert "Library pane shows the welcome page" in caplog.text
    qtbot.mouseClick(pane.first_provider, Qt.MouseButton.LeftButton)
    assert window.current_pane() is window.pane("Settings")


def test_whole_path_import_index_search_benchmark_results(window, qtbot, tmp_path, clip_used_before, monkeypatch):
    # the model used before (its export in place): the first use's own path is the newcomer's (test_newcomer_path.py)
    tiny_clip = clip_used_before
    # a workspace with images, the tiny CLIP model in Settings
    folder = tmp_path / "shots"
    folder.mkdir()
    for i in range(10):
        (folder / f"s{i}.jpg").write_bytes(make_image_bytes(seed=i, color=((i * 50) % 255, 100, 200 - i * 15)))
    window.ctx.settings.update(clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint)
    window.ctx.settings.save()
    window.open_workspace(tmp_path / "ws")
    library = window.show_pane("Library")

    library.import_paths([str(folder)])
    assert _wait_job(qtbot, library._job) == 0
    assert library.stack.currentWidget() is library.browser
    assert library.model.rowCount() == 10
    assert "10 screenshots" in window.index_label.text()

    library.build_index()
    assert _wait_job(qtbot, library._job) == 0
    assert "10 indexed" in window.index_label.text()

    qtbot.keyClicks(library.search, "handshake")
    qtbot.waitUntil(lambda: "results for handshake" in library.status.full_text(), timeout=60_000)
    assert library.model.rowCount() == 10
    first = library.model.data(library.model.index(0), Qt.ItemDataRole.UserRole)
    assert first.similarity is not None
    library.grid.setCurrentIndex(library.model.index(0))
    assert "No model has answered" in library.detail_text.toPlainText()
    assert library.detail_image.pixmap() is not None and not library.detail_image.pixmap().isNull()

    # a provider pointing at the local fake server, configured in Settings
    server = FakeVLMServer().start()
    try:
        monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
        settings = window.show_pane("Settings")
        settings._new()
        settings.name.setText("lab")
        settings.kind.setCurrentText("openai-compatible")
        settings.base_url.setText(server.openai_base_url)
        settings.models.setText("m1")
        settings.save_provider()
        assert "key set (VSPECTRUM_API_KEY_LAB)" in settings.key_status.text()

        bench = window.show_pane("Benchmark")
        assert [bench.models.item(i).text() for i in range(bench.models.count())] == ["lab:m1"]
        bench.models.item(0).setCheckState(Qt.CheckState.Checked)
        for i in range(bench.values.count()):
            if bench.values.item(i).text() not in ("Power", "Hedonism"):
                bench.values.item(i).setCheckState(Qt.CheckState.Unchecked)
        bench.k.setValue(1)
        bench.estimate()
        qtbot.waitUntil(lambda: "calls" in bench.estimate_label.full_text(), timeout=60_000)
        # the core's estimate: items, and the distinct calls they send (an image asked once)
        assert bench.estimate_label.full_text().startswith("20 items: ")
        bench.start()
        assert _wait_job(qtbot, bench.job) == 0
        assert bench.table.rowCount() == 20
        qtbot.waitUntil(lambda: "lab:m1" in bench.radar.curves, timeout=5000)
        xs, ys = bench.radar.curves["lab:m1"].getData()
        assert len(xs) == 11  # ten spokes, closed
    finally:
        server.stop()

    results = window.show_pane("Results")
    with qtbot.waitSignal(results.runs_loaded, timeout=30_000):  # read on the worker pool
        results.reload()
    assert results.runs.rowCount() == 1
    qtbot.waitUntil(lambda: results.table.rowCount() == 2, timeout=30_000)  # reports come from a worker thread
    assert "[" in results.table.item(0, 0).text()
    out_csv = tmp_path / "scores.csv"
    results._export_csv(str(out_csv))
    from vspectrum_app.bench.report import LONG_COLUMNS

    assert out_csv.read_text().startswith(",".join(LONG_COLUMNS) + "\n")
    from vspectrum_app.gui.plots import export_plot

    export_plot(results.radar, str(tmp_path / "radar.png"))
    export_plot(results.radar, str(tmp_path / "radar.svg"))
    assert (tmp_path / "radar.png").stat().st_size > 1000 and "<svg" in (tmp_path / "radar.svg").read_text()[:500]

    # the screenshot's details now show what the model said
    library = window.show_pane("Library")
    library.refresh()
    library.grid.setCurrentIndex(library.model.index(0))
    answered = [library.model.data(library.model.index(r), Qt.ItemDataRole.UserRole) for r in range(10)]
    ws = window.ctx.workspace
    assert ws is not None and any("lab:m1" in library._answers_html(ws, t.image_id) for t in answered)


def test_settings_key_goes_to_the_keyring_and_is_never_shown(window, memory_keyring):
    settings = window.show_pane("Settings")
    settings._new()
    settings.name.setText("acme")
    settings.kind.setCurrentText("anthropic")
    settings.key.setText("sk-ant-secret-value-123456")
    settings.save_provider()
    assert memory_keyring.store[("vspectrum", "acme")] == "sk-ant-secret-value-123456"
    assert settings.key.text() == ""
    assert settings.key_status.text() == "key set (keyring)"
    assert "sk-ant" not in settings.grab().toImage().text()


def test_job_failure_is_one_clear_sentence(window, qtbot, tmp_path):
    window.open_workspace(tmp_path / "ws")
    from vspectrum_app.bench.ops import Resume

    job = window.ctx.run_job("Resume", Resume(run_id="nope"))
    messages = []
    job.failed.connect(messages.append)
    assert _wait_job(qtbot, job) == 1
    assert messages == ["no benchmark run 'nope' in this workspace (see 'vspectrum bench list')"]


def test_cancel_stops_a_job_and_keeps_its_work(window, qtbot, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    blob = make_image_bytes(seed=0, fmt="PNG", size=(600, 900))
    for i in range(1000):  # distinct files (trailing bytes change the hash), each slow enough to decode
        (folder / f"{i}.png").write_bytes(blob + i.to_bytes(2, "big"))
    window.open_workspace(tmp_path / "ws")
    library = window.show_pane("Library")
    library.import_paths([str(folder)])
    qtbot.waitUntil(lambda: library.progress.value() > 5, timeout=60_000)
    qtbot.mouseClick(library.cancel_button, Qt.MouseButton.LeftButton)
    assert _wait_job(qtbot, library._job) == 130
    count = window.ctx.workspace.db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    assert 5 < count < 1000
    assert "cancelled" in library.status.full_text()


def test_reopening_offers_to_resume_an_interrupted_run(window, qtbot, tmp_path, indexed_workspace, tiny_clip):
    from vspectrum_app.bench.store import RunStore

    items = [
        {
            "target": "lab:m1",
            "mode": "vlm",
            "value": "Power",
            "keyword": "money",
            "rank": 1,
            "image_id": 1,
            "image_sha256": indexed_workspace.db.execute("SELECT sha256 FROM images WHERE id = 1").fetchone()[0],
            "repeat": 0,
        }
    ]
    run_id = RunStore(indexed_workspace).create_run({"targets_label": ["lab:m1"], "values": ["Power"]}, items)
    RunStore(indexed_workspace).set_status(run_id, "running")  # as a crash leaves it
    window.open_workspace(indexed_workspace.root)
    bench = window.pane("Benchmark")
    assert window.current_pane() is bench
    qtbot.waitUntil(lambda: bench.resume_combo.currentData() == run_id, timeout=10_000)  # listed on the worker pool
    assert bench.resume_frame.isVisible()
    assert bench.resume_button.isEnabled()


def test_settings_check_model_reports_offline_failure_in_one_sentence(window, qtbot):
    settings = window.show_pane("Settings")
    settings.clip_config.set_path("")
    settings.clip_checkpoint.set_path("")
    settings.check_model()
    # the default model's weights come through the weights dialog (progress, resume), not a hidden download
    assert settings.model_status.full_text().startswith("The CLIP weights are not downloaded yet: click Download...")
    assert settings.model_status.kind() == "error"
    settings.clip_pretrained.setText("openai")  # a tag the dialog does not fetch: open_clip tries, offline here
    settings.check_model()
    qtbot.waitUntil(lambda: settings.model_status.full_text().startswith(("Not available", "Ready")), timeout=120_000)
    assert settings.model_status.full_text().startswith("Not available: Could not download the CLIP weights")


def test_settings_edit_keeps_the_providers_limits(window, qtbot):
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

    ProviderStore().save(
        ProviderConfig(
            name="lab", kind="openai", models=["m1"], tokens_per_minute=40_000, timeout_s=12.5, max_retries=2
        )
    )
    settings = window.show_pane("Settings")
    settings._reload(select="lab")
    assert settings.tpm.value() == 40_000 and settings.timeout.value() == 12.5
    settings.models.setText("m1, m2")
    qtbot.mouseClick(settings.save_button, Qt.MouseButton.LeftButton)
    saved = ProviderStore().get("lab")
    assert saved.models == ["m1", "m2"]
    assert (saved.tokens_per_minute, saved.timeout_s, saved.max_retries) == (40_000, 12.5, 2)
    # the new fields edit the limits; 0 tokens per minute means no limit
    settings.tpm.setValue(0)
    settings.timeout.setValue(30)
    qtbot.mouseClick(settings.save_button, Qt.MouseButton.LeftButton)
    saved = ProviderStore().get("lab")
    assert (saved.tokens_per_minute, saved.timeout_s, saved.max_retries) == (None, 30.0, 2)


def test_results_for_two_runs_of_the_same_model(window, qtbot, tmp_path):
    from vspectrum_app.bench.store import RunStore
    from vspectrum_app.bench.circumplex import ORDER as RADAR_ORDER

    window.open_workspace(tmp_path / "ws")
    store = RunStore(window.ctx.workspace)
    # run A likes Power (4/4) and half of Hedonism (2/4); run B the other way round: 0/4 and 4/4
    plan = {"A": {"Power": "yyyy", "Hedonism": "yynn"}, "B": {"Power": "nnnn", "Hedonism": "yyyy"}}
    run_ids = {}
    for name, answers in plan.items():
        items = [
            {
                "target": "lab:m1",
                "mode": "vlm",
                "value": value,
                "keyword": "k",
                "rank": i,
                "image_id": i,
                "image_sha256": f"{value}{i}",
                "repeat": 0,
            }
            for value, classes in answers.items()
            for i in range(len(classes))
        ]
        run_id = run_ids[name] = store.create_run({"targets_label": ["lab:m1"], "values": list(answers)}, items)
        classes = {(i["value"], i["rank"]): answers[i["value"]][i["rank"]] for i in items}
        store.finish_items(
            [
                (row["id"], "yes" if classes[(row["value"], row["rank"])] == "y" else "no", ["x"])
                for row in store.items(run_id, status=None)
            ]
        )
        store.set_status(run_id, "done")
    results = window.show_pane("Results")
    with qtbot.waitSignal(results.runs_loaded, timeout=30_000):  # read on the worker pool
        results.reload()
    results.runs.selectAll()
    qtbot.waitUntil(lambda: len(results.reports) == 2, timeout=30_000)  # reports come from a worker thread
    a, b = f"lab:m1 · {run_ids['A']}", f"lab:m1 · {run_ids['B']}"

    # radar: one series per run, each with its own scores (the radius on each value's spoke)
    def radius(series, value):
        xs, ys = results.radar.curves[series].getData()
        i = RADAR_ORDER.index(value)  # spokes in Schwartz's circle order
        return (xs[i] ** 2 + ys[i] ** 2) ** 0.5

    assert [radius(a, "Power"), radius(a, "Hedonism")] == pytest.approx([100, 50])
    assert [radius(b, "Power"), radius(b, "Hedonism")] == pytest.approx([0, 100])
    # Fig. 6: the mean over both runs' models, with intervals: Power (100 + 0) / 2, Hedonism (50 + 100) / 2
    bars, errors = results.value_means.bars
    assert list(bars.opts["height"]) == pytest.approx([50, 75])
    assert errors.opts["top"][1] > 0 and errors.opts["bottom"][1] > 0  # 2/4 has a wide bootstrap interval
    # Fig. 7: each run's mean, whiskers +- the standard deviation across values, a label per run
    bars, errors = results.model_std.bars
    assert sorted(bars.opts["height"]) == pytest.approx([50, 75])
    assert sorted(errors.opts["top"]) == pytest.approx([50**0.5 * 5, 50 * 2**0.5])  # sd of (50, 100), (0, 100)
    ticks = [t for _, t in results.model_std.getAxis("bottom")._tickLevels[0]]
    assert {t.split("\n")[1] for t in ticks} == set(run_ids.values())
    # Table 1: a column per run, rows per value
    headers = [results.table.horizontalHeaderItem(c).text() for c in range(results.table.columnCount())]
    assert headers == sorted([a.replace(" · ", "\n"), b.replace(" · ", "\n")])
    column = {h.split("\n")[1]: c for c, h in enumerate(headers)}
    assert results.table.item(0, column[run_ids["A"]]).text().startswith("100 [")
    assert results.table.item(0, column[run_ids["B"]]).text().startswith("0 [")
    assert results.table.item(1, column[run_ids["A"]]).text().startswith("50 [")


def test_library_filters_by_catalog_platforms_and_post_dates(window, workspace):
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.library.importer import add_image

    for i, (platform, date) in enumerate(
        [
            ("tiktok", "2024-01-15"),
            ("tiktok", "2024-02-20"),
            ("bilibili", "2024-02-01"),
            ("youtube", "2024-03-31"),
            (None, None),
            ("sim", "2024-02-10"),
        ]
    ):
        add_image(
            workspace,
            make_image_bytes(seed=i),
            source_name=f"s{i}.jpg",
            meta={"platform": platform, "post_date": date} if platform else {},
        )
    window.open_workspace(workspace.root)
    library = window.show_pane("Library")
    assert [library.platform.itemData(i) for i in range(library.platform.count())] == [
        None,
        "bilibili",
        "sim",
        "tiktok",
        "youtube",
    ]
    assert library.platform.itemText(2) == "simulator captures"

    def shown():
        return sorted(
            library.model.data(library.model.index(r), Qt.ItemDataRole.UserRole).post_date or "-"
            for r in range(library.model.rowCount())
        )

    assert len(shown()) == 5  # the simulator capture is hidden by default...
    assert "1 simulator captures hidden" in library.status.full_text()
    library.platform.setCurrentIndex(library.platform.findData("sim"))
    assert shown() == ["2024-02-10"]  # ...and shown on demand
    library.platform.setCurrentIndex(0)
    library.date_from.setText("2024-02")  # a month includes all its days
    assert shown() == ["2024-02-01", "2024-02-20", "2024-03-31"]
    library.date_to.setText("2024-02-20")
    assert shown() == ["2024-02-01", "2024-02-20"]
    library.platform.setCurrentIndex(library.platform.findData("tiktok"))
    assert shown() == ["2024-02-20"]
    library.date_from.clear()
    library.date_to.setText("202")  # half-typed: no bound yet
    assert shown() == ["2024-01-15", "2024-02-20"]


@pytest.fixture
def left_running():
    """Holds the job a test leaves running; its teardown runs after tests/gui/conftest.py's
    teardown hook, which must have stopped it."""
    held = {}
    yield held
    assert not held["job"].running, "a job outlived its test"
    assert held["manager"].jobs == []


def test_a_job_left_running_is_stopped_before_its_pane_is_closed(window, qtbot, tmp_path, left_running):
    window.open_workspace(tmp_path / "ws")
    from vspectrum_app.bench.ops import Resume

    job = window.ctx.run_job("Resume", Resume(run_id="nope"))
    assert job.process.waitForStarted(30_000)
    assert job.pause()  # frozen: it can only end by being stopped
    left_running.update(job=job, manager=window.ctx.jobs)
