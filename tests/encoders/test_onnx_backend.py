"""The ONNX Runtime backend: open_clip's embeddings (quality bar), no torch at run time,
cached per model, and torch whenever the ONNX side cannot serve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.plugins.clip import WORDS, make_tiny_clip
from tests.plugins.library import make_image_bytes
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.encoders import backends as backends_module
from vspectrum_app.encoders import embedder as embedder_module
from vspectrum_app.encoders import onnx_export
from vspectrum_app.encoders.clip_preprocess import Preprocess
from vspectrum_app.encoders.clip_tokenizer import ClipTokenizer
from vspectrum_app.encoders.embedder import ClipModelUnavailable
from vspectrum_app.encoders.backends import load_embedder
from vspectrum_app.library.images import decode_rgb

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "",
    "a photo of a dog",
    "Hello,   WORLD!!  ",
    "café crème brûlée",
    "naïve façade 😀 emoji",
    "&amp;lt;b&amp;gt; html entities",
    "it's they're we've I'm you'll he'd",
    "123 4567 numbers 3.14",
    "中文 日本語 한국어",
    "x" * 400,
    "word " * 100,
    "don't STOP\tbelieving\n",
    "e-mail @ home #tag",
]


def _open_clip():
    embedder_module._prepare_torchvision()
    import open_clip

    return open_clip


def _pictures(n: int, start: int = 0) -> list:
    return [
        decode_rgb(
            make_image_bytes(
                seed=start + i, color=(37 * i % 256, 255 - 23 * i % 256, 90 + i), size=(120 + 7 * i, 200 - 3 * i)
            )
        )
        for i in range(n)
    ]


def _warnings(reporter: RecordingReporter) -> list[str]:
    return [e["message"] for e in reporter.of_type("log") if e["level"] == "warning"]


def test_tokenizer_reproduces_open_clip_token_for_token():
    _open_clip()
    from open_clip.tokenizer import SimpleTokenizer, default_bpe

    for length in (77, 32):
        ours = ClipTokenizer(Path(default_bpe()), length)(TEXTS)
        assert np.array_equal(ours, SimpleTokenizer(context_length=length)(TEXTS).numpy())
    assert ClipTokenizer(Path(default_bpe()), 77)("x" * 400)[0, -1] == 49407  # truncated: end token kept last


def test_ascii_text_is_split_by_re_as_open_clips_regex_pattern_splits_it():
    import random

    from vspectrum_app.encoders.clip_tokenizer import _ASCII_WORDS, _clean, _unicode_words

    rng = random.Random(7)
    texts = [*TEXTS, "".join(map(chr, range(128))), "<start_of_text>x<end_of_text>y IT'S 42nd"]
    texts += ["".join(chr(rng.randrange(128)) for _ in range(rng.randrange(60))) for _ in range(3000)]
    cleaned = [c for c in map(_clean, texts) if c.isascii()]
    assert len(cleaned) > 3000
    assert all(_ASCII_WORDS.findall(c) == _unicode_words()(c) for c in cleaned)


def test_the_tokenizer_keeps_its_parsed_merges_beside_an_exports_vocabulary(tmp_path, monkeypatch):
    """Its start reads the merges once from the gzipped file (262k lines) and later from the
    uncompressed 49k it uses; a replaced vocabulary is parsed again; a folder that cannot be
    written (or one not the app's: ``cache`` off) gets nothing written."""
    import os

    from vspectrum_app.core.paths import resources_dir
    from vspectrum_app.encoders import clip_tokenizer

    vocab = tmp_path / "bpe_simple_vocab_16e6.txt.gz"
    vocab.write_bytes((resources_dir() / "clip" / vocab.name).read_bytes())
    expected = ClipTokenizer(vocab)(TEXTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == [vocab.name]  # cache off: nothing written
    assert np.array_equal(ClipTokenizer(vocab, cache=True)(TEXTS), expected)
    saved = tmp_path / f"{vocab.name}.merges"
    assert saved.is_file()
    opened = []
    real_open = clip_tokenizer.gzip.open
    monkeypatch.setattr(clip_tokenizer.gzip, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    assert np.array_equal(ClipTokenizer(vocab, cache=True)(TEXTS), expected) and opened == []
    st = vocab.stat()
    os.utime(vocab, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))  # as a replaced file would be
    assert np.array_equal(ClipTokenizer(vocab, cache=True)(TEXTS), expected) and len(opened) == 1
    assert np.array_equal(ClipTokenizer(vocab, cache=True)(TEXTS), expected) and len(opened) == 1  # cached again
    saved.unlink()

    def refuse(*args):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(clip_tokenizer.os, "replace", refuse)
    assert np.array_equal(ClipTokenizer(vocab, cache=True)(TEXTS), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == [vocab.name]


def test_preprocessing_reproduces_open_clip_pixels():
    from PIL import Image

    open_clip = _open_clip()
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    reference = open_clip.image_transform(224, is_train=False, mean=mean, std=std)
    ours = Preprocess(size=224, mean=mean, std=std)
    rng = np.random.default_rng(3)
    shapes = [(720, 1280), (1280, 720), (224, 224), (100, 60), (225, 999), (333, 333), (1, 500)]
    for w, h in shapes:
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        assert np.abs(ours(img) - reference(img).numpy()).max() < 1e-5, (w, h)
    grey = Image.fromarray(rng.integers(0, 256, (300, 400), dtype=np.uint8), "L")
    assert np.abs(ours(grey) - reference(grey).numpy()).max() < 1e-5


def _top10_overlap(library_a, library_b, queries_a, queries_b) -> float:
    overlaps = []
    for qa, qb in zip(queries_a, queries_b):
        top_a = set(np.argsort(-(library_a @ qa))[:10].tolist())
        top_b = set(np.argsort(-(library_b @ qb))[:10].tolist())
        overlaps.append(len(top_a & top_b) / 10)
    return float(np.mean(overlaps))


def test_onnx_embeddings_match_fp32_open_clip(tiny_clip, fresh, pilot_dir):
    """The quality bar: cosine >= 0.99 per image and per text, top-10 overlap >= 0.95, on the
    pilot screenshots (the real material) with the tiny model."""
    reference, fast = load_embedder(tiny_clip, backend="torch"), load_embedder(tiny_clip, backend="onnx")
    assert (reference.backend, fast.backend) == ("torch", "onnx")
    shots = sorted(pilot_dir.rglob("*.jpeg"))[:60]
    assert len(shots) >= 30
    pictures = [decode_rgb(p.read_bytes(), min_size=fast.input_size) for p in shots]
    lib_ref = np.concatenate([reference.encode_images(pictures[i : i + 16]) for i in range(0, len(pictures), 16)])
    lib_fast = np.concatenate([fast.encode_images(pictures[i : i + 16]) for i in range(0, len(pictures), 16)])
    assert (lib_ref * lib_fast).sum(axis=1).min() >= 0.99
    text_ref, text_fast = reference.encode_texts(WORDS), fast.encode_texts(WORDS)
    assert (text_ref * text_fast).sum(axis=1).min() >= 0.99
    assert _top10_overlap(lib_ref, lib_fast, text_ref, text_fast) >= 0.95  # keyword search
    assert _top10_overlap(lib_ref, lib_fast, lib_ref[:12], lib_fast[:12]) >= 0.95  # similar images


def test_a_vector_does_not_depend_on_its_batch(tiny_clip, fresh):
    """int8 activations are scaled per run: rows run alone, so batching never changes a vector."""
    fast = load_embedder(tiny_clip, backend="onnx")
    pictures = _pictures(6)
    together = fast.encode_images(pictures)
    alone = np.concatenate([fast.encode_images([p]) for p in pictures])
    assert np.allclose(together, alone, atol=1e-6)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_export_is_cached_per_model_and_redone_when_stale(tiny_clip, fresh, tmp_path):
    first = RecordingReporter()
    load_embedder(tiny_clip, first, backend="onnx")
    assert any("exporting" in e["message"] for e in first.of_type("log"))
    meta = onnx_export.cached_meta(tiny_clip.model_key)
    assert meta and meta["model_key"] == tiny_clip.model_key and meta["image_file"].endswith(".onnx")
    backends_module._cache.clear()
    again = RecordingReporter()
    load_embedder(tiny_clip, again, backend="onnx")
    assert not any("exporting" in e["message"] for e in again.of_type("log"))  # cached: no second export
    other = make_tiny_clip(tmp_path / "other", name="tiny-clip-c", seed=5)
    load_embedder(other, backend="onnx")
    assert onnx_export.cached_meta(other.model_key)["model_key"] == other.model_key  # another model, own export
    folder = onnx_export.cache_folder(tiny_clip.model_key)
    (folder / "meta.json").write_text(json.dumps({**meta, "format": 0}))  # written by an older version
    backends_module._cache.clear()
    redo = RecordingReporter()
    load_embedder(tiny_clip, redo, backend="onnx")
    assert any("exporting" in e["message"] for e in redo.of_type("log"))
    assert not list(folder.parent.glob("*.tmp-*"))


@pytest.mark.parametrize("exported_first", [False, True])
def test_hidden_runtime_falls_back_to_torch_with_one_log_line(tiny_clip, fresh, monkeypatch, exported_first):
    if exported_first:
        load_embedder(tiny_clip, backend="onnx")
        backends_module._cache.clear()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    reporter = RecordingReporter()
    got = load_embedder(tiny_clip, reporter, backend="onnx")
    assert got.backend == "torch"
    assert len(_warnings(reporter)) == 1 and "onnxruntime" in _warnings(reporter)[0].lower().replace(" ", "")
    assert got.encode_texts(["dog"]).shape == (1, 64)


def test_failed_export_falls_back_to_torch_and_leaves_nothing(tiny_clip, fresh, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("Exporting the operator 'aten::frobnicate' to ONNX is not supported")

    monkeypatch.setattr(onnx_export, "_export_tower", refuse)
    reporter = RecordingReporter()
    got = load_embedder(tiny_clip, reporter, backend="auto")
    assert got.backend == "torch"
    [line] = _warnings(reporter)
    assert "frobnicate" in line and "torch" in line and "\n" not in line
    assert onnx_export.cached_meta(tiny_clip.model_key) is None
    assert not list(onnx_export.cache_folder(tiny_clip.model_key).parent.glob("*"))


def test_backend_comes_from_argument_environment_or_setting(tiny_clip, fresh, monkeypatch):
    from vspectrum_app.core.settings import Settings

    from vspectrum_app.library.ops import BackendOptions

    settings = Settings.load()
    settings.set("clip_backend", "torch")
    settings.save()
    assert backends_module.configured_backend() == "auto"  # the settings file is the entry point's to read
    assert BackendOptions().from_settings(settings.as_dict()).backend == "torch"
    monkeypatch.setenv("VSPECTRUM_CLIP_BACKEND", "onnx")
    assert backends_module.configured_backend() == "onnx"
    assert BackendOptions().from_settings(settings.as_dict()).backend == "onnx"
    assert backends_module.configured_backend("auto") == "auto"
    with pytest.raises(ClipModelUnavailable) as err:
        load_embedder(tiny_clip, backend="tensorflow")
    assert "tensorflow" in str(err.value) and "\n" not in str(err.value)


BLOCK_TORCH = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'torchvision', 'open_clip'):
            raise ImportError('blocked for this test: ' + name)
sys.meta_path.insert(0, Block())
"""


def test_onnx_path_runs_with_torch_and_open_clip_blocked(tiny_clip, fresh, workspace, tmp_path):
    """Index and search in a process where importing torch, torchvision or open_clip fails."""
    from vspectrum_app.library.importer import add_image

    fast = load_embedder(tiny_clip, backend="onnx")  # exported here, where torch is present
    pictures = _pictures(4)
    expected_images, expected_text = fast.encode_images(pictures), fast.encode_texts(["a red square"])
    for i in range(10):
        add_image(workspace, make_image_bytes(seed=300 + i, color=(25 * i, 80, 200 - 15 * i)), source_name=f"{i}.jpg")
    workspace.close()
    for i, picture in enumerate(pictures):
        picture.save(tmp_path / f"p{i}.png")
    script = (
        BLOCK_TORCH
        + f"""
import json, numpy as np
from PIL import Image
from vspectrum_app.cli import main
from vspectrum_app.encoders.embedder import ClipSpec
from vspectrum_app.encoders.backends import load_embedder
spec = ClipSpec(model={tiny_clip.model!r}, pretrained=None, config={tiny_clip.config!r}, checkpoint={tiny_clip.checkpoint!r})
e = load_embedder(spec, backend='onnx')
images = [Image.open({str(tmp_path)!r} + f'/p{{i}}.png').convert('RGB') for i in range(4)]
np.save({str(tmp_path / "images.npy")!r}, e.encode_images(images))
np.save({str(tmp_path / "text.npy")!r}, e.encode_texts(['a red square']))
clip = ['--clip-config', spec.config, '--clip-checkpoint', spec.checkpoint, '--backend', 'onnx']
assert main(['-w', {str(workspace.root)!r}, 'library', 'index', *clip]) == 0
print('SEARCH')
assert main(['-w', {str(workspace.root)!r}, 'library', 'search', 'a red square', '-k', '3', '--json', *clip]) == 0
print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'open_clip')))
"""
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LOADED []" in done.stdout
    assert "10 images embedded" in done.stdout
    hits = json.loads(done.stdout.split("SEARCH", 1)[1].split("LOADED", 1)[0])
    assert len(hits) == 3 and all(h["source_name"].endswith(".jpg") for h in hits)
    assert np.allclose(np.load(tmp_path / "images.npy"), expected_images, atol=1e-5)
    assert np.allclose(np.load(tmp_path / "text.npy"), expected_text, atol=1e-5)


def test_cli_model_says_which_backend_serves(tiny_clip, capsys):
    from vspectrum_app.cli import main

    clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
    assert main(["library", "model", *clip, "--backend", "onnx", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backend"].startswith("ONNX Runtime")
    assert main(["library", "model", *clip, "--backend", "torch", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "torch"


def test_text_tower_starts_from_a_saved_optimised_graph(tiny_clip, fresh, monkeypatch):
    import shutil

    from vspectrum_app.encoders import onnx_embedder
    from vspectrum_app.encoders.onnx_embedder import OPTIMISED_GRAPH, OPTIMISED_WEIGHTS, Tower

    fast = load_embedder(tiny_clip, backend="onnx")
    words = ["handshake", "a dog on a sofa", "prayer"]
    text_file = fast.folder / fast.meta["text_file"]
    folder = text_file.with_suffix(".opt")
    shutil.rmtree(folder, ignore_errors=True)  # as the export leaves it (measuring the backends may have run it)
    legacy = text_file.with_suffix(".opt.onnx")  # the one-file form an earlier version saved
    legacy.write_bytes(b"left by an earlier version")
    backends_module._cache.clear()
    fast = load_embedder(tiny_clip, backend="onnx")
    first = fast.encode_texts(words)
    assert (folder / OPTIMISED_GRAPH).is_file() and (folder / OPTIMISED_WEIGHTS).is_file()  # by the first query
    assert not legacy.exists()
    backends_module._cache.clear()
    again = load_embedder(tiny_clip, backend="onnx").encode_texts(words)  # starts from the saved graph
    plain = Tower(text_file, "tokens")(fast.tokenizer(words))
    plain /= np.linalg.norm(plain, axis=1, keepdims=True)
    assert np.allclose(first, again, atol=1e-6) and np.allclose(again, plain, atol=1e-5)
    shutil.rmtree(folder)

    def refuse(*args):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(onnx_embedder.os, "rename", refuse)  # a read-only cache folder: the slow way
    assert np.allclose(
        Tower(text_file, "tokens", quick_start=True)(fast.tokenizer(words)),
        Tower(text_file, "tokens")(fast.tokenizer(words)),
        atol=1e-5,
    )
    assert not folder.exists() and not list(text_file.parent.glob("*.tmp-*"))


def test_a_few_texts_start_a_session_without_pre_packing_and_more_replace_it(tiny_clip, fresh):
    """A cold search's one query skips the weights' pre-packing (most of the session's start);
    a call with more texts than FEW_TEXTS gets a pre-packed session; the vectors agree."""
    import os

    from vspectrum_app.encoders.onnx_embedder import FEW_TEXTS, MAX_ROW_THREADS

    fast = load_embedder(tiny_clip, backend="onnx")
    many = [f"{w} {i}" for i in range(FEW_TEXTS + 1) for w in WORDS][: FEW_TEXTS + 1]
    quick = fast.encode_texts(many[:2])
    assert fast._sessions["text"].prepacked is False
    assert fast._sessions["text"].intra_threads == min(os.cpu_count() or 1, MAX_ROW_THREADS)  # a row on the cores
    more = fast.encode_texts(many)
    assert fast._sessions["text"].prepacked is True
    assert np.allclose(quick, more[:2], atol=1e-5)
    fast.encode_texts(many[:1])  # a pre-packed session serves a few texts as well
    assert fast._sessions["text"].prepacked is True


def test_export_of_a_model_whose_attention_takes_the_fused_fast_path(tmp_path, fresh, monkeypatch):
    """With an even number of heads (ViT-B-32 has 12) and grad off, torch runs attention as
    one fused operator the exporter cannot translate; the export traces with grad on."""
    import torch

    from tests.plugins import clip as clip_plugin

    config = {
        **clip_plugin.TINY_CONFIG,
        "vision_cfg": {"image_size": 224, "layers": 1, "width": 128, "patch_size": 32, "head_width": 64},
    }
    monkeypatch.setattr(clip_plugin, "TINY_CONFIG", config)
    spec = make_tiny_clip(tmp_path, name="tiny-clip-even-heads", seed=2)
    reporter = RecordingReporter()
    with torch.no_grad():  # as a caller that already turned grad off
        got = load_embedder(spec, reporter, backend="onnx")
    assert got.backend == "onnx", _warnings(reporter)
    reference = load_embedder(spec, backend="torch")
    pictures = _pictures(3)
    assert (got.encode_images(pictures) * reference.encode_images(pictures)).sum(axis=1).min() >= 0.99
