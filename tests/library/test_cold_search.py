"""A cold search: a new process answers through the torch-free backend, loading neither torch
nor OpenVINO for the text tower, and the index it opens meanwhile is still checked and repaired."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.encoders.test_onnx_backend import BLOCK_TORCH
from vspectrum_app.encoders import backends as backends_module
from vspectrum_app.encoders.precision import installed
from vspectrum_app.library.indexer import build_index, index_path
from vspectrum_app.library.search import Searcher, SearchError

ROOT = Path(__file__).resolve().parents[2]


# What a search process must not import: Pillow (no image is decoded), regex, the image side's precision
# trials and backend measurement, and the other command groups (the CLI builds the one named).
UNNEEDED = (
    "PIL",
    "regex",  # an ASCII query is split by re
    "vspectrum_app.encoders.precision",
    "vspectrum_app.encoders.backend_choice",
    *(f"vspectrum_app.{group}." for group in ("bench", "crawl", "persona", "annotate", "sim", "providers")),
)


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(backends_module, "_cache", {})


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_a_new_search_process_answers_with_torch_blocked(indexed_workspace, tiny_clip, fresh, backend):
    if not installed(backend if backend == "openvino" else "onnxruntime"):
        pytest.skip(f"{backend} is not installed")
    expected = Searcher(indexed_workspace, tiny_clip, backend=backend).search("a red square", 3)
    indexed_workspace.close()
    clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint, "--backend", backend]
    script = (
        BLOCK_TORCH
        + f"""
from vspectrum_app.cli import main
argv = ['-w', {str(indexed_workspace.root)!r}, 'library', 'search', 'a red square', '-k', '3', '--json', *{clip!r}]
assert main(argv) == 0
print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'open_clip', 'openvino')))
"""
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    hits = json.loads(done.stdout.split("LOADED", 1)[0])
    assert "LOADED []" in done.stdout  # the text tower runs on ONNX Runtime for both backends
    assert [h["image_id"] for h in hits] == [h.image_id for h in expected]
    assert [h["similarity"] for h in hits] == pytest.approx([h.similarity for h in expected], abs=1e-4)


def test_a_search_loads_the_text_tower_alone_whatever_auto_chose_for_images(indexed_workspace, tiny_clip, fresh):
    """auto's recorded choice for images is torch, yet a new search process encodes its query on
    the export's ONNX text tower: torch and open_clip never imported (not blocked: importable),
    no image tower started, and the hits are the torch path's within tolerance."""
    if not installed("onnxruntime"):
        pytest.skip("onnxruntime is not installed")
    from vspectrum_app.encoders import backend_choice, onnx_export
    from vspectrum_app.encoders.backends import load_embedder

    expected = Searcher(indexed_workspace, tiny_clip, backend="torch").search("a red square", 3)
    with indexed_workspace.transaction() as conn:  # the query's vector must be encoded anew
        conn.execute("DELETE FROM text_embeddings")
    load_embedder(tiny_clip, backend="onnx")  # the export, as indexing leaves it
    folder, meta = onnx_export.cache_folder(tiny_clip.model_key), onnx_export.cached_meta(tiny_clip.model_key)
    record = {
        "machine": backend_choice.machine(),
        "export_created": meta["created"],
        "check": backend_choice.CHECK,
        "candidates": [],
    }
    (folder / backend_choice.CHOICE_FILE).write_text(json.dumps({**record, "backend": "torch", "precision": "fp32"}))
    assert backend_choice.recorded(folder, meta)["backend"] == "torch"
    indexed_workspace.close()
    clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint, "--backend", "auto"]
    script = f"""
import sys
from vspectrum_app.cli import main
from vspectrum_app.encoders import backends
argv = ['-w', {str(indexed_workspace.root)!r}, 'library', 'search', 'a red square', '-k', '3', '--json', *{clip!r}]
assert main(argv) == 0
print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'open_clip')))
print('TOWERS', sorted(t for e in backends._cache.values() for t in getattr(e, '_sessions', {{}})))
print('UNNEEDED', sorted(m for m in sys.modules if m.startswith({UNNEEDED!r})))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    hits = json.loads(done.stdout.split("LOADED", 1)[0])
    assert "LOADED []" in done.stdout and "TOWERS ['text']" in done.stdout and "UNNEEDED []" in done.stdout
    assert [h["image_id"] for h in hits] == [h.image_id for h in expected]
    assert [h["similarity"] for h in hits] == pytest.approx([h.similarity for h in expected], abs=1e-4)


def test_a_cold_search_repairs_a_lost_or_damaged_index_while_it_encodes(indexed_workspace, tiny_clip, fresh):
    expected = [h.image_id for h in Searcher(indexed_workspace, tiny_clip, backend="onnx").search("prayer", 5)]
    path = index_path(indexed_workspace, tiny_clip.model_key)
    path.unlink()
    assert [h.image_id for h in Searcher(indexed_workspace, tiny_clip, backend="onnx").search("prayer", 5)] == expected
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert [h.image_id for h in Searcher(indexed_workspace, tiny_clip, backend="onnx").search("prayer", 5)] == expected


def test_a_library_without_an_index_says_so_from_the_opening_thread(workspace, tiny_clip, fresh):
    with pytest.raises(SearchError, match="library index"):
        Searcher(workspace, tiny_clip, backend="onnx").search("prayer", 5)


def test_a_behind_index_gains_the_stored_vectors_on_a_cold_search(indexed_workspace, tiny_clip, fresh):
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import save_index

    searcher = Searcher(indexed_workspace, tiny_clip, backend="onnx")
    stale = searcher.index  # the index as saved now, before more images are stored
    new_id, _ = add_image(indexed_workspace, make_image_bytes(seed=999, color=(1, 2, 3)), source_name="new.jpg")
    build_index(indexed_workspace, tiny_clip, backend="onnx")
    save_index(indexed_workspace, tiny_clip.model_key, stale)  # as if the run stopped before saving the index
    cold = Searcher(indexed_workspace, tiny_clip, backend="onnx")
    cold.search("prayer", 3)
    assert new_id in cold.index.labels() and len(cold.index) == 13


def test_text_that_skips_ftfy_is_text_ftfy_leaves_unchanged():
    import ftfy

    from vspectrum_app.encoders.clip_tokenizer import _PLAIN

    plain = ["handshake", "a dog on a sofa", "Hello,   WORLD!!  ", "it's 3.14 <b>", "tab\tand\nnewline", "~`'\"@#"]
    other = ["&amp;lt;b&amp;gt;", "caf\u00e9", "\u201cquoted\u201d", "cr\r\nlf", "bell\x07", "esc\x1b[31m", "\ufb01x"]
    assert all(_PLAIN.fullmatch(t) and ftfy.fix_text(t) == t for t in plain)
    assert not any(_PLAIN.fullmatch(t) for t in other)


def test_the_index_opens_once_the_onnx_runtime_is_imported_and_before_a_torch_model_loads(
    indexed_workspace, tiny_clip, fresh, monkeypatch
):
    """hnswlib holds the GIL while it loads the index: it must not hold back the ONNX runtime's
    import (the text tower then starts beside it), while a torch model's load (seconds) is what
    the index opens beside."""
    from vspectrum_app.library import search as search_module

    order: list[str] = []
    load = search_module.load_text_encoder
    monkeypatch.setattr(search_module, "load_text_encoder", lambda *a, **k: order.append("encoder") or load(*a, **k))
    open_meanwhile = Searcher._open_index_meanwhile
    monkeypatch.setattr(Searcher, "_open_index_meanwhile", lambda self: order.append("index") or open_meanwhile(self))
    for backend, expected in (("onnx", ["encoder", "index"]), ("torch", ["index", "encoder"])):
        order.clear()
        with indexed_workspace.transaction() as conn:  # the query must be encoded
            conn.execute("DELETE FROM text_embeddings")
        assert Searcher(indexed_workspace, tiny_clip, backend=backend).search("a red square", 3)
        assert order == expected, backend
