"""The Settings pane: presets, models from the server, prices, the key store without a
keyring, the CLIP model as chosen, and a layout that fits 1024x640."""

from __future__ import annotations

import logging
import stat

import pytest
from PySide6.QtCore import Qt

from tests.plugins.vlm_server import VALID_KEY
from vspectrum_app.core import secrets
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.main_window import MainWindow
from vspectrum_app.providers.config import ProviderStore

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot):
    win = MainWindow(AppContext())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.ctx.jobs.cancel_all(wait_ms=5000)


def _preset(pane, label):
    index = pane.preset.findText(label)
    assert index > 0, label
    pane.preset.setCurrentIndex(index)
    pane.preset.activated.emit(index)


def test_a_local_model_is_shown_as_chosen_not_the_default(qtbot, window, tiny_clip):
    """Regression: after a local model was chosen, Settings still showed ViT-B-32 / laion2b."""
    window.ctx.settings.update(clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint)
    pane = window.show_pane("Settings")
    assert pane.clip_model.text() == "tiny-clip" and not pane.clip_model.isEnabled()
    assert pane.clip_pretrained.text() == "" and not pane.clip_pretrained.isEnabled()
    assert pane.clip_in_use.text().startswith("tiny-clip from ")
    assert "ViT-B-32" not in pane.clip_in_use.text() and "laion" not in pane.weights_state.label.full_text()
    pane.save_settings()
    assert window.ctx.settings.get("clip_pretrained") is None
    # chosen elsewhere while the pane exists: shown when the pane is shown again
    window.show_pane("Library")
    window.ctx.settings.update(
        clip_config=None, clip_checkpoint=None, clip_model="ViT-B-32", clip_pretrained="laion2b_s34b_b79k"
    )
    window.show_pane("Settings")
    assert pane.clip_model.text() == "ViT-B-32" and pane.clip_pretrained.text() == "laion2b_s34b_b79k"
    assert pane.weights_state.label.full_text() == "CLIP weights: not downloaded"


def test_preset_then_models_from_the_server(qtbot, window, vlm_server):
    pane = window.show_pane("Settings")
    _preset(pane, "vLLM (local)")
    assert pane.name.text() == "vllm" and pane.base_url.text() == "http://localhost:8000/v1"
    assert pane.kind.currentText() == "openai-compatible"
    pane.base_url.setText(vlm_server.openai_base_url)
    pane.key.setText(VALID_KEY)  # this test server wants one; a real local server takes none
    qtbot.mouseClick(pane.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.listed.count() == 2, timeout=30_000)
    assert pane.models.text() == "fake-vlm-large, fake-vlm-small"
    assert pane.status.kind() == "success" and "2 model" in pane.status.full_text()
    assert "fake-vlm-large: free (a server on this machine)" in pane.price_hint.text()
    pane.key.clear()
    qtbot.mouseClick(pane.save_button, Qt.MouseButton.LeftButton)
    saved = ProviderStore().get("vllm")
    assert saved.models == ["fake-vlm-large", "fake-vlm-small"] and saved.base_url == vlm_server.openai_base_url


def test_fetch_models_failure_is_one_red_sentence(qtbot, window):
    pane = window.show_pane("Settings")
    _preset(pane, "Ollama (local)")
    pane.base_url.setText("http://127.0.0.1:9/v1")
    qtbot.mouseClick(pane.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.status.kind() == "error", timeout=60_000)
    assert pane.status.full_text().startswith("Nothing answers at http://127.0.0.1:9/v1")
    assert pane.fetch_button.isEnabled()


def test_prices_come_from_the_dated_table(window):
    pane = window.show_pane("Settings")
    _preset(pane, "OpenAI")
    assert "gpt-4o: $2.50 in, $10.00 out per million tokens (price table as of " in pane.price_hint.text()
    pane.models.setText("my-finetune")
    assert "my-finetune: no price known" in pane.price_hint.text()
    pane.price_in.setValue(1.5)
    assert "$1.50 in" in pane.price_hint.text() and "provider settings" in pane.price_hint.text()


def test_without_a_keyring_the_key_file_is_an_explicit_choice(qtbot, no_keyring, caplog, tmp_path):
    key = "sk-ant-NOKEYRING-secret-0123456789"
    caplog.set_level(logging.DEBUG)
    win = MainWindow(AppContext())
    qtbot.addWidget(win)
    win.show()
    pane = win.show_pane("Settings")
    assert pane.key_store.currentIndex() == -1  # nothing chosen for the user
    assert not pane.key_store.model().item(0).isEnabled()
    assert "No system keyring" in pane.key_note.full_text()
    _preset(pane, "Anthropic")
    pane.key.setText(key)
    qtbot.mouseClick(pane.save_button, Qt.MouseButton.LeftButton)
    assert pane.status.kind() == "error" and "key was not stored" in pane.status.full_text()
    assert not secrets.key_file().exists() and pane.key.text() == ""

    pane.key_store.setCurrentIndex(pane.key_store.findData("file"))
    assert pane.key_note.full_text().startswith("Not encrypted")
    assert win.ctx.settings.get("key_store") == "file"
    pane.key.setText(key)
    qtbot.mouseClick(pane.save_button, Qt.MouseButton.LeftButton)
    assert pane.status.kind() == "success"
    assert secrets.get_key("anthropic", "anthropic") == key
    assert stat.S_IMODE(secrets.key_file().stat().st_mode) == 0o600
    assert pane.key_status.text() == f"key set ({secrets.FILE_SOURCE})"
    # the key is nowhere else: not in the log, the settings, the providers file, the diagnostics
    from vspectrum_app.diagnostics import diagnostics_text

    assert key not in caplog.text
    for path in (win.ctx.settings.path, ProviderStore().path):
        assert key not in path.read_text()
    assert key not in diagnostics_text(win.ctx.settings.as_dict(), None)
    # a second start remembers the choice
    again = MainWindow(AppContext())
    qtbot.addWidget(again)
    assert again.pane("Settings").key_store.currentData() == "file"


@pytest.mark.parametrize("size", [(1024, 640), (1280, 720)])
def test_fits_small_screens_with_a_long_message(qtbot, tmp_path, size):
    """The pane alone, at the room a window of ``size`` gives it (the 150 px sidebar, menu and
    status bar taken off): nothing widens it, and every control is inside its scroll area."""
    from PySide6.QtWidgets import QScrollArea

    from vspectrum_app.gui.panes.settings import SettingsPane

    room = (size[0] - 150, size[1] - 60)
    pane = SettingsPane(AppContext())
    qtbot.addWidget(pane)
    pane.resize(*room)
    pane.show()
    qtbot.waitExposed(pane)
    for label in (pane.status, pane.model_status, pane.key_note):
        label.set_message("x" * 500, "error")
    qtbot.wait(50)
    assert pane.minimumSizeHint().width() <= room[0] and pane.minimumSizeHint().height() <= room[1]
    assert (pane.width(), pane.height()) == room
    scroll = pane.findChild(QScrollArea)
    for control in (
        pane.save_button,
        pane.fetch_button,
        pane.key_store,
        pane.model_button,
        pane.save_settings_button,
        pane.weights_state.button,
    ):
        assert scroll.widget().isAncestorOf(control)
    assert scroll.horizontalScrollBar().maximum() == 0  # no sideways scrolling
    path = tmp_path / f"settings-{size[0]}x{size[1]}.png"
    pane.grab().save(str(path))
    assert path.stat().st_size > 5000


def test_the_provider_test_reads_its_typed_result(qtbot, window):
    """Test's outcome comes from the job's typed result (providers.ops.Checked), not its output or stderr."""
    from tests.gui.fakes import use_fake_jobs
    from vspectrum_app.core import events
    from vspectrum_app.providers.config import ProviderConfig
    from vspectrum_app.providers.ops import Check, Checked

    ProviderStore().save(ProviderConfig(name="lab", kind="openai-compatible", base_url="http://127.0.0.1:9/v1"))
    window.ctx.providers_changed.emit()
    pane = window.show_pane("Settings")
    pane._reload()
    use_fake_jobs(window.ctx)
    (item,) = [pane.provider_list.item(i) for i in range(pane.provider_list.count())]
    pane.provider_list.setCurrentItem(item)
    for checked, said, kind in (
        (Checked(False, "the key was rejected (401)"), "Failed: the key was rejected (401)", "error"),
        (Checked(True, "lab answered in 0.2 s"), "OK: lab answered in 0.2 s", "success"),
    ):
        qtbot.mouseClick(pane.test_button, Qt.MouseButton.LeftButton)
        assert window.ctx.started[-1] == ("Test lab", Check(name="lab"))
        window.ctx.job.send(events.Result(data=checked))
        window.ctx.job.finished.emit(0 if checked.ok else 1)
        assert (pane.status.full_text(), pane.status.kind()) == (said, kind)
