"""CLIP weights download: progress, cancel, resume with Range, checksum, a file the user has."""

from __future__ import annotations

import hashlib
import threading

import pytest

from tests.plugins.weights_server import PAYLOAD, FileServer
from vspectrum_app.encoders import weights
from vspectrum_app.encoders.weights import Cancelled, WeightsError, WeightsSource

SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.stop()


def source(url: str, sha: str | None = SHA) -> WeightsSource:
    return WeightsSource(model="tiny", pretrained="test", url=url, sha256=sha, size=len(PAYLOAD))


def test_download_reports_progress_and_verifies(file_server):
    seen = []
    src = source(file_server.url)
    assert weights.state(src) == "missing"
    path = weights.download(src, progress=seen.append)
    assert path.read_bytes() == PAYLOAD
    assert weights.state(src) == "ready"
    downloads = [p for p in seen if p.phase == "download"]
    assert downloads[-1].done == len(PAYLOAD) and downloads[-1].total == len(PAYLOAD)
    assert all(p.speed > 0 for p in downloads)
    assert [p.done for p in downloads] == sorted(p.done for p in downloads)
    assert any(p.phase == "verify" for p in seen)


def test_interrupted_download_resumes_with_a_range_request(file_server):
    src = source(file_server.url)
    file_server.cut_after = 100_000
    with pytest.raises(WeightsError, match="resume"):
        weights.download(src)
    assert weights.state(src) == "partial"
    assert not weights.target_path(src).exists()
    assert weights.part_path(src).stat().st_size == 100_000
    path = weights.download(src)
    assert file_server.ranges == [0, 100_000]
    assert path.read_bytes() == PAYLOAD


def test_cancel_keeps_the_part_for_later(file_server):
    src = source(file_server.url)
    cancel = threading.Event()

    def stop_after_first_chunk(p):
        cancel.set()

    with pytest.raises(Cancelled):
        weights.download(src, progress=stop_after_first_chunk, cancel=cancel)
    assert weights.state(src) == "partial"
    assert 0 < weights.part_path(src).stat().st_size < len(PAYLOAD)
    assert weights.download(src).read_bytes() == PAYLOAD


def test_checksum_mismatch_is_a_clear_error_and_nothing_is_promoted(file_server):
    src = source(file_server.url, sha="0" * 64)
    with pytest.raises(WeightsError, match="damaged or not the right one"):
        weights.download(src)
    assert weights.state(src) == "missing"
    assert not weights.part_path(src).exists()


def test_the_servers_stated_checksum_is_used_when_none_is_pinned():
    server = FileServer(etag="f" * 64)
    try:
        src = source(server.url, sha=None)
        with pytest.raises(WeightsError, match="damaged"):
            weights.download(src)
        server.etag = SHA
        assert weights.download(src).read_bytes() == PAYLOAD
    finally:
        server.stop()


def test_without_any_checksum_a_non_weights_file_is_refused(tmp_path):
    server = FileServer(payload=b"<html>" + b"Sign in to continue" * 100 + b"</html>")
    try:
        src = source(server.url, sha=None)
        with pytest.raises(WeightsError, match="not a weights file"):
            weights.download(src)
        assert weights.state(src) == "missing"
    finally:
        server.stop()
    page = tmp_path / "page.html"
    page.write_text("<html></html>")
    with pytest.raises(WeightsError, match="not a model weights file"):
        weights.use_existing(page, source("http://127.0.0.1:9/w.bin", sha=None))
    good = tmp_path / "w.bin"
    good.write_bytes(PAYLOAD)
    assert weights.use_existing(good, source("http://127.0.0.1:9/w.bin", sha=None)).read_bytes() == PAYLOAD


def test_unreachable_server_is_one_sentence():
    src = source("http://127.0.0.1:9/weights.bin")
    with pytest.raises(WeightsError, match="Cannot reach the server") as err:
        weights.download(src)
    assert "Traceback" not in str(err.value)


def test_use_a_file_i_already_have(tmp_path):
    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_bytes(PAYLOAD)
    bad.write_bytes(PAYLOAD[:-1])
    src = source("http://127.0.0.1:9/unused")
    with pytest.raises(WeightsError, match="damaged"):
        weights.use_existing(bad, src)
    assert weights.state(src) == "missing"
    with pytest.raises(WeightsError, match="not a file"):
        weights.use_existing(tmp_path / "nope.bin", src)
    path = weights.use_existing(good, src)
    assert path.read_bytes() == PAYLOAD and good.exists()


def test_embedder_loads_the_file_put_in_place(tmp_path, tiny_clip, monkeypatch):
    """A model given by name + tag loads the verified local file instead of asking the hub
    (before, an unknown tag failed with 'open_clip has no weights')."""
    from vspectrum_app.encoders.embedder import ClipSpec
    from vspectrum_app.encoders.backends import load_embedder

    checkpoint = open(tiny_clip.checkpoint, "rb").read()
    src = WeightsSource(
        model="tiny-clip",
        pretrained="local-test",
        url="http://127.0.0.1:9/x",
        sha256=hashlib.sha256(checkpoint).hexdigest(),
    )
    monkeypatch.setitem(weights.SOURCES, (src.model, src.pretrained), src)
    weights.use_existing(tiny_clip.checkpoint, src)
    spec = ClipSpec(model="tiny-clip", pretrained="local-test", config=tiny_clip.config)
    # both on torch: under ``auto`` each model takes the backend its own export timed faster,
    # so on a busy machine one could be int8 ONNX and the other torch (seen once in a full run)
    embedder = load_embedder(spec, backend="torch")
    reference = load_embedder(tiny_clip, backend="torch")
    assert embedder.dim == 64
    texts = ["a dog", "a city"]
    assert (abs(embedder.encode_texts(texts) - reference.encode_texts(texts)) < 1e-5).all()
