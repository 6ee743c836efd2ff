"""Build an open_clip ViT's two ONNX towers straight from its checkpoint, without torch.

The lean install has no torch to trace the model with (``onnx_export``), so this module
writes the same graphs by hand with the ``onnx`` package, from the checkpoint's arrays
(read with numpy, ``checkpoint.py``) and the architecture in open_clip's model config JSON
(the default model's ships in ``resources/clip``). Image tower: patch convolution, class token,
positional embedding, ln_pre, the residual attention blocks, ln_post, the class token's
(or the patches' mean) projection. Text tower: token and positional embeddings, the same
blocks under a causal mask, ln_final, the end-of-text token's (the highest id's) row, the
projection. Each block is open_clip's: x + attn(ln_1(x)), then x + mlp(ln_2(x)), the MLP's
activation GELU (erf form) or QuickGELU as the config says, optional layer scale.

Whatever the config asks that these graphs do not implement (timm or Hugging Face towers,
attentional pooling, custom blocks) is refused with ``ExportError`` instead of built
wrongly; a checkpoint that cannot be read is a ``WeightsError``. The result goes into the
cache ``onnx_export`` uses, with the same files and ``meta.json``, written under a
temporary name and renamed, so ``onnx_embedder`` serves it and a failure leaves nothing.
Tests compare the towers with open_clip's torch model (cosine >= 0.999).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.core.paths import resources_dir
from vspectrum_app.encoders import onnx_export, weights
from vspectrum_app.encoders.checkpoint import read_weights
from vspectrum_app.encoders.onnx_export import ExportError
from vspectrum_app.encoders.runtimes import installed
from vspectrum_app.encoders.weights import WeightsError

if TYPE_CHECKING:
    from vspectrum_app.encoders.embedder import ClipSpec

OPSET = 17
LN_EPS = 1e-5
VOCAB = "bpe_simple_vocab_16e6.txt.gz"
# open_clip's defaults for a tag that states no preprocessing (OpenAI's dataset mean/std)
DEFAULT_PREPROCESS = {
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
    "interpolation": "bicubic",
    "resize_mode": "shortest",
}
# vision/text config keys whose non-default values these graphs do not implement
_UNSUPPORTED = {
    "timm_model_name": None,
    "hf_model_name": None,
    "attentional_pool": False,
    "block_type": None,
    "qk_norm": False,
    "scaled_cosine_attn": False,
    "scale_heads": False,
    "scale_attn_inner": False,
    "scale_attn": False,
    "scale_fc": False,
    "embed_cls": False,
    "no_causal_mask": False,
    "proj_bias": False,
    "pos_embed_type": "learnable",
    "act_kwargs": None,
    "norm_kwargs": None,
}


# -- the model's configuration ----------------------------------------------------------------


def model_config(spec: ClipSpec) -> dict[str, Any]:
    """open_clip's model config: the spec's JSON file, open_clip's own (read from its package
    folder without importing it: that would import torch), or the one shipped in resources."""
    if spec.config:
        path = Path(spec.config)
    else:
        path = resources_dir() / "clip" / f"{spec.model_name}.json"
        theirs = _open_clip_file(f"model_configs/{spec.model_name}.json")
        path = theirs or path
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise ExportError(
            f"no model config for {spec.model_name} (open_clip is not installed and the app "
            f"ships only the default model's)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"the model config {path.name} cannot be read ({exc})") from None
    if (
        not isinstance(config, dict)
        or not all(isinstance(config.get(k), dict) for k in ("vision_cfg", "text_cfg"))
        or not isinstance(config.get("embed_dim"), int)
    ):
        raise ExportError(f"{path.name} is not an open_clip model config (embed_dim, vision_cfg, text_cfg)")
    return config


def preprocess_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Image size, mean, std, interpolation: open_clip's defaults, which the default model's
    tag keeps (the only tag built without a checkpoint file), then the config's ``preprocess_cfg``."""
    settings = {**DEFAULT_PREPROCESS, **config.get("preprocess_cfg", {})}
    size = settings.get("size", config["vision_cfg"].get("image_size", 224))
    size = size if isinstance(size, (list, tuple)) else (size, size)
    if (
        settings["resize_mode"] != "shortest"
        or size[0] != size[1]
        or settings["interpolation"] not in ("bicubic", "bilinear")
    ):
        raise ExportError(f"preprocessing {settings} is not supported without torch (square 'shortest' resize only)")
    return {
        "size": int(size[0]),
        "mean": [float(v) for v in settings["mean"]],
        "std": [float(v) for v in settings["std"]],
        "interpolation": settings["interpolation"],
    }


def _check_supported(config: dict[str, Any]) -> None:
    if config.get("custom_text") or config.get("multimodal_cfg"):
        raise ExportError("this model's text tower is not open_clip's plain CLIP text transformer")
    for tower in ("vision_cfg", "text_cfg"):
        for key, default in _UNSUPPORTED.items():
            if config.get(tower, {}).get(key, default) not in (default, None, False):
                raise ExportError(f"{tower}.{key} = {config[tower][key]!r} is not supported without torch")
    if config["vision_cfg"].get("pool_type", "tok") not in ("tok", "avg"):
        raise ExportError(f"image pooling {config['vision_cfg']['pool_type']!r} is not supported without torch")
    if config["text_cfg"].get("pool_type", "argmax") not in ("argmax", "first", "last"):
        raise ExportError(f"text pooling {config['text_cfg']['pool_type']!r} is not supported without torch")
    if config["text_cfg"].get("proj_type", "linear") != "linear":
        raise ExportError(f"text projection {config['text_cfg']['proj_type']!r} is not supported without torch")


# -- graph construction ---------------------------------------------------------------------------


class _Graph:
    """Nodes and initialisers of one tower; ``op`` returns its output's name."""

    def __init__(self, state: dict[str, np.ndarray], file_name: str):
        self.state, self.file_name = state, file_name
        self.nodes: list[Any] = []  # onnx NodeProto and TensorProto (onnx ships no type information)
        self.inits: list[Any] = []
        self._n = 0

    def weight(
        self,
        key: str,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        shape: Sequence[int] | None = None,
        name: str | None = None,
    ) -> str:
        """A checkpoint array (checked against the shape the config implies) as a float32
        initialiser, optionally transformed first (transposed, sliced, scaled)."""
        if key not in self.state:
            raise WeightsError(f"The checkpoint has no {key}: it does not belong to this model config.")
        array = np.asarray(self.state[key], dtype=np.float32)
        if shape is not None and array.shape != tuple(shape):
            raise WeightsError(
                f"The checkpoint's {key} has shape {array.shape}, the model config needs "
                f"{tuple(shape)}: it does not belong to this model config."
            )
        return self.const(name or key, array if transform is None else transform(array))

    def has(self, key: str) -> bool:
        return key in self.state

    def const(self, name: str, value: Any) -> str:
        from onnx import numpy_helper

        value = np.asarray(value)  # (not ascontiguousarray: it turns a scalar into shape (1,))
        self.inits.append(numpy_helper.from_array(value if value.flags.c_contiguous else value.copy(), name))
        return name

    def scalar(self, value: float) -> str:
        self._n += 1
        return self.const(f"c{self._n}", np.array(value, dtype=np.float32))

    def ints(self, *values: int) -> str:
        self._n += 1
        return self.const(f"i{self._n}", np.array(values, dtype=np.int64))

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        from onnx import helper

        self._n += 1
        out = f"{op_type.lower()}{self._n}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def save(
        self, input_name: str, input_type: int, input_shape: list[int | str], output: str, dim: int, path: Path
    ) -> None:
        import onnx
        from onnx import helper

        self.nodes.append(helper.make_node("Identity", [output], ["embedding"]))
        graph = helper.make_graph(
            self.nodes,
            self.file_name,
            [helper.make_tensor_value_info(input_name, input_type, input_shape)],
            [helper.make_tensor_value_info("embedding", onnx.TensorProto.FLOAT, ["batch", dim])],
            self.inits,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vspectrum onnx_build"
        )
        model.ir_version = 8  # what opset 17 needs; keeps older runtimes able to load it
        onnx.checker.check_model(model)
        onnx.save(model, str(path))


def _layer_norm(g: _Graph, x: str, prefix: str, width: int) -> str:
    return g.op(
        "LayerNormalization",
        x,
        g.weight(f"{prefix}.weight", shape=[width]),
        g.weight(f"{prefix}.bias", shape=[width]),
        axis=-1,
        epsilon=LN_EPS,
    )


def _linear(
    g: _Graph, x: str, key: str, shape: list[int], rows: slice | None = None, scale: float = 1.0, part: str = ""
) -> str:
    """x @ W.T * scale + b * scale, W stored as torch's Linear does (out x in); ``rows``
    takes a slice of the outputs (q, k or v of the packed attention projection)."""

    def pick(a: np.ndarray) -> np.ndarray:
        return (a if rows is None else a[rows]) * np.float32(scale)

    weight = g.weight(f"{key}weight", lambda w: pick(w).T, shape=shape, name=f"{key}weight{part}.t")
    bias = g.weight(f"{key}bias", pick, shape=shape[:1], name=f"{key}bias{part}")
    return g.op("Add", g.op("MatMul", x, weight), bias)


def _activation(g: _Graph, x: str, quick_gelu: bool) -> str:
    if quick_gelu:  # x * sigmoid(1.702 x), as OpenAI's CLIP trained
        return g.op("Mul", x, g.op("Sigmoid", g.op("Mul", x, g.scalar(1.702))))
    # exact GELU in the pattern ONNX Runtime fuses into one kernel: x * (1 + erf(x / sqrt 2)) / 2
    erf = g.op("Erf", g.op("Div", x, g.scalar(float(np.sqrt(2.0)))))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, g.scalar(1.0))), g.scalar(0.5))


def _block(g: _Graph, x: str, p: str, width: int, heads: int, mlp: int, quick_gelu: bool, mask: str | None) -> str:
    head = width // heads
    h = _layer_norm(g, x, f"{p}.ln_1", width)
    packed = f"{p}.attn.in_proj_"  # q, k, v stacked; the 1/sqrt(head) scaling of q folded into its weights
    q = _linear(g, h, packed, [3 * width, width], slice(0, width), head**-0.5, ".q")
    k = _linear(g, h, packed, [3 * width, width], slice(width, 2 * width), part=".k")
    v = _linear(g, h, packed, [3 * width, width], slice(2 * width, 3 * width), part=".v")
    split = g.ints(0, 0, heads, head)
    q = g.op("Transpose", g.op("Reshape", q, split), perm=[0, 2, 1, 3])  # B H T D
    k = g.op("Transpose", g.op("Reshape", k, split), perm=[0, 2, 3, 1])  # B H D T
    v = g.op("Transpose", g.op("Reshape", v, split), perm=[0, 2, 1, 3])  # B H T D
    scores = g.op("MatMul", q, k)
    if mask is not None:
        scores = g.op("Add", scores, mask)
    attn = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
    attn = g.op("Reshape", g.op("Transpose", attn, perm=[0, 2, 1, 3]), g.ints(0, 0, width))
    attn = _linear(g, attn, f"{p}.attn.out_proj.", [width, width])
    if g.has(f"{p}.ls_1.gamma"):
        attn = g.op("Mul", attn, g.weight(f"{p}.ls_1.gamma", shape=[width]))
    x = g.op("Add", x, attn)
    h = _layer_norm(g, x, f"{p}.ln_2", width)
    h = _activation(g, _linear(g, h, f"{p}.mlp.c_fc.", [mlp, width]), quick_gelu)
    h = _linear(g, h, f"{p}.mlp.c_proj.", [width, mlp])
    if g.has(f"{p}.ls_2.gamma"):
        h = g.op("Mul", h, g.weight(f"{p}.ls_2.gamma", shape=[width]))
    return g.op("Add", x, h)


def _image_tower(state: dict[str, np.ndarray], config: dict[str, Any], path: Path) -> None:
    import onnx

    cfg, dim, quick = config["vision_cfg"], int(config["embed_dim"]), bool(config.get("quick_gelu"))
    width, layers, patch, size = int(cfg["width"]), int(cfg["layers"]), int(cfg["patch_size"]), int(cfg["image_size"])
    heads = width // int(cfg.get("head_width", 64))
    mlp = int(width * float(cfg.get("mlp_ratio", 4.0)))
    tokens = (size // patch) ** 2 + 1
    g = _Graph(state, "image")
    x = g.op(
        "Conv",
        "pixels",
        g.weight("visual.conv1.weight", shape=[width, 3, patch, patch]),
        kernel_shape=[patch, patch],
        strides=[patch, patch],
    )
    x = g.op("Transpose", g.op("Reshape", x, g.ints(0, width, -1)), perm=[0, 2, 1])  # B, patches, width
    batch = g.op("Shape", "pixels", start=0, end=1)
    cls = g.op(
        "Expand",
        g.weight("visual.class_embedding", lambda a: a.reshape(1, 1, width), shape=[width]),
        g.op("Concat", batch, g.ints(1, width), axis=0),
    )
    x = g.op("Concat", cls, x, axis=1)
    x = g.op("Add", x, g.weight("visual.positional_embedding", shape=[tokens, width]))
    if not cfg.get("no_ln_pre"):
        x = _layer_norm(g, x, "visual.ln_pre", width)
    for i in range(layers):
        x = _block(g, x, f"visual.transformer.resblocks.{i}", width, heads, mlp, quick, None)
    avg = cfg.get("pool_type", "tok") == "avg"
    if avg and cfg.get("final_ln_after_pool"):
        pooled = _layer_norm(
            g,
            g.op("ReduceMean", g.op("Slice", x, g.ints(1), g.ints(tokens), g.ints(1)), g.ints(1), keepdims=0),
            "visual.ln_post",
            width,
        )
    elif avg:
        x = _layer_norm(g, x, "visual.ln_post", width)
        pooled = g.op("ReduceMean", g.op("Slice", x, g.ints(1), g.ints(tokens), g.ints(1)), g.ints(1), keepdims=0)
    else:  # the class token; LayerNorm is per token, so before or after pooling is the same
        pooled = _layer_norm(
            g, g.op("Gather", x, g.const("cls_index", np.array(0, dtype=np.int64)), axis=1), "visual.ln_post", width
        )
    out = g.op("MatMul", pooled, g.weight("visual.proj", shape=[width, dim]))
    g.save("pixels", onnx.TensorProto.FLOAT, ["batch", 3, size, size], out, dim, path)


def _text_tower(state: dict[str, np.ndarray], config: dict[str, Any], path: Path) -> None:
    import onnx

    cfg, dim, quick = config["text_cfg"], int(config["embed_dim"]), bool(config.get("quick_gelu"))
    width, layers, heads = int(cfg.get("width", 512)), int(cfg.get("layers", 12)), int(cfg.get("heads", 8))
    context, vocab = int(cfg.get("context_length", 77)), int(cfg.get("vocab_size", 49408))
    mlp = int(width * float(cfg.get("mlp_ratio", 4.0)))
    g = _Graph(state, "text")
    x = g.op("Gather", g.weight("token_embedding.weight", shape=[vocab, width]), "tokens", axis=0)
    x = g.op("Add", x, g.weight("positional_embedding", shape=[context, width]))
    mask = g.const("causal_mask", np.triu(np.full((context, context), -np.inf, dtype=np.float32), 1))
    for i in range(layers):
        x = _block(g, x, f"transformer.resblocks.{i}", width, heads, mlp, quick, mask)
    x = _layer_norm(g, x, "ln_final", width)
    pool = cfg.get("pool_type", "argmax")
    if pool == "argmax":  # the end-of-text token has the highest id; first maximum, as torch's argmax
        pooled = g.op("GatherND", x, g.op("ArgMax", "tokens", axis=-1, keepdims=1), batch_dims=1)
    else:
        index = g.const("pool_index", np.array(0 if pool == "first" else -1, dtype=np.int64))
        pooled = g.op("Gather", x, index, axis=1)
    out = g.op("MatMul", pooled, g.weight("text_projection", shape=[width, dim]))
    g.save("tokens", onnx.TensorProto.INT64, ["batch", context], out, dim, path)


# -- the build -----------------------------------------------------------------------------------


def checkpoint_for(spec: ClipSpec, reporter: Reporter) -> Path:
    """The spec's checkpoint file; the default model's weights are downloaded if missing."""
    if spec.checkpoint:
        return Path(spec.checkpoint)
    path = weights.installed_path(spec.model_name, spec.pretrained)
    if path is not None:
        return path
    source = weights.source_for(spec.model_name, spec.pretrained)
    if source is None:
        raise ExportError(
            f"there is no download of {spec.describe()} without open_clip; choose its checkpoint "
            f"file (--clip-checkpoint or Settings > CLIP model)"
        )
    reporter.log(f"downloading the CLIP weights {source.label} into {weights.target_path(source).parent}")
    step = [0]

    def progress(p: weights.Progress) -> None:
        if p.total and p.done * 10 // p.total > step[0]:
            step[0] = p.done * 10 // p.total
            reporter.log(f"CLIP weights: {'checking' if p.phase == 'verify' else 'downloading'} {step[0] * 10} %")

    return weights.download(source, progress=progress)


def build(spec: ClipSpec, reporter: Reporter | None = None) -> dict[str, Any]:
    """Build, check and cache the ONNX towers of ``spec`` from its checkpoint; returns the meta.
    ExportError: the model is beyond these graphs; WeightsError: the checkpoint is unusable."""
    reporter = reporter or NullReporter()
    try:
        import onnx  # noqa: F401  (writes the graphs; the lean bundle ships it, torch it does not need)
    except ImportError:
        raise ExportError("onnx is not installed") from None
    config = model_config(spec)
    _check_supported(config)
    pre = preprocess_settings(config)
    checkpoint = checkpoint_for(spec, reporter)
    key = spec.model_key
    folder = onnx_export.cache_folder(key)
    tmp = folder.with_name(f"{key}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    reporter.log(f"building the ONNX encoder of CLIP {spec.describe()} from its weights (once per model)")
    try:
        state = read_weights(checkpoint)
        _image_tower(state, config, tmp / "image.fp32.onnx")
        _text_tower(state, config, tmp / "text.fp32.onnx")
        del state
        meta = _check_and_describe(spec, config, pre, tmp)
    except (ExportError, WeightsError):
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except Exception as exc:  # the onnx checker or the runtime refusing the graph
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    cos = meta["cosine_min"]
    reporter.log(
        f"ONNX encoder ready ({meta['image_file']}, {meta['text_file']}; int8 cosine to fp32 >= "
        f"{min(cos.values()):.4f})"
    )
    return meta


def build_after_download(source: weights.WeightsSource, progress: weights.ProgressCallback | None = None) -> bool:
    """Where torch is absent (the lean install), build the just downloaded model's towers right
    away, so that the first search does not wait for it. True when they are built (or were)."""
    from vspectrum_app.encoders.embedder import ClipSpec

    if _torch_installed():
        return False  # the full install exports on first use (onnx_export)
    spec = ClipSpec(model=source.model, pretrained=source.pretrained)
    if onnx_export.cached_meta(spec.model_key) is not None:
        return True
    if progress:
        progress(weights.Progress(0, None, 0.0, "build"))
    try:
        build(spec)
    except ExportError as exc:
        raise WeightsError(
            f"The weights are ready, but the encoder cannot be built from them without torch ({exc})."
        ) from None
    return True


def _torch_installed() -> bool:
    return installed("torch")


def vocab_file() -> Path:
    """CLIP's BPE merges: open_clip's copy when installed, else the one shipped in resources."""
    return _open_clip_file(VOCAB) or resources_dir() / "clip" / VOCAB


def _open_clip_file(name: str) -> Path | None:
    """A data file of the installed open_clip package, found without importing it."""
    try:
        found = importlib.util.find_spec("open_clip")
    except (ImportError, ValueError):  # hidden on purpose (a test, a broken install)
        return None
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(found.submodule_search_locations[0]) / name
    return path if path.is_file() else None


def _check_and_describe(spec: ClipSpec, config: dict[str, Any], pre: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Run the fp32 towers on the check inputs (finite, the right width), and describe the
    result as ``onnx_export`` does: the image tower in int8 where it stays within cosine 0.99
    of fp32 (fp32 kept beside it), the text tower in fp32 (int8 reorders query top-10s)."""
    from vspectrum_app.encoders.clip_preprocess import Preprocess
    from vspectrum_app.encoders.clip_tokenizer import ClipTokenizer

    shutil.copyfile(vocab_file(), folder / VOCAB)
    context = int(config["text_cfg"].get("context_length", 77))
    dim = int(config["embed_dim"])
    pixels = Preprocess(
        size=pre["size"], mean=tuple(pre["mean"]), std=tuple(pre["std"]), interpolation=pre["interpolation"]
    ).batch(onnx_export._check_images(pre["size"]))
    tokens = ClipTokenizer(folder / VOCAB, context)(onnx_export.CHECK_TEXTS)
    chosen, cosines, precision = {}, {}, {}
    for tower, name, inputs in (("image", "pixels", pixels), ("text", "tokens", tokens)):
        reference = onnx_export._run(folder / f"{tower}.fp32.onnx", name, inputs)
        if reference.shape != (len(inputs), dim) or not np.isfinite(reference).all():
            raise ExportError(f"the built {tower} tower gives no usable embeddings (shape {reference.shape})")
        if tower == "image":
            chosen[tower], cosines[tower], precision[tower] = onnx_export._best_precision(
                folder, tower, name, inputs, reference
            )
        else:
            chosen[tower], cosines[tower], precision[tower] = f"{tower}.fp32.onnx", 1.0, "fp32"
    return {
        "format": onnx_export.FORMAT,
        "model_key": spec.model_key,
        "model": spec.describe(),
        "dim": dim,
        "image_file": chosen["image"],
        "image_fp32_file": "image.fp32.onnx",
        "text_file": chosen["text"],
        "vocab_file": VOCAB,
        "context_length": context,
        **pre,
        "cosine_min": cosines,
        "precision": precision,
        "built_by": "onnx_build (without torch)",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
