"""The ONNX Runtime embedder: same interface as the torch ``Embedder``, no torch at run time.

Everything it needs is in the model's export folder (``onnx_export``): the two towers, the
BPE vocabulary and the preprocessing settings. Each tower's session is created on first use,
so a text search never loads the image tower.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from vspectrum_app.encoders.clip_preprocess import Preprocess

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    from vspectrum_app.encoders.clip_tokenizer import ClipTokenizer
    from vspectrum_app.encoders.embedder import ClipSpec


# a tower's runner: ONNX Runtime's Tower below, or openvino_embedder's
RunsTower = Callable[[np.ndarray], np.ndarray]
# a tower's saved optimised form (``Tower._pre_optimised``): a folder beside the tower's file
OPTIMISED_GRAPH, OPTIMISED_WEIGHTS = "model.onnx", "weights.data"
FEW_TEXTS = 8  # texts one call may bring and be encoded on a text session that skips pre-packing
# cores one row of such a session runs on: a 77-token row has little to share out (measured on 2)
MAX_ROW_THREADS = 4


def serves(session: object | None, few: bool) -> bool:
    """Whether a tower's started session serves a call: any does a few texts; a call with more
    needs a pre-packed one (``Tower``'s ``prepack``; a session without the notion is one)."""
    return session is not None and (few or getattr(session, "prepacked", True))


class Tower:
    """One exported tower. On CPU each row runs alone, single-threaded, rows in parallel on
    every core: int8 dynamic quantisation scales activations per run, so a batch would make
    an image's vector depend on its batch companions; one row per run keeps vectors
    reproducible, and measured on 2 cores it is also faster than one multi-threaded batch.
    Without ``prepack`` (a text session for a few texts, ``OnnxEmbedder._session``) the rows
    run one after another, each on up to ``MAX_ROW_THREADS`` cores."""

    def __init__(
        self,
        path: Path,
        input_name: str,
        providers: list[str] | None = None,
        quick_start: bool = False,
        threads: int | None = None,
        prepack: bool = True,
    ):
        import onnxruntime as ort

        self.input_name, self.threads = input_name, threads or os.cpu_count() or 1
        self.providers = providers or ["CPUExecutionProvider"]
        self.on_cpu = self.providers[0] == "CPUExecutionProvider"
        self.prepacked = prepack or not self.on_cpu
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # its warnings (unused initialisers, ...) are not the user's business
        self.intra_threads = 1
        if not self.prepacked:  # a few texts (see OnnxEmbedder._session): each row on every core
            options.add_session_config_entry("session.disable_prepacking", "1")
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep
            self.intra_threads = min(self.threads, MAX_ROW_THREADS)
        if self.on_cpu:
            options.intra_op_num_threads = self.intra_threads
        if quick_start and self.on_cpu:
            path = self._pre_optimised(ort, Path(path), options)
        self.session = ort.InferenceSession(str(path), options, providers=self.providers)
        self._pool: ThreadPoolExecutor | None = None

    @staticmethod
    def _pre_optimised(ort: Any, path: Path, options: Any) -> Path:  # onnxruntime has no type information
        """Graph optimisation is most of a session's start (0.9 of 1.2 s for ViT-B-32's text
        tower): save the optimised graph once (the portable level, not the CPU-specific
        layouts) and later start from it without optimising again. Falls back to ``path``.

        The weights are saved beside the graph as external data (``OPTIMISED_WEIGHTS``), which
        ONNX Runtime maps into memory instead of parsing and copying 250 MB out of one protobuf:
        the session of ViT-B-32's text tower starts in about a third of the time (docs/library.md).
        Graph and weights are made in a temporary folder renamed into place, so a reader sees both
        or neither."""
        folder = path.with_suffix(".opt")
        saved = folder / OPTIMISED_GRAPH
        if not saved.is_file():
            tmp = path.with_suffix(f".opt.tmp-{os.getpid()}")
            try:
                tmp.mkdir(exist_ok=True)
                make = ort.SessionOptions()
                make.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
                make.log_severity_level = 3
                make.optimized_model_filepath = str(tmp / OPTIMISED_GRAPH)
                make.add_session_config_entry(
                    "session.optimized_model_external_initializers_file_name", OPTIMISED_WEIGHTS
                )
                make.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
                ort.InferenceSession(str(path), make, providers=["CPUExecutionProvider"])
                os.rename(tmp, folder)  # fails when another process renamed its copy first: that one serves
            except Exception:  # a read-only cache folder, a full disk: start the slow way
                shutil.rmtree(tmp, ignore_errors=True)
                if not saved.is_file():
                    return path
            path.with_suffix(".opt.onnx").unlink(missing_ok=True)  # the one-file form earlier versions saved
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        return saved

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        if not self.on_cpu or len(inputs) == 1:
            out: np.ndarray = self.session.run(None, {self.input_name: inputs})[0]
            return out
        if self.intra_threads > 1:  # the session spreads each row over the cores itself
            return np.concatenate([self.session.run(None, {self.input_name: row[None]})[0] for row in inputs])
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="onnx")
        rows = self._pool.map(
            lambda i: self.session.run(None, {self.input_name: inputs[i : i + 1]})[0], range(len(inputs))
        )
        return np.concatenate(list(rows))


class OnnxEmbedder:
    backend = "onnx"
    # the image tower's precision as measured (a ``precision.Trial``; set by the loader, typed
    # loosely: precision.py builds embedders, so naming its class here would be an import cycle)
    chosen: Any = None

    def __init__(
        self,
        spec: ClipSpec,
        folder: Path,
        meta: dict[str, Any],
        providers: list[str] | None = None,
        threads: int | None = None,
        check_runtime: bool = True,
    ):
        if check_runtime:
            import onnxruntime  # noqa: F401  (fail here, where the caller can fall back, not at first encode)

        self.spec, self.folder, self.meta, self.providers = spec, Path(folder), meta, providers
        self.threads = threads  # images encoded at once on the CPU (None: every core)
        self.dim = int(meta["dim"])
        self.preprocess = Preprocess(
            size=int(meta["size"]),
            mean=tuple(meta["mean"]),
            std=tuple(meta["std"]),
            interpolation=meta["interpolation"],
        )
        self.input_size = (self.preprocess.size, self.preprocess.size)
        self._sessions: dict[str, RunsTower] = {}
        self._tokenizer: ClipTokenizer | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        where = "" if not self.providers or self.providers[0] == "CPUExecutionProvider" else " on CUDA"
        scheme = self.chosen.precision if self.chosen else None
        if scheme is None and "int8" in self.meta["image_file"]:
            scheme = (self.meta.get("precision") or {}).get("image")
        image = f"{self.meta['image_file']}: {scheme}" if scheme else self.meta["image_file"]
        return f"ONNX Runtime{where} ({image}, {self.meta['text_file']})"

    @property
    def batch_size(self) -> int:
        from vspectrum_app.encoders.device import CPU_BATCH

        return CPU_BATCH

    def _session(self, tower: str, few: bool = False) -> RunsTower:
        """The tower's session, started on first use. ``few``: the call brings at most
        ``FEW_TEXTS`` texts, and a text session may then start without pre-packing its weights:
        on the CPU, ONNX Runtime copies each MatMul weight into its kernels' layout when the
        session starts, 0.15 s of CPU for ViT-B-32's text tower, which makes each run about
        0.01 s faster: a cold search's one query never earns it back, a keyword set's hundred
        does. Such a session also runs each row on up to 4 cores (without spinning), since one
        query is all a cold search waits for: the same vectors, bit for bit, as one thread's.
        A later call with more texts replaces it with a pre-packed one (their vectors agree to
        float rounding, about 1e-6)."""
        with self._lock:
            if not serves(self._sessions.get(tower), few):
                self._sessions[tower] = Tower(
                    self.folder / self.meta[f"{tower}_file"],
                    "pixels" if tower == "image" else "tokens",
                    self.providers,
                    quick_start=tower == "text",  # a cold search waits for it
                    threads=self.threads,
                    prepack=tower != "text" or not few,
                )
            return self._sessions[tower]

    @property
    def tokenizer(self) -> ClipTokenizer:
        if self._tokenizer is None:
            from vspectrum_app.encoders.clip_tokenizer import ClipTokenizer

            vocab = self.folder / self.meta["vocab_file"]  # the export's own copy: its parsed form kept beside it
            self._tokenizer = ClipTokenizer(vocab, int(self.meta["context_length"]), cache=True)
        return self._tokenizer

    def collate(self, pictures: list[Any]) -> np.ndarray:
        return np.stack(pictures)

    def preprocess_batch(self, images: Iterable[Image.Image]) -> np.ndarray:
        return self.preprocess.batch(images)

    def encode_batch(self, pixels: np.ndarray) -> np.ndarray:
        from vspectrum_app.encoders.embedder import _normalise

        return _normalise(self._session("image")(np.asarray(pixels, dtype=np.float32)))

    def encode_images(self, images: Iterable[Image.Image]) -> np.ndarray:
        return self.encode_batch(self.preprocess_batch(images))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        from vspectrum_app.encoders.embedder import _normalise

        few = len(texts) <= FEW_TEXTS
        if "text" in self._sessions:
            return _normalise(self._session("text", few)(self.tokenizer(texts)))
        # The first query: the tower's session starts (native code, without the GIL) while
        # the tokeniser reads its vocabulary; each is a good part of a cold search.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="text-tower") as pool:
            tower = pool.submit(self._session, "text", few)
            tokens = self.tokenizer(texts)
            return _normalise(tower.result()(tokens))
