"""The image tower's precision per backend (``precision.py``): every scheme tried, the fastest
that passes the quality check served by ``--backend onnx|openvino``, recorded in the index's
manifest, printed by ``library index`` and shown in the Library pane. The full-size ViT-B-32
figures are ``perf/int8_schemes.py``'s; here the tiny test model."""

from __future__ import annotations

import json

import pytest

from tests.plugins.reporting import RecordingReporter
from vspectrum_app.encoders import onnx_export, precision
from vspectrum_app.encoders import backends as backends_module
from vspectrum_app.encoders.backends import load_embedder


@pytest.fixture
def export(tiny_clip, monkeypatch):
    monkeypatch.setattr(backends_module, "_cache", {})
    meta = onnx_export.cached_meta(tiny_clip.model_key)
    if meta is None:
        from vspectrum_app.encoders.embedder import torch_embedder

        meta = onnx_export.export(torch_embedder(tiny_clip, RecordingReporter(), "cpu"))
    folder = onnx_export.cache_folder(tiny_clip.model_key)
    for backend in precision.SCHEMES:  # measured afresh by each test
        precision.record_file(folder, backend).unlink(missing_ok=True)
    return folder, meta


def _check_failing(*failing: int):
    """A quality check that fails the calls numbered in ``failing`` (0: the first scheme tried)
    and passes the others (with their real figures: on the tiny model's 40 check pictures
    whether a scheme passes is a matter of one neighbour)."""
    calls = iter(range(100))

    def check(reference, got):
        result = precision.quality(reference, got)
        return {**result, "passed": False, "cosine_min": 0.5} if next(calls) in failing else {**result, "passed": True}

    return check


def test_the_fastest_passing_scheme_is_kept(tiny_clip, export, monkeypatch):
    folder, meta = export
    rates = iter([10.0, 30.0, 20.0])  # measured rates, in the order the schemes are tried
    monkeypatch.setattr(precision, "rate", lambda embedder, pixels: next(rates))
    judged = []

    def passes(reference, got):  # the real figures, every scheme passing
        judged.append(precision.quality(reference, got))
        return {**judged[-1], "passed": True}

    choice = precision.choose(tiny_clip, folder, meta, "onnx", check=passes)
    tried = [t.precision for t in choice.trials]
    assert tried == precision.schemes("onnx", meta) and tried[-2:] == ["int8 static", "fp32"]
    assert tried[0] == meta["precision"]["image"]  # the export's dynamic scheme, by its name, first
    assert [(t.cosine_min, t.overlap) for t in choice.trials] == [(j["cosine_min"], j["overlap"]) for j in judged]
    assert all(t.error is None and t.cosine_min >= 0.99 for t in choice.trials), choice  # each really ran
    assert choice.best == choice.trials[1] and choice.best.precision == "int8 static"


def test_a_failing_first_scheme_falls_back_to_the_next_that_passes(tiny_clip, export, monkeypatch):
    folder, meta = export
    monkeypatch.setattr(precision, "rate", lambda embedder, pixels: 50.0)  # all equal
    choice = precision.choose(tiny_clip, folder, meta, "onnx", check=_check_failing(0))
    first, *rest = choice.trials
    assert not first.passed and first.cosine_min == 0.5
    assert choice.best is not None and choice.best is rest[0] and rest[0].passed  # fastest passing, never the failed


def test_when_no_scheme_passes_the_backend_serves_torch_with_one_warning(tiny_clip, export, monkeypatch):
    folder, meta = export
    real_choose = precision.choose
    monkeypatch.setattr(
        precision, "choose", lambda *a, **k: real_choose(*a, **{**k, "check": _check_failing(*range(10))})
    )
    reporter = RecordingReporter()
    got = load_embedder(tiny_clip, reporter, backend="onnx")
    assert got.backend == "torch"
    [warning] = [e["message"] for e in reporter.of_type("log") if e["level"] == "warning"]
    assert "no precision passed" in warning and "torch" in warning


def test_backend_onnx_serves_and_records_its_best_precision_once(tiny_clip, export):
    folder, meta = export
    reporter = RecordingReporter()
    served = load_embedder(tiny_clip, reporter, backend="onnx")
    record = json.loads(precision.record_file(folder, "onnx").read_text())
    best = precision.Choice("onnx", tuple(precision.Trial(**t) for t in record["trials"])).best
    assert best is not None and served.chosen == best
    assert best.precision in served.describe()
    assert any(best.precision in e["message"] for e in reporter.of_type("log"))  # said once, when chosen
    backends_module._cache.clear()
    again = RecordingReporter()
    assert load_embedder(tiny_clip, again, backend="onnx").chosen == best
    assert not any("measuring" in e["message"] for e in again.of_type("log"))  # recorded: not measured twice


def test_openvino_runs_the_static_int8_tower(tiny_clip, export):
    pytest.importorskip("openvino")
    folder, meta = export
    choice = precision.choose(tiny_clip, folder, meta, "openvino")
    assert [t.precision for t in choice.trials] == ["int8 static", "fp16", "fp32"]
    static = choice.trials[0]
    assert static.error is None and static.cosine_min >= 0.99, static  # compiled and run (passing is measured)
    embedder = precision.make(tiny_clip, folder, meta, "openvino", "int8 static")
    assert "image.int8-static.onnx" in embedder.describe()


def test_the_index_manifest_records_the_precision_and_the_cli_prints_it(tiny_clip, export, workspace, capsys):
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.cli import main
    from vspectrum_app.core.settings import Settings
    from vspectrum_app.library import catalog
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import index_path, open_index

    for i in range(6):
        add_image(workspace, make_image_bytes(seed=300 + i), source_name=f"p{i}.jpg")
    settings = Settings.load()
    settings.update(clip_model=tiny_clip.model, clip_config=tiny_clip.config, clip_checkpoint=tiny_clip.checkpoint)
    settings.save()
    assert main(["-w", str(workspace.root), "library", "index", "--backend", "onnx", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    chosen = load_embedder(tiny_clip, backend="onnx").chosen
    want = {"backend": "onnx", "precision": chosen.precision, "cosine_min": chosen.cosine_min}
    assert printed["encoder"] == want
    path = index_path(workspace, tiny_clip.model_key)
    assert json.loads(path.with_suffix(".json").read_text())["encoder"] == want
    summary = catalog.index_summary(workspace, tiny_clip.model_key)
    assert summary == f"index: 6 screenshots, embedded with ONNX Runtime, {chosen.precision} " + (
        f"(cosine {chosen.cosine_min:.4f} to fp32)"
    )
    path.write_bytes(b"damaged")  # a rebuilt index keeps the record: its vectors are the stored ones
    index, _ = open_index(workspace, tiny_clip.model_key, 64)
    assert index.encoder == want and catalog.index_summary(workspace, tiny_clip.model_key) == summary
    add_image(workspace, make_image_bytes(seed=400), source_name="new.jpg")
    assert main(["-w", str(workspace.root), "library", "index", "--backend", "torch"]) == 0
    out = capsys.readouterr().out
    assert "1 images embedded" in out and "embedded with torch, fp32" in out
    assert "index: 7 screenshots, embedded with torch, fp32" == catalog.index_summary(workspace, tiny_clip.model_key)
