"""CLIP embeddings with open_clip, loaded lazily (torch is imported only here, on first use).

The model is a setting: an open_clip model name with a pretrained tag (default ViT-B-32
with its LAION-2B weights, downloaded on first use into the user data folder), or any
open_clip model config JSON with a checkpoint file. Each distinct model has a ``model_key``;
embeddings and indexes are stored per key, so changing the model re-embeds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np

from vspectrum_app.core.jobs import Reporter
from vspectrum_app.core.paths import models_dir

if TYPE_CHECKING:
    from PIL import Image


class ClipModelUnavailable(Exception):
    """The model cannot be loaded; the message says why and what to do, in one sentence."""


@dataclass(frozen=True)
class ClipSpec:
    model: str = "ViT-B-32"
    pretrained: str | None = "laion2b_s34b_b79k"
    config: str | None = None  # open_clip model config JSON (the model name is its file stem)
    checkpoint: str | None = None  # a state_dict file; overrides ``pretrained``

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "ClipSpec":
        """The model ``settings`` (``Settings.as_dict()``, given by an entry point) name."""
        return cls(
            model=settings.get("clip_model") or "ViT-B-32",
            pretrained=settings.get("clip_pretrained"),
            config=settings.get("clip_config"),
            checkpoint=settings.get("clip_checkpoint"),
        )

    @property
    def model_name(self) -> str:
        return Path(self.config).stem if self.config else self.model

    @property
    def model_key(self) -> str:
        """Stable identity of the weights: name + tag, or the config's and checkpoint's content."""
        ident: dict[str, Any] = {"model": self.model_name}
        if self.config:
            ident["config"] = _file_digest(Path(self.config), whole=True)
        if self.checkpoint:
            ident["checkpoint"] = _file_digest(Path(self.checkpoint))
        else:
            ident["pretrained"] = self.pretrained
        blob = json.dumps(ident, sort_keys=True).encode()
        return f"{self.model_name}-{hashlib.sha256(blob).hexdigest()[:12]}"

    def describe(self) -> str:
        if self.checkpoint:
            return f"{self.model_name} from {self.checkpoint}"
        return f"{self.model_name} ({self.pretrained or 'random init'})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _file_digest(path: Path, whole: bool = False) -> str:
    """Content digest; for big checkpoints the size plus the first and last MiB (fast, and
    unlike mtime it survives copying the file)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            if whole or size <= 4 << 20:
                return hashlib.sha256(f.read()).hexdigest()
            h = hashlib.sha256(str(size).encode())
            h.update(f.read(1 << 20))
            f.seek(-(1 << 20), 2)
            h.update(f.read())
            return h.hexdigest()
    except OSError as exc:
        raise ClipModelUnavailable(f"Cannot read the CLIP file {path} ({exc.strerror or exc}).") from None


class ClipEncoder(Protocol):
    """What a loaded model offers whichever backend runs it (torch ``Embedder``, ``OnnxEmbedder``)."""

    @property
    def backend(self) -> str: ...
    @property
    def spec(self) -> ClipSpec: ...
    @property
    def dim(self) -> int: ...
    @property
    def input_size(self) -> tuple[int, int]: ...
    @property
    def preprocess(self) -> Callable[[Image.Image], Any]: ...
    @property
    def batch_size(self) -> int: ...
    def describe(self) -> str: ...
    def collate(self, pictures: list[Any]) -> Any: ...
    def preprocess_batch(self, images: Iterable[Image.Image]) -> Any: ...
    def encode_batch(self, pixels: Any) -> np.ndarray: ...
    def encode_images(self, images: Iterable[Image.Image]) -> np.ndarray: ...
    def encode_texts(self, texts: list[str]) -> np.ndarray: ...


class Embedder:
    """A loaded CLIP model. ``encode_*`` return float32 rows of unit length."""

    backend = "torch"

    # model, preprocess and tokenizer are open_clip's (a package without type information)
    def __init__(
        self,
        spec: ClipSpec,
        model: Any,
        preprocess: Callable[[Image.Image], Any],
        tokenizer: Any,
        dim: int,
        device: str = "cpu",
    ):
        from vspectrum_app.encoders.device import uses_fp16

        self.spec, self.model, self.preprocess, self.tokenizer, self.dim = spec, model, preprocess, tokenizer, dim
        self.device, self.fp16 = device, uses_fp16(device)
        self._lock = threading.Lock()  # one forward pass at a time; torch parallelises inside it
        size = getattr(getattr(model, "visual", None), "image_size", 224)
        self.input_size: tuple[int, int] = tuple(size) if isinstance(size, (tuple, list)) else (size, size)

    def describe(self) -> str:
        return "torch" if self.device == "cpu" else f"torch on {self.device}" + (" (fp16)" if self.fp16 else "")

    @property
    def batch_size(self) -> int:
        """Images per forward pass: on CUDA as many as half the free memory holds."""
        from vspectrum_app.encoders import device

        if self.device != "cuda":
            return device.CPU_BATCH
        params = sum(p.numel() for p in self.model.parameters())
        return device.batch_for_free_memory(device.cuda_free_bytes(), params, self.fp16)

    def collate(self, pictures: list[Any]) -> Any:
        import torch

        return torch.stack(pictures)

    def preprocess_batch(self, images: Iterable[Image.Image]) -> Any:
        return self.collate([self.preprocess(img) for img in images])

    def encode_batch(self, pixels: Any) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode():
            features = self.model.encode_image(pixels.to(self.device, torch.float16 if self.fp16 else torch.float32))
        return _normalise(features.float().cpu().numpy())

    def encode_images(self, images: Iterable[Image.Image]) -> np.ndarray:
        return self.encode_batch(self.preprocess_batch(images))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        tokens = self.tokenizer(texts)
        with self._lock, torch.inference_mode():
            features = self.model.encode_text(tokens.to(self.device))
        return _normalise(features.float().cpu().numpy())


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit: np.ndarray = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


_torch_cache: dict[tuple[str, str], Embedder] = {}


def torch_embedder(spec: ClipSpec, reporter: Reporter, device: str = "cpu") -> Embedder:
    """The open_clip model itself, loaded once per process and device whichever path asked."""
    from vspectrum_app.encoders.device import DeviceUnavailable, choose_device, torch_availability

    try:
        device = choose_device(device, *torch_availability())
    except DeviceUnavailable as exc:
        raise ClipModelUnavailable(str(exc)) from None
    if (spec.model_key, device) not in _torch_cache:
        _torch_cache[spec.model_key, device] = _load(spec, reporter, device)
    return _torch_cache[spec.model_key, device]


def _load(spec: ClipSpec, reporter: Reporter, device: str = "cpu") -> Embedder:
    _prepare_torchvision()
    import open_clip

    if spec.config:
        path = Path(spec.config)
        if not path.is_file():
            raise ClipModelUnavailable(f"CLIP model config {path} does not exist.")
        open_clip.add_model_config(path)
    if spec.model_name not in open_clip.list_models():
        raise ClipModelUnavailable(
            f"Unknown CLIP model {spec.model_name!r}: give an open_clip model name or a model config file."
        )
    pretrained = spec.checkpoint or spec.pretrained
    if spec.checkpoint and not Path(spec.checkpoint).is_file():
        raise ClipModelUnavailable(f"CLIP checkpoint {spec.checkpoint} does not exist.")
    from vspectrum_app.encoders import weights  # urllib and friends: a search never needs them

    local = None if spec.checkpoint else weights.installed_path(spec.model_name, spec.pretrained)
    if pretrained and not spec.checkpoint and local is None:
        _download(spec, reporter)
    reporter.log(f"loading CLIP {spec.describe()}")
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            spec.model_name,
            pretrained=str(local) if local else pretrained or None,
            cache_dir=str(models_dir()),
            **(weights.open_clip_args(spec.model_name, spec.pretrained) if local else {}),
        )
    except RuntimeError as exc:  # a checkpoint that does not fit the config
        raise ClipModelUnavailable(
            f"The checkpoint does not match CLIP model {spec.model_name} ({str(exc)[:200]})."
        ) from None
    model.eval()
    tokenizer = open_clip.get_tokenizer(spec.model_name)
    dim = (
        int(model.text_projection.shape[1])
        if getattr(model, "text_projection", None) is not None
        else int(model.encode_text(tokenizer(["x"])).shape[1])
    )
    if device != "cpu":
        model = model.to(device)
        if device == "cuda":
            model = model.half()
    return Embedder(spec, model, preprocess, tokenizer, dim, device)


def _download(spec: ClipSpec, reporter: Reporter) -> None:
    """Fetch pretrained weights into the models folder (progress goes to stderr), or explain."""
    import open_clip
    from open_clip import pretrained as op

    cfg = op.get_pretrained_cfg(spec.model_name, spec.pretrained)
    if not cfg:
        raise ClipModelUnavailable(f"open_clip has no weights {spec.pretrained!r} for {spec.model_name}.")
    reporter.log(f"downloading CLIP weights {spec.model_name}/{spec.pretrained} into {models_dir()} (first use only)")
    try:
        open_clip.download_pretrained(cfg, cache_dir=str(models_dir()))
    except Exception as exc:  # offline, hub refused, disk full: all end the same way for the user
        raise ClipModelUnavailable(
            f"Could not download the CLIP weights {spec.model_name}/{spec.pretrained} (model hub unreachable: "
            f"{type(exc).__name__}); "
            f"download an open_clip checkpoint elsewhere and select it with --clip-checkpoint FILE "
            f"(and --clip-config FILE for a custom model) or in Settings > CLIP model."
        ) from None


def _prepare_torchvision() -> None:
    """open_clip imports torchvision, whose compiled ops may not load beside the CPU torch
    build (environment.md). Its transforms are pure Python: declaring the two op schemas it
    registers at import is enough, and only done when its library really fails to load."""
    import importlib.util
    import sys

    if "torchvision" in sys.modules:
        return
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return
    libs = sorted(Path(spec.submodule_search_locations[0]).glob("_C*.so"))
    try:
        for lib in libs:
            torch.ops.load_library(str(lib))
    except OSError:
        declared = torch.library.Library("torchvision", "DEF")
        declared.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        declared.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
        _keep_alive.append(declared)


_keep_alive: list[Any] = []  # a torch.library.Library un-registers its ops when collected
