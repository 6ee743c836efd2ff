"""The Persona pane through its real widgets: the command line its form builds, the live view
fed by step events, the persona library, sessions and results; and one tiny session run end
to end as a real job (the CLI, Chromium on the simulator, the test server playing the VLM)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui.fakes import assert_round_trips, use_fake_jobs
from tests.plugins.sim import topic_image
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes import PANES
from vspectrum_app.gui.panes import persona_library
from vspectrum_app.gui.panes.persona import FormError, PersonaPane
from vspectrum_app.gui.panes.persona_results import figure8_groups
from vspectrum_app.persona import ops as persona_ops
from vspectrum_app.persona.personas import Persona, PersonaError, PersonaLibrary
from vspectrum_app.persona.store import SessionConfig, SessionStore, Step
from vspectrum_app.providers.config import ProviderConfig, ProviderStore

pytestmark = pytest.mark.gui


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setattr("vspectrum_app.crawl.browser.has_display", lambda: False)  # as on a server: headless
    ctx = AppContext()
    ctx.open_workspace(tmp_path / "ws")
    return ctx


@pytest.fixture
def fake_jobs(ctx):
    return use_fake_jobs(ctx)


@pytest.fixture
def pane(qtbot, ctx):
    pane = PersonaPane(ctx)
    qtbot.addWidget(pane)
    pane.show()
    yield pane
    ctx.jobs.cancel_all(wait_ms=5000)


def _check(widget, *values) -> None:
    for i in range(widget.count()):
        item = widget.item(i)
        item.setCheckState(
            Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in values else Qt.CheckState.Unchecked
        )


def _choose(combo, value) -> None:
    combo.setCurrentIndex(combo.findData(value))


def _recorded_session(ws, decisions: str, trials: int = 1, **cfg) -> str:
    """A finished session in the store: ``decisions`` per trial as y/n letters."""
    store = SessionStore(ws)
    persona = PersonaLibrary(ws).get("Pet owner").to_json()
    settings = (
        dict(strategy="simple", provider="lab", model="m1", trials=trials, scrolls=len(decisions), window=2) | cfg
    )
    sid = store.create(SessionConfig(persona=persona, **settings))
    for t in range(trials):
        for p, d in enumerate(decisions):
            store.add_step(
                sid,
                Step(
                    trial=t,
                    position=p,
                    decision="yes" if d == "y" else "no",
                    dwell_s=0.0,
                    item_topics=["Power" if p % 2 else "Hedonism"],
                ),
            )
    store.set_status(sid, "done")
    return sid


def test_the_pane_is_listed_after_results():
    titles = [t for t, _, _ in PANES]
    assert titles.index("Persona") == titles.index("Results") + 1
    assert PANES[titles.index("Persona")][1:] == ("vspectrum_app.gui.panes.persona", "PersonaPane")


def test_the_form_builds_the_command_line(pane, fake_jobs, qtbot):
    ctx = fake_jobs
    ProviderStore().save(ProviderConfig(name="lab", kind="openai", models=["m1", "m2"]))
    ctx.providers_changed.emit()
    assert [pane.models.item(i).text() for i in range(pane.models.count())] == ["lab:m1", "lab:m2"]
    # defaults: the simulator with the TikTok layout at x10, 10 trials of 100 videos, n 50, 45 s watched
    assert (pane.platform.currentData(), pane.skin.currentData(), pane.speed.value()) == ("sim", "tiktok", 10)
    assert (pane.trials.value(), pane.scrolls.value(), pane.window_n.value(), pane.watch.value()) == (10, 100, 50, 45)
    assert not pane.show_browser.isChecked()  # no display: the browser runs headless

    # nothing chosen: Start is disabled and says why, beside the field and beside Start; no job
    assert not pane.start_button.isEnabled()
    assert "Tick at least one persona" in pane.form_error.full_text() and pane.form_error.kind() == "error"
    assert pane.field_errors[pane.personas].full_text() and not pane.field_errors[pane.window_n].full_text()
    assert "Tick at least one persona" in pane.start_button.toolTip()
    pane.start()
    assert "Tick at least one persona" in pane.status.full_text() and pane.status.kind() == "error"
    _check(pane.personas, "Pet owner", "Thrill seeker")
    assert "Tick at least one model" in pane.field_errors[pane.models].full_text()
    assert pane.field_errors[pane.models].full_text() and not pane.start_button.isEnabled()
    pane.start()
    assert "Tick at least one model" in pane.status.full_text()
    assert ctx.started == []
    assert "--" not in pane.form_error.full_text()  # plain words, never a command-line flag

    _check(pane.models, "lab:m1", "lab:m2")
    assert pane.start_button.isEnabled() and not pane.form_error.full_text()
    _choose(pane.strategy, "isq")
    pane.threshold.setValue(70)
    pane.images.setText("/data/topics")
    headless = persona_ops.BrowserOptions(headless=True)
    people, models = ("Pet owner", "Thrill seeker"), ("lab:m1", "lab:m2")
    assert pane.run_params() == persona_ops.Run(
        persona=people,
        model=models,
        strategy="isq",
        platform="sim",
        skin="tiktok",
        images="/data/topics",
        speed=10.0,
        trials=10,
        scrolls=100,
        window=50,
        watch_s=45.0,
        capture_at_s=2.0,
        threshold=70.0,
        seed=0,
        run_options=headless,
    )
    assert assert_round_trips(pane.run_params())[:2] == ["persona", "run"]
    # a real platform: no simulator options
    _choose(pane.platform, "youtube")
    _choose(pane.strategy, "simple")
    pane.trials.setValue(2)
    pane.scrolls.setValue(20)
    assert pane.window_n.value() == 10  # the default window follows the trial: min(50, videos / 2)
    pane.window_n.setValue(30)
    with pytest.raises(FormError, match="window"):
        pane.run_params()
    assert not pane.start_button.isEnabled() and pane.field_errors[pane.window_n].full_text()
    pane.window_n.setValue(10)
    assert pane.start_button.isEnabled()
    assert pane.run_params() == persona_ops.Run(
        persona=people,
        model=models,
        strategy="simple",
        platform="youtube",
        trials=2,
        scrolls=20,
        window=10,
        watch_s=45.0,
        capture_at_s=2.0,
        seed=0,
        run_options=headless,
    )

    # control: no model; a fixed watch rate, or matching a recorded session's
    sid = _recorded_session(ctx.workspace, "yyn")
    pane.load_sessions()
    _choose(pane.strategy, "control")
    assert pane.control_box.isVisible() and not pane.models.isEnabled()
    pane.control_rate.setValue(0.35)
    params = pane.run_params()
    assert params.model == () and params.strategy == "control" and params.control_rate == 0.35
    assert params.match is None and assert_round_trips(params)
    _choose(pane.match, sid)
    params = pane.run_params()
    assert params.strategy == "control" and params.match == sid
    assert params.control_rate is None and params.model == () and assert_round_trips(params)

    # an edited prompt goes in a file; one without {traits} is refused
    _choose(pane.strategy, "simple")
    pane.custom_prompt.setChecked(True)
    assert pane.prompt.isVisible() and "{traits}" in pane.prompt.toPlainText()
    pane.prompt.setPlainText("You are:\n{traits}\nWould you watch this ({max_trait} traits)? {{'decision': 'yes'}}")
    with open(pane.run_params().prompt_file, encoding="utf-8") as f:
        assert f.read().startswith("You are:\n{traits}")
    pane.prompt.setPlainText("Would you watch this?")
    pane.start()
    assert "{traits}" in pane.status.full_text() and ctx.started == []
    pane.custom_prompt.setChecked(False)

    # Start (Ctrl+Return) runs exactly the form's command as the "Persona run" job
    expected = pane.run_params()
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow)
    qtbot.keyClick(pane, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(ctx.started))
    assert ctx.started == [("Persona run", expected)]


def _step(trial, position, decision, image, topics, score=None):
    return {
        "type": "persona_step",
        "session_id": "ps-test",
        "trial": trial,
        "position": position,
        "decision": decision,
        "score": score,
        "dwell_s": 45.0 if decision == "yes" else 0.0,
        "item_id": f"v{trial}{position}",
        "topics": topics,
        "related": topics == ["Hedonism"],
        "image": str(image),
    }


def test_step_events_update_the_live_view(pane, fake_jobs, qtbot, tmp_path):
    ctx = fake_jobs
    images = []
    for n, topic in enumerate(["Hedonism", "Power", "Universalism"]):
        images.append(tmp_path / f"shot{n}.jpg")
        images[-1].write_bytes(topic_image(topic, n))
    _check(pane.personas, "Pet owner")
    _choose(pane.strategy, "control")
    pane.scrolls.setValue(4)
    pane.window_n.setValue(2)
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    job = ctx.job
    assert not pane.start_button.isEnabled() and pane.stop_button.isEnabled() and pane.pause_button.isEnabled()

    job.send({"type": "persona_session", "session_id": "ps-test", "index": 1, "count": 1})
    assert pane.live.header.text().startswith("Session ps-test (1/1)")
    trial0 = [("yes", "Hedonism"), ("no", "Power"), ("yes", "Hedonism"), ("yes", "Universalism")]
    for p, (decision, topic) in enumerate(trial0):
        job.send(_step(0, p, decision, images[p % 3], [topic]))
    job.send({"type": "progress", "done": 4, "total": 8, "message": "trial 1/2"})
    job.send(_step(1, 0, "no", images[1], ["Power"], score=41.7))
    job.send(_step(1, 1, "yes", images[0], ["Hedonism"], score=80.0))

    # the plots redraw on the pane's timer: one curve per trial, the running yes-rate after each video
    qtbot.waitUntil(lambda: "trial 2" in pane.live.yes_plot.curves, timeout=5000)
    xs, ys = pane.live.yes_plot.curves["trial 1"].getData()
    assert list(xs) == [1, 2, 3, 4] and list(ys) == pytest.approx([100, 50, 200 / 3, 75])
    xs, ys = pane.live.yes_plot.curves["trial 2"].getData()
    assert list(xs) == [1, 2] and list(ys) == pytest.approx([0, 50])
    # the topic mix: each topic's share per position (buckets of one video at 4 videos per trial)
    mix = {name: list(curve.getData()[1]) for name, curve in pane.live.mix_plot.curves.items()}
    assert mix == {
        "Hedonism": pytest.approx([50, 50, 100, 0]),
        "Power": pytest.approx([50, 50, 0, 0]),
        "Universalism": pytest.approx([0, 0, 0, 100]),
    }
    assert list(pane.live.mix_plot.curves["Power"].getData()[0]) == [1, 2, 3, 4]
    # the newest step: its screenshot, the decision with S%, counters
    assert "Yes: watches 45 s" in pane.live.decision.text() and "S% 80.0" in pane.live.decision.text()
    assert "1b7f3b" in pane.live.decision.styleSheet()
    assert "Trial 2, video 2: v11" in pane.live.info.text() and "Hedonism (on-persona)" in pane.live.info.text()
    assert pane.live.shot.toolTip() == str(images[0]) and not pane.live.shot.pixmap().isNull()
    assert pane.live.counters.text() == "6 videos: 4 yes, 2 no, 0 unclear, 0 refusals"
    assert (pane.live.progress.value(), pane.live.progress.maximum()) == (4, 8)
    assert "trial 2, video 1: no (S% 41.7); Power" in pane.live.log.toPlainText()

    # pause, resume, stop
    qtbot.mouseClick(pane.pause_button, Qt.MouseButton.LeftButton)
    assert job.paused and pane.pause_button.text() == "Resume" and "Paused" in pane.status.full_text()
    qtbot.mouseClick(pane.pause_button, Qt.MouseButton.LeftButton)
    assert not job.paused and pane.pause_button.text() == "Pause"
    qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    assert job.cancelled
    job.finished.emit(130)
    assert pane.status.full_text().startswith("Stopped: 6 videos this run are saved")
    assert pane.start_button.isEnabled() and not pane.stop_button.isEnabled()

    # a failed job says why, in the log and the status
    pane.start()
    ctx.job.failed.emit("session ps-x stopped after 3 videos (APIConnectionError: refused)")
    ctx.job.finished.emit(1)
    assert pane.status.full_text() == "Failed: session ps-x stopped after 3 videos (APIConnectionError: refused)"
    assert pane.status.kind() == "error"
    assert "error: session ps-x stopped" in pane.live.log.toPlainText()


def test_persona_library_add_edit_delete_import(pane, ctx, qtbot, monkeypatch, tmp_path):
    lib = pane.library
    library = PersonaLibrary(ctx.workspace)
    pane.tabs.setCurrentWidget(lib)
    qtbot.mouseClick(lib.new_button, Qt.MouseButton.LeftButton)
    lib.name.setText("Dog walker")
    lib.statements.setPlainText("I walk dogs every morning\nI love the park\n\nI volunteer at a shelter")
    lib.values.setText("Kindness")
    qtbot.mouseClick(lib.save_button, Qt.MouseButton.LeftButton)
    assert "unknown value 'Kindness'" in lib.status.full_text() and lib.status.kind() == "error"
    lib.values.setText("benevolence")
    lib.topics.setText("dog, park")
    lib.tags.setText("mine")
    qtbot.mouseClick(lib.save_button, Qt.MouseButton.LeftButton)
    saved = library.get("Dog walker")
    assert saved.statements == ("I walk dogs every morning", "I love the park", "I volunteer at a shelter")
    assert (saved.values, saved.topics, saved.tags) == (("Benevolence",), ("dog", "park"), ("mine",))
    assert lib.list.currentItem().text() == "Dog walker"
    # the form's persona list follows the library
    form_names = lambda: [pane.personas.item(i).text() for i in range(pane.personas.count())]  # noqa: E731
    assert "Dog walker" in form_names()

    # a new persona cannot take an existing name
    qtbot.mouseClick(lib.new_button, Qt.MouseButton.LeftButton)
    lib.name.setText("Pet owner")
    lib.statements.setPlainText("I have a cat")
    qtbot.mouseClick(lib.save_button, Qt.MouseButton.LeftButton)
    assert "exists already" in lib.status.full_text()

    # edit: rename and add a statement
    lib.reload(select="Dog walker")
    assert lib.statements.toPlainText().splitlines()[0] == "I walk dogs every morning"
    lib.name.setText("Dog lover")
    lib.statements.setPlainText(lib.statements.toPlainText() + "\nI have two beagles")
    qtbot.mouseClick(lib.save_button, Qt.MouseButton.LeftButton)
    assert library.get("Dog lover").statements[-1] == "I have two beagles"
    with pytest.raises(PersonaError):
        library.get("Dog walker")
    assert "Dog lover" in form_names() and "Dog walker" not in form_names()

    # delete, after confirming
    asked = []
    monkeypatch.setattr(persona_library, "confirm", lambda *a: asked.append(a) or True)
    qtbot.mouseClick(lib.delete_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and lib.status.full_text() == "Deleted Dog lover."
    with pytest.raises(PersonaError):
        library.get("Dog lover")
    assert "Dog lover" not in form_names()

    # a shipped persona cannot be deleted: the library's reason is shown
    lib.reload(select="Pet owner")
    assert lib.list.currentItem().text() == "Pet owner  (shipped)"
    qtbot.mouseClick(lib.delete_button, Qt.MouseButton.LeftButton)
    assert "ships with the app and cannot be deleted" in lib.status.full_text() and lib.status.kind() == "error"
    assert library.get("Pet owner").builtin

    # import a plain list file (in a worker thread)
    path = tmp_path / "mine.txt"
    path.write_text("# Gardener\nI grow tomatoes\nI compost\n\n# Chess player\nI play chess online\n", "utf-8")
    lib.import_file(str(path))
    qtbot.waitUntil(lambda: "personas added" in lib.status.full_text(), timeout=10_000)
    assert lib.status.full_text() == "2 personas added: Gardener, Chess player"
    assert library.get("Chess player").statements == ("I play chess online",)
    assert "Gardener" in form_names()


def test_sessions_resume_replay_and_results(pane, fake_jobs, qtbot, tmp_path):
    ctx = fake_jobs
    done = _recorded_session(ctx.workspace, "nnyy", trials=2)
    control = _recorded_session(ctx.workspace, "ynny", trials=2, strategy="control", provider=None, model=None)
    unfinished = _recorded_session(ctx.workspace, "yn", scrolls=4)
    SessionStore(ctx.workspace).set_status(unfinished, "cancelled", "cancelled; resume to go on")
    ctx.workspace_changed.emit()
    rows = {pane.sessions.item(r, 0).text(): r for r in range(pane.sessions.rowCount())}
    assert set(rows) == {done, control, unfinished}
    assert pane.sessions.item(rows[unfinished], 7).text() == "2/4"

    # resume is for unfinished sessions, replay for a finished model session
    pane.sessions.selectRow(rows[unfinished])
    assert pane.resume_button.isEnabled() and not pane.replay_button.isEnabled()
    qtbot.mouseClick(pane.resume_button, Qt.MouseButton.LeftButton)
    headless = persona_ops.BrowserOptions(headless=True)
    assert ctx.started[-1] == (f"Resume {unfinished}", persona_ops.Resume(sessions=(unfinished,), run_options=headless))
    ctx.job.finished.emit(0)
    pane.sessions.clearSelection()
    pane.sessions.selectRow(rows[done])
    assert pane.replay_button.isEnabled() and not pane.resume_button.isEnabled()
    pane.start_replay(done, "lab:m2", persona="Thrill seeker")
    assert ctx.started[-1] == (
        f"Replay {done}",
        persona_ops.Replay(source=done, model="lab:m2", persona="Thrill seeker"),
    )
    ctx.job.finished.emit(0)

    # results: the report per session and Tables 3-8 (the control joins the simulator's table)
    pane.load_sessions(select=[done, control])
    results = pane.results
    qtbot.waitUntil(lambda: results.report_table.rowCount() == 2, timeout=20_000)
    assert {results.report_table.item(r, 0).text() for r in range(2)} == {done, control}
    row = next(r for r in range(2) if results.report_table.item(r, 0).text() == done)
    # first 2 videos: no, no; last 2: yes, yes in both trials
    assert [results.report_table.item(row, c).text() for c in (7, 8, 9)] == ["50.0", "0.0", "100.0"]
    assert [results.alignment_table.item(r, 1).text() for r in range(2)] == [
        "lab:m1",
        "control (random, same watch rate)",
    ]
    assert results.alignment_table.item(0, 0).text() == "sim / Simple"
    xs, ys = results.yes_plot.curves[f"{done[-6:]} trial 1"].getData()
    assert list(ys) == pytest.approx([0, 0, 100 / 3, 50])
    assert set(results.mix_plot.curves) == {"Hedonism", "Power"}  # the first selected session's mix
    # Figure 8: I_avg per model; the model's trials had no yes in their first n, so no bar
    categories, groups = figure8_groups(results.data["tables"])
    assert categories == ["sim / Simple"] and groups["lab:m1"] == [(None, None, None)]
    assert groups["control (random, same watch rate)"][0][0] == 0.0
    results.tabs.setCurrentWidget(results.i_avg_plot)
    results.export_plot(str(tmp_path / "fig8.png"))
    assert (tmp_path / "fig8.png").stat().st_size > 1000
    # exports: the table shown as CSV, plots as PNG and SVG
    results.tabs.setCurrentWidget(results.alignment_table)
    results.export_table(str(tmp_path / "tables.csv"))
    lines = (tmp_path / "tables.csv").read_text("utf-8").splitlines()
    assert lines[0].startswith("Table,Model,Persona,Trials,First n %") and len(lines) == 3
    results.export_plot(str(tmp_path / "yes.png"))
    results.export_plot(str(tmp_path / "yes.svg"))
    assert (tmp_path / "yes.png").stat().st_size > 1000 and "<svg" in (tmp_path / "yes.svg").read_text()[:500]


@pytest.mark.usefixtures("chromium")
def test_a_tiny_session_runs_end_to_end(pane, ctx, qtbot, topic_folder, monkeypatch):
    server = FakeVLMServer(answer=lambda req: "{'decision': 'yes', 'reason': 'cute', 'trait_num': '1'}").start()
    try:
        monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)  # before the job starts: the child inherits it
        ProviderStore().save(
            ProviderConfig(
                name="lab",
                kind="openai-compatible",
                base_url=server.openai_base_url,
                models=["m1"],
                requests_per_minute=10_000,
                timeout_s=5.0,
                max_retries=3,
            )
        )
        ctx.providers_changed.emit()
        _check(pane.personas, "Pet owner")
        _check(pane.models, "lab:m1")
        pane.trials.setValue(1)
        pane.scrolls.setValue(6)
        pane.window_n.setValue(3)
        pane.speed.setValue(50)
        pane.watch.setValue(5)
        pane.images.setText(str(topic_folder))
        assert pane.run_params().run_options.headless
        pane.start()
        job = pane.job
        assert job is not None
        qtbot.waitUntil(lambda: pane.job is None, timeout=90_000)
        assert job.exit_code == 0, pane.live.log.toPlainText() + str(job.error)
        assert pane.live.run_steps == 6 and len(pane.live.steps) == 6 and len(server.log) == 6
        [session] = SessionStore(ctx.workspace).list()
        assert session["status"] == "done" and session["steps"] == 6
        assert pane.status.full_text().startswith("Finished: 1 session(s), 6 videos")
        assert f"Session {session['id']}: Pet owner with lab:m1" in pane.live.log.toPlainText()  # the typed result
        # the core's live line: decisions, then the calls made and their cost (a local server is free)
        assert pane.live.counters.text() == "6 videos: 6 yes, 0 no, 0 unclear, 0 refusals; 6 model calls, $0.00"
        assert pane.live.shot.toolTip().endswith("t00-p005.jpg") and not pane.live.shot.pixmap().isNull()
        # the finished session is selected and its report shown
        assert pane.sessions.item(0, 0).text() == session["id"] and pane.sessions.item(0, 6).text() == "done"
        qtbot.waitUntil(lambda: pane.results.report_table.rowCount() == 1, timeout=20_000)
        assert pane.results.report_table.item(0, 0).text() == session["id"]
        assert pane.results.report_table.item(0, 7).text() == "100.0"
    finally:
        ctx.jobs.cancel_all(wait_ms=5000)
        server.stop()


def test_an_empty_topic_mix_says_why_in_plain_words():
    from vspectrum_app.gui.panes.persona_live import mix_title

    assert "real platforms" in mix_title(False, True, "tiktok")
    sim = mix_title(False, True, "sim")
    assert "real platforms" not in sim and "simulator's images carry no topics" in sim
    assert mix_title(True, True, "sim") == mix_title(False, False, None) == "Served topic mix (simulator ground truth)"


def test_a_long_persona_name_wraps_instead_of_scrolling_sideways_and_its_tooltip_says_it_in_full(pane, qtbot):
    long = "Toronto teacher (paper, figure 4): a long name that no form column is wide enough for"
    PersonaLibrary(pane.ctx.workspace).save(Persona(name=long, statements=("I teach in Toronto",)))
    pane._load_personas()
    pane.resize(1024, 640)
    pane.show()
    qtbot.waitExposed(pane)
    items = {pane.personas.item(i).text(): pane.personas.item(i) for i in range(pane.personas.count())}
    item, short = items[long], items["Pet owner"]
    assert not pane.personas.horizontalScrollBar().isVisible()
    assert pane.personas.visualItemRect(item).width() <= pane.personas.viewport().width()
    assert pane.personas.visualItemRect(item).height() > pane.personas.visualItemRect(short).height()  # wrapped
    assert item.toolTip().splitlines() == [long, "I teach in Toronto"]


def test_each_checklist_is_as_tall_as_its_items_until_its_cap_then_it_scrolls(pane, qtbot):
    ProviderStore().save(ProviderConfig(name="lab", kind="openai", models=["m1"]))
    pane._load_models()
    pane.resize(1024, 640)
    qtbot.waitExposed(pane)

    def shows_every_item(checklist) -> bool:
        last = checklist.visualItemRect(checklist.item(checklist.count() - 1))
        return last.bottom() < checklist.viewport().height() and not checklist.verticalScrollBar().isVisible()

    models = pane.models
    assert models.count() == 1
    qtbot.waitUntil(lambda: shows_every_item(models))
    one_row = models.height()
    assert one_row < models.max_height / 2  # one model, one line: not the room of eight

    library = PersonaLibrary(pane.ctx.workspace)
    for i in range(40):  # far more than fit under the cap
        library.save(Persona(name=f"Persona {i}", statements=(f"I scroll feed {i}",)))
    pane._load_personas()
    qtbot.waitUntil(lambda: pane.personas.height() == pane.personas.max_height)
    assert pane.personas.verticalScrollBar().isVisible()
    assert not shows_every_item(pane.personas)


def test_the_session_summary_in_the_log_is_plain_words(pane, ctx):
    """Issue 29 item 8: no Python dict ("decisions {'yes': 3, ...}") and no empty "recommender
    learnt: ;" in the window; the sentences come from persona.report.human_summary."""
    from vspectrum_app.core import events
    from vspectrum_app.persona.ops import SessionsRan, ran
    from vspectrum_app.persona.report import human_summary, session_report

    sid = _recorded_session(ctx.workspace, "yynyn", trials=2)
    report = session_report(ctx.workspace, sid)
    assert ran(ctx.workspace, [sid]) == SessionsRan((sid,), (human_summary(report),))  # the job's typed result
    report["learnt_profile"], report["intended_rank"] = {}, {}  # a session whose recommender learnt nothing
    pane._on_event(events.Result(data=SessionsRan((sid,), (human_summary(report),))))
    text = pane.live.log.toPlainText()
    assert f"Session {sid}: Pet owner with lab:m1" in text
    assert "answers: 6 yes, 4 no" in text
    assert "{" not in text and "'" not in text and "n/a" not in text
    assert "learnt" not in text  # nothing learnt: no empty line about it
