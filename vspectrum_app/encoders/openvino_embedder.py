"""The OpenVINO embedder: the same exported ONNX towers, compiled by OpenVINO for this CPU.

It reads the fp32 image tower of the ONNX export, or its static int8 one (``precision.py``:
quantise/dequantise pairs, which OpenVINO compiles into int8 kernels; it runs the dynamic int8
file's operators slowly: 1.4 against 3.2 images/s for fp32 on ViT-B-32 here); ``precision``
fp16 asks OpenVINO to compute the image tower in half precision (bf16 or fp16, where the CPU
has them; plain fp32 otherwise). The text tower always runs in fp32: a
query's vector ranks the whole library. Tokeniser and preprocessing are the ONNX
embedder's, so no torch at run time either.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vspectrum_app.encoders.onnx_embedder import OnnxEmbedder, RunsTower, Tower, serves
from vspectrum_app.encoders.runtimes import installed

if TYPE_CHECKING:
    from vspectrum_app.encoders.embedder import ClipSpec

PRECISIONS = {"fp32": "f32", "fp16": "f16", "int8 static": "f32"}  # int8: the file's quantised operators


class OpenVinoTower:
    def __init__(self, path: Path, precision: str = "fp32", threads: int | None = None):
        import openvino as ov  # untyped: ignored in pyproject.toml

        core = ov.Core()
        try:  # compiled blobs cached beside the export: a later process starts without recompiling
            core.set_property({"CACHE_DIR": str(Path(path).parent / "openvino-cache")})
        except Exception:  # a read-only folder: compile every time
            pass
        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": PRECISIONS[precision], "PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = core.compile_model(core.read_model(str(path)), "CPU", config)

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return np.asarray(self.compiled({0: inputs})[0])


class OpenVinoEmbedder(OnnxEmbedder):
    backend = "openvino"

    def __init__(
        self,
        spec: ClipSpec,
        folder: Path,
        meta: dict[str, Any],
        precision: str = "fp32",
        threads: int | None = None,
        image_file: str | None = None,
    ):
        if not installed("openvino"):  # fail here, where the caller can fall back
            raise ImportError("openvino is not installed", name="openvino")  # (imported by the image tower only)
        super().__init__(spec, folder, meta, check_runtime=False)
        self.precision, self.threads = precision, threads
        self.image_file = image_file or meta.get("image_fp32_file") or meta["image_file"]

    def describe(self) -> str:
        return f"OpenVINO ({self.image_file}: {self.precision}, {self.meta['text_file']})"

    def _session(self, tower: str, few: bool = False) -> RunsTower:
        with self._lock:
            if not serves(self._sessions.get(tower), few):
                if tower == "image":
                    self._sessions[tower] = OpenVinoTower(self.folder / self.image_file, self.precision, self.threads)
                elif installed("onnxruntime"):
                    self._sessions[tower] = Tower(
                        self.folder / self.meta["text_file"], "tokens", quick_start=True, prepack=not few
                    )
                else:
                    self._sessions[tower] = OpenVinoTower(self.folder / self.meta["text_file"], "fp32", self.threads)
            return self._sessions[tower]
