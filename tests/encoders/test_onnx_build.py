"""The torch-free build of the ONNX towers (``onnx_build``): checkpoints read without torch,
graphs equal to open_clip's model, the lean install's path from weights to a served model,
and unusable checkpoints refused in one sentence with nothing left behind."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.encoders.test_onnx_backend import BLOCK_TORCH, ROOT, _pictures, _top10_overlap

from tests.plugins.clip import TINY_CONFIG, WORDS, make_tiny_clip
from tests.plugins.weights_server import FileServer
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.encoders import embedder as embedder_module
from vspectrum_app.encoders import onnx_build, onnx_export, precision, weights
from vspectrum_app.encoders.checkpoint import read_weights
from vspectrum_app.encoders.embedder import ClipModelUnavailable, ClipSpec, torch_embedder
from vspectrum_app.encoders.backends import load_embedder
from vspectrum_app.library.images import decode_rgb
from vspectrum_app.encoders.onnx_embedder import Tower
from vspectrum_app.encoders.weights import WeightsError

# what the lean bundle leaves out (packaging/vspectrum.spec) cannot be imported either
BLOCK_LEAN = BLOCK_TORCH.replace(
    "('torch', 'torchvision', 'open_clip')",
    "('torch', 'torchvision', 'open_clip', 'timm', 'sympy', 'networkx', 'safetensors', 'openvino')",
)


def _torch():
    embedder_module._prepare_torchvision()
    import torch

    return torch


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    """The tiny model's state dict as open_clip's ``.bin`` (torch.save) and as ``.safetensors``."""
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("tiny-build")
    spec = make_tiny_clip(folder, seed=0)  # the model the export path is checked with too
    torch = _torch()
    state = torch.load(spec.checkpoint)
    bin_file, st_file = folder / "tiny.bin", folder / "tiny.safetensors"
    torch.save(state, bin_file)
    save_file({k: v.contiguous() for k, v in state.items()}, str(st_file))
    return spec, bin_file, st_file


def _spec(base: ClipSpec, checkpoint: Path) -> ClipSpec:
    return ClipSpec(model=base.model, pretrained=None, config=base.config, checkpoint=str(checkpoint))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    return (a * (b / np.linalg.norm(b, axis=1, keepdims=True))).sum(axis=1)


def _leftovers() -> list[str]:
    root = onnx_export.cache_folder("x").parent
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


# -- reading checkpoints -----------------------------------------------------------------------


def test_both_checkpoint_formats_read_exactly_what_torch_saved(tiny_files, tmp_path):
    torch = _torch()
    spec, bin_file, st_file = tiny_files
    state = torch.load(bin_file)
    for path in (bin_file, st_file):
        arrays = read_weights(path)
        assert set(arrays) == set(state)
        for key, tensor in state.items():
            assert arrays[key].dtype == np.float32 and np.array_equal(arrays[key], tensor.numpy()), (path, key)
    # views of one storage (a transpose, an offset slice), half precision, a training checkpoint's wrapping
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    odd = {"t": base.t(), "row": base[2], "half": base.half(), "bf": base.bfloat16()[1:3]}
    torch.save({"state_dict": {f"module.{k}": v for k, v in odd.items()}}, tmp_path / "odd.pt")
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in odd.items()}, str(tmp_path / "odd.safetensors"))
    for path in (tmp_path / "odd.pt", tmp_path / "odd.safetensors"):
        arrays = read_weights(path)
        for key, tensor in odd.items():
            assert np.array_equal(arrays[key].astype(np.float32), tensor.float().numpy()), (path.name, key)


def _rebuilt(path: Path, mutate) -> Path:
    """A copy of a torch checkpoint with its data.pkl replaced by ``mutate(data.pkl)``."""
    out = path.with_name(f"mutated-{path.name}")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, mutate(data) if info.filename.endswith("data.pkl") else data)
    return out


@pytest.mark.parametrize(
    "damage", ["truncated bin", "truncated safetensors", "not weights", "code in pickle", "foreign tensor shapes"]
)
def test_an_unusable_checkpoint_is_one_sentence_and_leaves_nothing(tiny_files, tmp_path, damage):
    spec, bin_file, st_file = tiny_files
    if damage == "truncated bin":
        bad = tmp_path / "cut.bin"
        bad.write_bytes(bin_file.read_bytes()[: bin_file.stat().st_size // 2])
    elif damage == "truncated safetensors":
        bad = tmp_path / "cut.safetensors"
        bad.write_bytes(st_file.read_bytes()[: st_file.stat().st_size - 1000])
    elif damage == "not weights":
        bad = tmp_path / "notes.bin"
        bad.write_text("these are my notes, not a model")
    elif damage == "code in pickle":
        bad = _rebuilt(bin_file, lambda _: b"cos\nsystem\n(S'echo pwned > /dev/null'\ntR.")
    else:  # a real checkpoint of another model: the config's shapes do not fit
        other = dict(TINY_CONFIG, vision_cfg={**TINY_CONFIG["vision_cfg"], "width": 128})
        (tmp_path / "tiny-clip.json").write_text(json.dumps(other))
        spec = ClipSpec(model="tiny-clip", pretrained=None, config=str(tmp_path / "tiny-clip.json"))
        bad = bin_file
    with pytest.raises(WeightsError) as err:
        onnx_build.build(_spec(spec, bad))
    message = str(err.value)
    assert "\n" not in message and message.endswith(".") and "Traceback" not in message, message
    assert (
        ("damaged or incomplete" in message or "holds no weights" in message)
        if damage != "foreign tensor shapes"
        else "does not belong to this model config" in message
    )
    assert _leftovers() == []


def test_a_config_beyond_these_graphs_is_refused_not_built_wrongly(tiny_files, tmp_path):
    spec, bin_file, _ = tiny_files
    for change in (
        {"vision_cfg": {**TINY_CONFIG["vision_cfg"], "attentional_pool": True}},
        {"text_cfg": {**TINY_CONFIG["text_cfg"], "hf_model_name": "bert-base"}},
        {"custom_text": True},
        {"vision_cfg": "a string"},
    ):
        (tmp_path / "tiny-clip.json").write_text(json.dumps({**TINY_CONFIG, **change}))
        odd = ClipSpec(
            model="tiny-clip", pretrained=None, config=str(tmp_path / "tiny-clip.json"), checkpoint=str(bin_file)
        )
        with pytest.raises(
            onnx_export.ExportError, match="not supported|not open_clip's|not an open_clip model config"
        ):
            onnx_build.build(odd)
    assert _leftovers() == []


# -- the graphs equal open_clip's model --------------------------------------------------------


def _reference_and_built(spec: ClipSpec, folder: Path, pictures, texts):
    """open_clip's fp32 embeddings and the fp32 built towers' on the same inputs."""
    torch = _torch()
    model = torch_embedder(spec, RecordingReporter())
    pixels = model.preprocess_batch(pictures)
    tokens = model.tokenizer(texts)
    with torch.inference_mode():
        ref_img = model.model.encode_image(pixels).numpy()
        ref_txt = model.model.encode_text(tokens).numpy()
    config = json.loads(Path(spec.config).read_text())
    state = read_weights(Path(spec.checkpoint))
    onnx_build._image_tower(state, config, folder / "image.onnx")
    onnx_build._text_tower(state, config, folder / "text.onnx")
    return (
        ref_img,
        Tower(folder / "image.onnx", "pixels")(pixels.numpy()),
        ref_txt,
        Tower(folder / "text.onnx", "tokens")(tokens.numpy()),
    )


@pytest.mark.parametrize("variant", ["gelu", "quick_gelu", "layer_scale"])
def test_built_fp32_towers_equal_open_clip(tmp_path, variant):
    """Activation per config (GELU, QuickGELU), layer scale: cosine >= 0.999 on every row."""
    config = dict(TINY_CONFIG, quick_gelu=variant == "quick_gelu")
    if variant == "layer_scale":
        config = dict(
            config,
            vision_cfg={**config["vision_cfg"], "ls_init_value": 0.5},
            text_cfg={**config["text_cfg"], "ls_init_value": 0.5},
        )
    name = f"tiny-{variant.replace('_', '')}"
    (tmp_path / "src").mkdir()
    spec = make_tiny_clip(tmp_path / "src", name=name, seed=3)
    Path(spec.config).write_text(json.dumps(config))
    torch = _torch()
    import open_clip

    open_clip.add_model_config(spec.config)
    torch.manual_seed(3)
    model = open_clip.create_model(name, pretrained=None)
    if variant == "layer_scale":  # not the initial 0.5 everywhere: per-channel values must be honoured
        with torch.no_grad():
            for key, p in model.named_parameters():
                if key.endswith("gamma"):
                    p.uniform_(0.2, 1.5)
    torch.save(model.state_dict(), spec.checkpoint)
    ref_img, img, ref_txt, txt = _reference_and_built(spec, tmp_path, _pictures(6), WORDS)
    assert _cosines(ref_img, img).min() >= 0.999 and _cosines(ref_txt, txt).min() >= 0.999
    assert np.abs(ref_img - img).max() < 1e-3 and np.abs(ref_txt - txt).max() < 1e-3


def test_lean_process_builds_and_serves_the_model_with_torch_blocked(tiny_files, fresh, tmp_path, pilot_dir_or_none):
    """The lean install: a process where torch, open_clip and all else the lean bundle leaves
    out cannot be imported builds the towers from the .bin and from the .safetensors, and its
    embeddings match open_clip's:
    cosine >= 0.99 served (int8 where it passed), >= 0.999 for the fp32 graphs, top-10
    search overlap >= 0.95 on generated screenshots and, where present, the pilot's."""
    spec, bin_file, st_file = tiny_files
    pictures = _pictures(24, start=40)
    shots = sorted(pilot_dir_or_none.rglob("*.jpeg"))[:40] if pilot_dir_or_none else []
    pictures += [decode_rgb(p.read_bytes(), min_size=(224, 224)) for p in shots]
    for i, picture in enumerate(pictures):
        picture.save(tmp_path / f"p{i}.png")
    assert BLOCK_LEAN != BLOCK_TORCH
    script = (
        BLOCK_LEAN
        + f"""
import numpy as np
from PIL import Image
from vspectrum_app.encoders.embedder import ClipSpec
from vspectrum_app.encoders.backends import load_embedder
images = [Image.open({str(tmp_path)!r} + f'/p{{i}}.png').convert('RGB') for i in range({len(pictures)})]
for tag, checkpoint in (('bin', {str(bin_file)!r}), ('st', {str(st_file)!r})):
    spec = ClipSpec(model={spec.model!r}, pretrained=None, config={spec.config!r}, checkpoint=checkpoint)
    e = load_embedder(spec, backend='auto')
    assert e.backend == 'onnx', e
    np.save({str(tmp_path)!r} + f'/{{tag}}-images.npy', e.encode_images(images))
    np.save({str(tmp_path)!r} + f'/{{tag}}-texts.npy', e.encode_texts({WORDS!r}))
print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'open_clip', 'sympy', 'safetensors')))
"""
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "LOADED []" in done.stdout
    reference = torch_embedder(_spec(spec, bin_file), RecordingReporter())
    lib_ref = np.concatenate([reference.encode_images(pictures[i : i + 16]) for i in range(0, len(pictures), 16)])
    text_ref = reference.encode_texts(WORDS)
    for tag in ("bin", "st"):
        lib, text = np.load(tmp_path / f"{tag}-images.npy"), np.load(tmp_path / f"{tag}-texts.npy")
        assert _cosines(lib_ref, lib).min() >= 0.99 and _cosines(text_ref, text).min() >= 0.99
        assert _top10_overlap(lib_ref, lib, text_ref, text) >= 0.95  # keyword search
        assert _top10_overlap(lib_ref, lib, lib_ref[:12], lib[:12]) >= 0.95  # similar images
        meta = onnx_export.cached_meta(_spec(spec, bin_file if tag == "bin" else st_file).model_key)
        assert meta and meta["built_by"].startswith("onnx_build") and min(meta["cosine_min"].values()) >= 0.99
    ref_img, img, ref_txt, txt = _reference_and_built(_spec(spec, st_file), tmp_path, pictures, WORDS)
    assert _cosines(ref_img, img).min() >= 0.999 and _cosines(ref_txt, txt).min() >= 0.999


@pytest.fixture
def pilot_dir_or_none():
    from tests.conftest import PILOT_DIR

    return PILOT_DIR if PILOT_DIR.is_dir() else None


# -- the lean install's path from the weights download ----------------------------------------------


def test_lean_default_model_downloads_its_weights_then_builds(tiny_files, fresh, monkeypatch, tmp_path):
    """Without torch, the default model's weights are downloaded (checksum verified) and the
    towers built from them; the served embedder then needs neither again."""
    import hashlib

    spec, bin_file, _ = tiny_files
    payload = bin_file.read_bytes()
    server = FileServer(payload)
    try:
        source = weights.WeightsSource(
            model="tiny-clip",
            pretrained="test",
            url=server.url,
            sha256=hashlib.sha256(payload).hexdigest(),
            size=len(payload),
        )
        monkeypatch.setitem(weights.SOURCES, ("tiny-clip", "test"), source)
        monkeypatch.setattr(precision, "installed", lambda module: module not in ("torch", "openvino"))
        default_like = ClipSpec(model="tiny-clip", pretrained="test", config=spec.config)
        reporter = RecordingReporter()
        fast = load_embedder(default_like, reporter, backend="auto")
    finally:
        server.stop()
    assert fast.backend == "onnx" and weights.state(source) == "ready"
    logs = [e["message"] for e in reporter.of_type("log")]
    assert any("downloading the CLIP weights" in m for m in logs) and any("ONNX encoder ready" in m for m in logs)
    expected = torch_embedder(_spec(spec, bin_file), RecordingReporter()).encode_texts(WORDS)
    assert _cosines(expected, fast.encode_texts(WORDS)).min() >= 0.99


def test_lean_install_with_a_damaged_download_says_so_in_one_sentence(tiny_files, fresh, monkeypatch):
    spec, bin_file, _ = tiny_files
    source = weights.WeightsSource(model="tiny-clip", pretrained="test", url="http://127.0.0.1:9/x.bin", sha256=None)
    monkeypatch.setitem(weights.SOURCES, ("tiny-clip", "test"), source)
    target = weights.target_path(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bin_file.read_bytes()[:5000])
    monkeypatch.setattr(precision, "installed", lambda module: module not in ("torch", "openvino"))
    with pytest.raises(ClipModelUnavailable) as err:
        load_embedder(ClipSpec(model="tiny-clip", pretrained="test", config=spec.config), backend="onnx")
    assert "damaged or incomplete" in str(err.value) and "\n" not in str(err.value)
    assert _leftovers() == []


def test_the_shipped_default_config_and_vocabulary_are_open_clips():
    """What the lean bundle builds ViT-B-32 from is open_clip's own config and BPE file."""
    import importlib.util

    from vspectrum_app.core.paths import resources_dir

    theirs = Path(importlib.util.find_spec("open_clip").submodule_search_locations[0])
    ours = resources_dir() / "clip"
    assert json.loads((ours / "ViT-B-32.json").read_text()) == json.loads(
        (theirs / "model_configs" / "ViT-B-32.json").read_text()
    )
    assert (ours / onnx_build.VOCAB).read_bytes() == (theirs / onnx_build.VOCAB).read_bytes()
    pre = onnx_build.preprocess_settings(json.loads((ours / "ViT-B-32.json").read_text()))
    from open_clip import pretrained as op

    cfg = op.get_pretrained_cfg("ViT-B-32", "laion2b_s34b_b79k")
    assert pre == {
        "size": 224,
        "mean": list(cfg["mean"]),
        "std": list(cfg["std"]),
        "interpolation": cfg["interpolation"],
    }
    assert weights.DEFAULT.sha256 and len(weights.DEFAULT.sha256) == 64 and weights.DEFAULT.size == 605_219_813


def test_non_string_keys_in_a_pickled_checkpoint_are_not_weights(tmp_path):
    torch = _torch()
    torch.save({0: torch.zeros(2), "visual.proj": torch.ones(2, 2)}, tmp_path / "odd-keys.pt")
    assert list(read_weights(tmp_path / "odd-keys.pt")) == ["visual.proj"]
    torch.save({0: torch.zeros(2)}, tmp_path / "no-names.pt")
    with pytest.raises(WeightsError, match="holds no weights"):
        read_weights(tmp_path / "no-names.pt")
