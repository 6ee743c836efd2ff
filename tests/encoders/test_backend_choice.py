"""``auto``: every backend measured once on this machine (speed and quality), recorded per
model, the fastest that passed served; OpenVINO as a backend; torch when a runtime is hidden."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from tests.plugins.clip import WORDS
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.encoders import backend_choice, onnx_export, precision
from vspectrum_app.encoders import backends as backends_module
from vspectrum_app.encoders.precision import quality, top_k_overlap
from vspectrum_app.encoders.backends import load_embedder
from vspectrum_app.library.images import decode_rgb


def _logs(reporter: RecordingReporter, level: str | None = None) -> list[str]:
    return [e["message"] for e in reporter.of_type("log") if level is None or e["level"] == level]


def test_top_k_overlap_against_a_worked_example():
    library = np.eye(12, dtype=np.float32)
    query = np.linspace(1, 0.1, 12, dtype=np.float32)[None, :]  # ranks the library 0, 1, ..., 11
    swapped = query.copy()
    swapped[0, [9, 10]] = swapped[0, [10, 9]]  # the 10th and 11th trade places: 9 of 10 shared
    assert top_k_overlap(library, library, query, query) == 1.0
    assert top_k_overlap(library, library, query, swapped) == pytest.approx(0.9)


def test_quality_check_fails_on_cosine_or_on_reordered_neighbours():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(200, 16)).astype(np.float32)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    texts = images[:64] + 0.01
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    same = quality((images, texts), (images, texts))
    assert same["cosine_min"] == 1.0 and same["overlap"] == 1.0 and same["passed"]
    assert 0.9 < same["overlap_low"] < 1  # every neighbour kept: the bound is what 64 queries can show
    bent = images.copy()
    bent[0] = -bent[0]  # one image far off: cosine fails
    assert not quality((images, texts), (bent, texts))["passed"]
    shuffled = images[rng.permutation(200)]  # every vector a unit vector, neighbours scrambled
    got = quality((images, texts), (shuffled, texts))
    assert got["overlap"] < 0.95 and not got["passed"]
    few = quality((images, texts[:12]), (images, texts[:12]))  # 12 queries cannot show 0.9, even all kept
    assert few["overlap"] == 1.0 and few["overlap_low"] < 0.9 and not few["passed"]


def test_text_tower_reproduces_open_clip_to_fp32_precision(tiny_clip, fresh, pilot_dir):
    """Regression (text top-10 overlap 0.94 on ViT-B-32): the int8 text tower's rounding
    (cosine 0.998) reordered a query's top 10. A query ranks the whole library, so the text
    tower is served in fp32, whatever the backend."""
    reference = load_embedder(tiny_clip, backend="torch")
    shots = sorted(pilot_dir.rglob("*.jpeg"))[:60]
    library = np.concatenate([reference.encode_images([decode_rgb(p.read_bytes(), (224, 224)) for p in shots])])
    want = reference.encode_texts(WORDS)
    for backend in ("onnx", "openvino", "auto"):
        got = load_embedder(tiny_clip, backend=backend)
        # auto serves the fastest that passed: on a busy machine that can be torch itself,
        # whose text tower is the reference (CI picked it once for this tiny model)
        if got.backend != "torch":
            assert got.meta["text_file"] == "text.fp32.onnx"
        assert (got.encode_texts(WORDS) * want).sum(axis=1).min() >= 0.99999, backend
        assert top_k_overlap(library, library, want, got.encode_texts(WORDS)) == 1.0


def test_openvino_embeddings_match_fp32_open_clip(tiny_clip, fresh, pilot_dir):
    reference = load_embedder(tiny_clip, backend="torch")
    shots = sorted(pilot_dir.rglob("*.jpeg"))[:60]
    pictures = [decode_rgb(p.read_bytes(), (224, 224)) for p in shots]
    want = (
        np.concatenate([reference.encode_images(pictures[i : i + 16]) for i in range(0, 60, 16)]),
        reference.encode_texts(WORDS),
    )
    folder = onnx_export.cache_folder(tiny_clip.model_key)
    load_embedder(tiny_clip, backend="onnx")  # the export
    meta = onnx_export.cached_meta(tiny_clip.model_key)
    for scheme in ("fp32", "fp16"):
        fast = precision.make(tiny_clip, folder, meta, "openvino", scheme)
        assert fast.backend == "openvino" and scheme in fast.describe()
        got = (
            np.concatenate([fast.encode_images(pictures[i : i + 16]) for i in range(0, 60, 16)]),
            fast.encode_texts(WORDS),
        )
        judged = quality(want, got)  # 60 pictures and a few words: too few for the bound, so the mean
        assert judged["cosine_min"] >= precision.MIN_COSINE and judged["overlap"] >= 0.95, (scheme, judged)


def test_auto_measures_once_records_the_choice_and_serves_it(tiny_clip, fresh):
    first = RecordingReporter()
    served = load_embedder(tiny_clip, first, backend="auto")
    assert sum("measuring the embedding backends" in m for m in _logs(first)) == 1
    folder = onnx_export.cache_folder(tiny_clip.model_key)
    choice = json.loads((folder / "choice.json").read_text())
    rows = {(c["backend"], c["precision"]): c for c in choice["candidates"]}
    assert {("torch", "fp32"), ("onnx", "fp32"), ("openvino", "fp32"), ("openvino", "fp16")} <= set(rows)
    assert rows["torch", "fp32"].get("reference") and rows["torch", "fp32"]["cosine_min"] == 1.0
    passed = [c for c in choice["candidates"] if c["passed"]]
    fastest = max(passed, key=lambda c: c["rate"])
    assert (choice["backend"], choice["precision"]) == (fastest["backend"], fastest["precision"])
    assert served.backend == choice["backend"]
    assert all(c["cosine_min"] >= 0.99 and c["overlap_low"] >= precision.MIN_OVERLAP for c in passed)

    backends_module._cache.clear()
    again = RecordingReporter()
    load_embedder(tiny_clip, again, backend="auto")
    assert not any("measuring" in m for m in _logs(again))  # recorded: not measured twice
    for backend, scheme in (("openvino", "fp16"), ("onnx", "fp32"), ("torch", "fp32")):
        (folder / "choice.json").write_text(json.dumps({**choice, "backend": backend, "precision": scheme}))
        backends_module._cache.clear()
        got = load_embedder(tiny_clip, backend="auto")
        assert got.backend == backend
        assert backend == "torch" or scheme in got.describe() or scheme == "fp32"
    (folder / "choice.json").write_text(json.dumps({**choice, "machine": {**choice["machine"], "cores": 999}}))
    backends_module._cache.clear()
    moved = RecordingReporter()
    load_embedder(tiny_clip, moved, backend="auto")  # another machine's record: measured again
    assert any("measuring" in m for m in _logs(moved))


def test_hidden_openvino_falls_back_to_torch_with_one_log_line(tiny_clip, fresh, monkeypatch):
    load_embedder(tiny_clip, backend="onnx")  # exported while everything is there
    backends_module._cache.clear()
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now raises ImportError
    reporter = RecordingReporter()
    got = load_embedder(tiny_clip, reporter, backend="openvino")
    assert got.backend == "torch"
    [line] = _logs(reporter, "warning")
    assert "OpenVINO" in line and "torch" in line and "\n" not in line
    backends_module._cache.clear()
    auto = RecordingReporter()  # auto measures without it and serves what is there, with no warning
    assert load_embedder(tiny_clip, auto, backend="auto").backend in ("torch", "onnx")
    assert not _logs(auto, "warning")
    choice = json.loads((onnx_export.cache_folder(tiny_clip.model_key) / "choice.json").read_text())
    assert all(c.get("missing") == "openvino" for c in choice["candidates"] if c["backend"] == "openvino")


def test_without_torch_the_fp32_export_is_the_reference(tiny_clip, fresh, monkeypatch):
    load_embedder(tiny_clip, backend="onnx")
    folder, meta = onnx_export.cache_folder(tiny_clip.model_key), onnx_export.cached_meta(tiny_clip.model_key)
    monkeypatch.setattr(precision, "installed", lambda module: module not in ("torch", "open_clip"))
    choice = backend_choice.measure(tiny_clip, folder, meta)
    rows = {(c["backend"], c["precision"]): c for c in choice["candidates"]}
    assert rows["torch", "fp32"]["missing"] == "torch" and not rows["torch", "fp32"]["passed"]
    assert rows["onnx", "fp32"]["reference"] and choice["backend"] != "torch"


@pytest.mark.parametrize("text", ["[1, 2]", '"fast"', "null", "{not json"])
def test_a_damaged_choice_record_is_measured_again(tmp_path, text):
    (tmp_path / backend_choice.CHOICE_FILE).write_text(text)
    assert backend_choice.recorded(tmp_path, {"created": 1}) is None
    # a well-formed record for this machine and export is served as it is
    record = {"machine": precision.machine(), "export_created": 1, "backend": "onnx", "check": precision.CHECK}
    (tmp_path / backend_choice.CHOICE_FILE).write_text(json.dumps(record))
    assert backend_choice.recorded(tmp_path, {"created": 1}) == json.loads(json.dumps(record))
    # one measured with another quality check (the 40-picture one, before) is measured again
    (tmp_path / backend_choice.CHOICE_FILE).write_text(json.dumps({**record, "check": "40 pictures"}))
    assert backend_choice.recorded(tmp_path, {"created": 1}) is None
