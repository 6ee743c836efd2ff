"""The image tower's precision per backend (``precision.py``): every scheme tried, the fastest
that passes the quality check served by ``--backend onnx|openvino``, recorded in the index's
manifest, printed by ``library index`` and shown in the Library pane. The full-size ViT-B-32
figures are ``perf/int8_schemes.py``'s; here the tiny test model."""

from __future__ import annotations

import json

import numpy as np
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


def test_the_fastest_passing_scheme_is_kept_and_slower_ones_are_not_checked(tiny_clip, export, monkeypatch):
    folder, meta = export
    rates = iter([10.0, 30.0, 20.0])  # measured rates, in the order the schemes are tried
    timed = []

    def rate(embedder, pixels):
        timed.append(len(pixels))
        return next(rates)

    monkeypatch.setattr(precision, "rate", rate)
    judged, sizes = [], []

    def passes(reference, got):  # the real figures, every scheme passing
        judged.append(precision.quality(reference, got))
        sizes.append((len(reference[0]), len(got[0]), len(got[1])))
        return {**judged[-1], "passed": True}

    choice = precision.choose(tiny_clip, folder, meta, "onnx", check=passes)
    tried = [t.precision for t in choice.trials]
    assert tried == precision.schemes("onnx", meta) and tried[-2:] == ["int8 static", "fp32"]
    assert tried[0] == meta["precision"]["image"]  # the export's dynamic scheme, by its name, first
    assert timed == [precision.N_TIMED] * 3  # every scheme timed on the first pictures
    dynamic, static, fp32 = choice.trials
    assert len(judged) == 1 and sizes == [(precision.N_IMAGES, precision.N_IMAGES, len(precision.TEXTS))]
    assert (static.cosine_min, static.overlap, static.overlap_low) == (
        judged[0]["cosine_min"],
        judged[0]["overlap"],
        judged[0]["overlap_low"],
    )
    assert static.error is None and static.cosine_min >= 0.99, static  # it really ran on the gallery
    assert choice.best == static and static.rate == 30.0
    for slower in (dynamic, fp32):  # could not be chosen: the gallery's encoding is spared
        assert not slower.passed and slower.skipped == "slower than int8 static, which passed"


def test_a_failing_fastest_scheme_sends_the_check_to_the_next_fastest(tiny_clip, export, monkeypatch):
    folder, meta = export
    rates = iter([10.0, 30.0, 20.0])
    monkeypatch.setattr(precision, "rate", lambda embedder, pixels: next(rates))
    choice = precision.choose(tiny_clip, folder, meta, "onnx", check=_check_failing(0))
    dynamic, static, fp32 = choice.trials
    assert not static.passed and static.skipped is None and static.cosine_min == 0.5  # checked, failed
    assert choice.best == fp32 and fp32.passed  # the next fastest, checked
    assert dynamic.skipped == "slower than fp32, which passed"


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
    assert static.error is None and static.rate > 0, static  # compiled and run (passing is measured)
    assert static.skipped or static.cosine_min >= 0.99, static  # checked unless a faster scheme passed
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


def test_overlap_bound_against_a_worked_example():
    """40 queries, 36 keep all 10 of their neighbours and 4 keep 5: yes = 380 of n = 400, mean
    0.95. Design effect: var over queries = 40/39 * (36 * 0.5^2 + 4 * 4.5^2) / 400^2 = 5.769e-4,
    binomial var = 0.95 * 0.05 / 400 = 1.1875e-4, deff = 4.858, so n = 82.33 and yes = 78.22;
    t on 39 degrees of freedom = 2.0227; Wilson with continuity correction's lower end:
    (2np + t^2 - 1 - t sqrt(t^2 - 2 - 1/n + 4p(nq + 1))) / (2(n + t^2)) = 150.14 / 172.85 = 0.8686.
    A mean of 0.95 over 40 queries is not shown to be >= 0.9; the same spread over 160 is (0.919)."""
    mean, low = precision.overlap_bound(np.array([10] * 36 + [5] * 4))
    assert mean == 0.95 and low == pytest.approx(0.8686, abs=1e-4)
    assert precision.overlap_bound(np.array([10] * 144 + [5] * 16))[1] == pytest.approx(0.9191, abs=1e-4)


def test_overlap_bound_at_its_edges():
    # every query keeps all 10: no spread to estimate, each query counts as one answer (design
    # effect 10), so 64 queries show 0.927, 12 show only 0.657: the check's 64 texts pass an identical scheme
    assert precision.overlap_bound(np.array([10] * 64)) == (1.0, pytest.approx(0.9274, abs=1e-4))
    assert precision.overlap_bound(np.array([10] * 12))[1] == pytest.approx(0.6567, abs=1e-4)
    # a mean exactly at the bar stays below it however many queries (here without spread: deff 1)
    for n in (64, 1000):
        mean, low = precision.overlap_bound(np.array([9] * n))
        assert mean == 0.9 and low < precision.MIN_OVERLAP
    assert precision.overlap_bound(np.array([0] * 64)) == (0.0, 0.0)  # nothing kept
    assert precision.overlap_bound(np.array([], dtype=int)) == (1.0, 0.0)  # no queries: nothing shown


def test_a_picture_as_a_query_is_left_out_of_its_own_neighbours():
    library = np.eye(12, dtype=np.float32)
    library[:, 0] += np.linspace(1, 0.1, 12, dtype=np.float32)  # item 0 is everyone's nearest
    library /= np.linalg.norm(library, axis=1, keepdims=True)
    moved = library.copy()
    moved[[10, 11]] = moved[[11, 10]]  # two far items trade places: each query still finds 10 of its 11
    assert precision.shared_top_k(library, library, library, library, in_library=True).tolist() == [10] * 12
    with_self = precision.shared_top_k(library, moved, library, moved)  # itself counted: a free hit
    without = precision.shared_top_k(library, moved, library, moved, in_library=True)
    assert (with_self >= without).all() and without.min() < 10
    assert precision.shared_top_k(library[:1], library[:1], library[:1], library[:1], in_library=True).tolist() == [0]


def test_a_record_measured_with_another_check_is_measured_again(tmp_path):
    meta = {"created": 5}
    choice = precision.Choice("onnx", (precision.Trial("onnx", "fp32", 1.0, 1.0, 0.93, 3.0, True),))
    precision.save(tmp_path, meta, choice, precision.machine())
    assert precision.recorded(tmp_path, meta, "onnx") == choice
    record = json.loads(precision.record_file(tmp_path, "onnx").read_text())
    assert record["check"] == precision.CHECK
    record["check"] = "40 pictures, 12 texts; cosine >= 0.99, mean top-10 overlap >= 0.95"  # the old check
    precision.record_file(tmp_path, "onnx").write_text(json.dumps(record))
    assert precision.recorded(tmp_path, meta, "onnx") is None
