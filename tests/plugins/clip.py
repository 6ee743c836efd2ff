"""A real open_clip model, tiny enough for tests: config JSON + a checkpoint made here."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.encoders import precision
from vspectrum_app.encoders.embedder import ClipSpec

# keyword-like queries, as a value's keyword set holds them: for comparing text towers
WORDS = [
    "family",
    "skydiving",
    "luxury car",
    "prayer",
    "police",
    "graduation",
    "concert",
    "food",
    "dog",
    "protest",
    "wedding",
    "sports",
]


TINY_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def make_tiny_clip(folder, name: str = "tiny-clip", seed: int = 0) -> ClipSpec:
    import torch

    from vspectrum_app.encoders.embedder import _prepare_torchvision

    _prepare_torchvision()
    import open_clip

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / f"{name}.json"
    config.write_text(json.dumps(TINY_CONFIG))
    open_clip.add_model_config(config)
    torch.manual_seed(seed)
    model = open_clip.create_model(name, pretrained=None)
    checkpoint = folder / f"{name}.pt"
    torch.save(model.state_dict(), checkpoint)
    return ClipSpec(model=name, pretrained=None, config=str(config), checkpoint=str(checkpoint))


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> ClipSpec:
    return make_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="session")
def tiny_clip_first_use(tiny_clip, tmp_path_factory) -> Path:
    """The models folder the tiny model's first use on this machine leaves (its ONNX export, the
    precisions and the backend ``auto`` measured), made once per session by the app's own code:
    that first use takes 15-20 s, and every test has a models folder of its own."""
    from vspectrum_app.core.jobs import NullReporter
    from vspectrum_app.core.paths import models_dir
    from vspectrum_app.encoders import backend_choice, backends, onnx_export

    root = tmp_path_factory.mktemp("clip-first-use")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VSPECTRUM_DATA_DIR", str(root))
        backends.load_fast(tiny_clip, NullReporter())  # export, measure, record (not in load_embedder's cache)
        folder = onnx_export.cache_folder(tiny_clip.model_key)
        meta = onnx_export.cached_meta(tiny_clip.model_key)
        assert meta is not None and backend_choice.recorded(folder, meta) is not None
        return models_dir()


@pytest.fixture
def clip_used_before(tiny_clip, tiny_clip_first_use) -> ClipSpec:
    """The tiny model as a user has it after its first use on this machine: a copy of
    ``tiny_clip_first_use`` in this test's models folder, so a child process (a CLI or a window
    job) loads the export and the recorded backend choice instead of making them again. For the
    tests whose subject is not the first use (tests/encoders/ and the newcomer's path keep it)."""
    from vspectrum_app.core.paths import models_dir

    shutil.copytree(tiny_clip_first_use, models_dir(), dirs_exist_ok=True)
    return tiny_clip


@pytest.fixture
def indexed_workspace(workspace, clip_used_before):
    """A workspace with 12 distinct images on three platforms, embedded and indexed (the model
    used before, as the index implies: a child process searching it finds the export in place)."""
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import build_index

    tiny_clip = clip_used_before
    for i in range(12):
        add_image(
            workspace,
            make_image_bytes(seed=100 + i, color=(20 * i, 255 - 20 * i, 90)),
            source_name=f"img{i}.jpg",
            meta={
                "platform": ("tiktok", "youtube", "instagram")[i % 3],
                "video_url": f"https://example.test/v/{i}",
                "post_date": f"2024-0{1 + i % 3}-15",
            },
        )
    build_index(workspace, tiny_clip)
    return workspace


_real_check_pixels = precision.check_pixels


@functools.lru_cache(maxsize=2)
def _check_pixels(size: int, mean: tuple, std: tuple, interpolation: str) -> np.ndarray:
    return _real_check_pixels({"size": size, "mean": list(mean), "std": list(std), "interpolation": interpolation})


@pytest.fixture(autouse=True)
def check_pixels_once(monkeypatch):
    """The precision check's 400 pictures, drawn and preprocessed once per session (seconds
    on a busy machine), not in every test whose backend is measured (each test has its own
    data folder, so its own export and measurement): the same pixels every time."""
    monkeypatch.setattr(
        precision,
        "check_pixels",
        lambda meta: _check_pixels(int(meta["size"]), tuple(meta["mean"]), tuple(meta["std"]), meta["interpolation"]),
    )
