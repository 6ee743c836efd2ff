"""The CLIP weights dialog and state widget, driven through their buttons (offscreen)."""

from __future__ import annotations

import hashlib

import pytest
from PySide6.QtCore import Qt

from tests.plugins.weights_server import PAYLOAD, FileServer
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.weights_dialog import WeightsDialog, WeightsDownload, WeightsStateWidget
from vspectrum_app.encoders import weights
from vspectrum_app.encoders.weights import WeightsSource

pytestmark = pytest.mark.gui


@pytest.fixture
def server():
    s = FileServer()
    yield s
    s.stop()


@pytest.fixture
def download(server, qtbot):
    src = WeightsSource(
        model="ViT-B-32",
        pretrained="laion2b_s34b_b79k",
        url=server.url,
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        size=len(PAYLOAD),
    )
    d = WeightsDownload(src)
    yield d
    d.shutdown()


def _click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_interrupted_download_resumes_from_the_dialog(qtbot, server, download):
    ctx = AppContext()
    state = WeightsStateWidget(ctx, download=download)
    qtbot.addWidget(state)
    assert state.label.full_text() == "CLIP weights: not downloaded"
    dialog = WeightsDialog(download)
    qtbot.addWidget(dialog)
    assert "MiB" in dialog.findChildren(type(dialog.checksum_note))[0].text()
    assert not dialog.cancel_button.isEnabled()

    server.cut_after = 120_000
    with qtbot.waitSignal(download.changed, check_params_cb=lambda s: s == "partial", timeout=30_000):
        _click(qtbot, dialog.download_button)
    assert dialog.status.kind() == "error" and "resume" in dialog.status.full_text()
    assert dialog.download_button.text() == "Resume"
    assert "0.1 MiB fetched so far" in dialog.detail.text()
    assert state.label.full_text() == "CLIP weights: download interrupted (can resume)"
    assert not weights.target_path(download.source).exists()

    with qtbot.waitSignal(download.changed, check_params_cb=lambda s: s == "ready", timeout=30_000):
        _click(qtbot, dialog.download_button)
    assert server.ranges == [0, 120_000]
    assert weights.target_path(download.source).read_bytes() == PAYLOAD
    assert dialog.status.kind() == "success" and "verified" in dialog.status.full_text()
    assert dialog.bar.value() == dialog.bar.maximum()
    assert not dialog.download_button.isEnabled()
    assert state.label.full_text() == "CLIP weights: ready"


def test_use_a_file_i_already_have_rejects_a_wrong_file(qtbot, download, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    dialog = WeightsDialog(download)
    qtbot.addWidget(dialog)
    wrong = tmp_path / "other.bin"
    wrong.write_bytes(b"not the weights")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(wrong), ""))
    with qtbot.waitSignal(download.changed, check_params_cb=lambda s: s == "missing", timeout=30_000):
        _click(qtbot, dialog.file_button)
    assert dialog.status.kind() == "error" and "damaged or not the right one" in dialog.status.full_text()
    assert weights.state(download.source) == "missing"

    right = tmp_path / "open_clip_pytorch_model.bin"
    right.write_bytes(PAYLOAD)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(right), ""))
    with qtbot.waitSignal(download.changed, check_params_cb=lambda s: s == "ready", timeout=30_000):
        _click(qtbot, dialog.file_button)
    assert weights.target_path(download.source).read_bytes() == PAYLOAD


def test_state_widget_names_a_local_model_instead(qtbot, download, tiny_clip):
    ctx = AppContext()
    ctx.settings.update(clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint)
    state = WeightsStateWidget(ctx, download=download)
    qtbot.addWidget(state)
    assert state.state() == "other" and "tiny-clip from" in state.label.full_text()
    assert state.button.isHidden()


def test_lean_install_builds_the_encoder_right_after_the_download(qtbot, monkeypatch, tiny_clip):
    """Without torch the download is followed by the torch-free build of the ONNX towers, so
    the first search does not wait for it; the dialog says so."""
    import json
    from pathlib import Path

    from vspectrum_app.encoders import onnx_build, onnx_export
    from vspectrum_app.encoders.embedder import ClipSpec

    payload = Path(tiny_clip.checkpoint).read_bytes()
    server = FileServer(payload)
    src = WeightsSource(
        model="tiny-clip",
        pretrained="test",
        url=server.url,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
    )
    monkeypatch.setitem(weights.SOURCES, (src.model, src.pretrained), src)
    monkeypatch.setattr(onnx_build, "_torch_installed", lambda: False)
    monkeypatch.setattr(onnx_build, "model_config", lambda spec: json.loads(Path(tiny_clip.config).read_text()))
    download = WeightsDownload(src)
    dialog = WeightsDialog(download)
    qtbot.addWidget(dialog)
    try:
        with qtbot.waitSignal(download.changed, check_params_cb=lambda s: s == "ready", timeout=120_000):
            _click(qtbot, dialog.download_button)
    finally:
        download.shutdown()
        server.stop()
    assert dialog.status.kind() == "success" and "verified; encoder built" in dialog.status.full_text()
    meta = onnx_export.cached_meta(ClipSpec(model="tiny-clip", pretrained="test").model_key)
    assert meta is not None and meta["built_by"].startswith("onnx_build")
