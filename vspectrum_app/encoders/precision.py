"""The image tower's precision per backend: every scheme the backend can run, measured, the fastest that passes.

``choose`` tries a backend's schemes in order (``SCHEMES``): for ONNX Runtime the export's
dynamic int8 tower (per-channel weights in a reduced range, else per-tensor: ``onnx_export``
keeps the faster of those within cosine 0.99 of open_clip), static int8 (weights and
activations, activation ranges calibrated on generated screenshots, QDQ format), then fp32;
for OpenVINO static int8 (OpenVINO compiles the QDQ file's quantise/dequantise pairs into int8
kernels; it runs the dynamic file slowly), its fp16 inference hint, then fp32. Each is timed
on the first 32 check pictures; then, fastest first until one passes, each encodes the whole
check gallery (400 generated screenshots, 64 keyword texts) and is checked against the
reference (fp32 open_clip, else the fp32 ONNX towers): every cosine >= 0.99, and the 95 %
lower bound of the top-10 overlap >= 0.9, for the texts and for each picture as a query
(``quality``, ``overlap_bound``). The result (a ``Choice`` with one ``Trial`` per scheme) is
recorded per backend in the export folder with the machine it was measured on and the check
it passed, so ``--backend onnx|openvino`` serves the best passing precision without measuring
again, and ``auto`` compares the backends' trials.

OpenVINO's own weight compression (NNCF) is not tried: NNCF is not a dependency of the app.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from vspectrum_app.core.intervals import clustered_interval
from vspectrum_app.core.jobs import NullReporter, Reporter

# re-exported: backends asks through here, so tests hide a runtime by patching this one name
from vspectrum_app.encoders.runtimes import installed as installed

if TYPE_CHECKING:
    from PIL import Image

    from vspectrum_app.encoders.embedder import ClipEncoder, ClipSpec

MIN_COSINE, MIN_OVERLAP, TOP_K = 0.99, 0.9, 10
# The check's gallery: as many pictures as the goal's library (400 screenshots), so that a
# query's top 10 is 2.5 % of it, as crowded as there; 40 pictures (top 10 = a quarter) let a
# scheme that keeps 0.89 of a text query's top 10 over 400 screenshots pass a 0.95 bar.
N_IMAGES = 400
N_TIMED = 32  # speed: the first pictures, best of two passes (the gallery is encoded once)
# A keyword search's queries: 64 of them, so that the share of their top 10 kept is known to
# about +-0.02 (each query is one cluster of 10 answers in the bound below).
TEXTS = [
    "a photo of a dog",
    "family dinner at home",
    "luxury car",
    "prayer in a church",
    "police officers",
    "graduation ceremony",
    "a concert crowd",
    "skydiving",
    "a wedding",
    "football match",
    "protest in the street",
    "a bowl of ramen",
    "handshake",
    "a cat sleeping on a sofa",
    "beach at sunset",
    "mountain hiking trail",
    "a birthday cake with candles",
    "children playing in a park",
    "an office meeting",
    "a hospital ward",
    "a crowded subway train",
    "a farmer in a field",
    "fireworks over a city",
    "a chess game",
    "a plate of sushi",
    "a soldier in uniform",
    "a classroom with students",
    "a yoga class",
    "a street market",
    "a snowy village",
    "a luxury watch",
    "a political rally",
    "a baby laughing",
    "an old man reading a newspaper",
    "a gym workout",
    "a music festival stage",
    "a science laboratory",
    "a traffic jam",
    "a mosque at night",
    "a temple with monks",
    "a basketball game",
    "a private jet",
    "a homeless person",
    "a couple holding hands",
    "a fashion show runway",
    "a video game screenshot",
    "a chat conversation on a phone",
    "a news website",
    "a spreadsheet with numbers",
    "a map with directions",
    "an online shopping cart",
    "a selfie in a mirror",
    "a recipe with ingredients",
    "a bank statement",
    "a flight boarding pass",
    "a meme with text",
    "a weather forecast",
    "a calendar with appointments",
    "a music player",
    "a login screen",
    "a social media post",
    "a movie poster",
    "a dark mode settings menu",
    "a handwritten note",
]


# the check as it is: a record made with another check (40 pictures and a 0.95 bar on the mean,
# before) is measured again
CHECK = (
    f"{N_IMAGES} pictures, {len(TEXTS)} texts; cosine >= {MIN_COSINE}, "
    f"top-{TOP_K} overlap's 95 % lower bound >= {MIN_OVERLAP}"
)


Vectors = tuple[np.ndarray, np.ndarray]  # (images, texts), unit rows
Check = Callable[[Vectors, Vectors], dict[str, Any]]  # quality's signature

DYNAMIC, STATIC = "int8 dynamic", "int8 static"
STATIC_FILE = "image.int8-static.onnx"
CALIBRATION_IMAGES = 16
# tried in this order; the fastest that passes is kept (fp32 last: the fallback that always runs)
SCHEMES = {"onnx": (DYNAMIC, STATIC, "fp32"), "openvino": (STATIC, "fp16", "fp32")}


@dataclass(frozen=True)
class Trial:
    """One scheme on one backend, measured on this machine."""

    backend: str
    precision: str  # the scheme, e.g. "int8 per-channel, reduced range", "int8 static", "fp16", "fp32"
    cosine_min: float = 0.0  # lowest cosine of an image's or text's vector to the reference
    overlap: float = 0.0  # lower mean top-10 overlap with the reference (text queries, image queries)
    overlap_low: float = 0.0  # its 95 % lower bound (``overlap_bound``): the figure held to the bar
    rate: float = 0.0  # images/s on the first check pictures (best of two timed passes)
    passed: bool = False
    missing: str | None = None  # the runtime module that is not installed
    error: str | None = None  # why it could not run (a graph the runtime cannot compile here)
    skipped: str | None = None  # why its quality was not checked (a faster scheme passed)


@dataclass(frozen=True)
class Choice:
    """A backend's trials and the fastest that passed (None: none did; the caller serves torch)."""

    backend: str
    trials: tuple[Trial, ...]

    @property
    def best(self) -> Trial | None:
        passed = [t for t in self.trials if t.passed]
        return max(passed, key=lambda t: t.rate) if passed else None

    def summary(self) -> str:
        best = self.best
        if best is None:
            return f"{self.backend}: no precision passed the quality check"
        return (
            f"{self.backend} {best.precision} (cosine >= {best.cosine_min:.4f}, top-10 overlap {best.overlap:.3f}, "
            f"95 % lower bound {best.overlap_low:.3f}, {best.rate:.1f} images/s on the check pictures)"
        )


def image_file(meta: dict[str, Any], precision: str) -> str:
    """The image tower file a precision runs: the static int8 file, the export's dynamic int8
    file (its scheme, named in the meta, or "int8" in records made before schemes were named),
    else the fp32 one (fp16 is an OpenVINO hint on the fp32 file)."""
    if precision == STATIC:
        return STATIC_FILE
    if precision.startswith("int8") and meta["image_file"].endswith(".int8.onnx"):
        return str(meta["image_file"])
    return str(meta.get("image_fp32_file") or meta["image_file"])


def schemes(backend: str, meta: dict[str, Any]) -> list[str]:
    """The backend's schemes for this export; the dynamic one under the name the export gave it."""
    out = []
    for scheme in SCHEMES[backend]:
        if scheme == DYNAMIC:
            if not meta["image_file"].endswith(".int8.onnx"):
                continue  # the export found every dynamic scheme below the bar
            scheme = (meta.get("precision") or {}).get("image") or "int8"
        out.append(scheme)
    return out


def check_pixels(meta: dict[str, Any]) -> np.ndarray:
    from vspectrum_app.encoders.clip_preprocess import Preprocess

    pre = Preprocess(
        size=int(meta["size"]), mean=tuple(meta["mean"]), std=tuple(meta["std"]), interpolation=meta["interpolation"]
    )
    return pre.batch(check_inputs(int(meta["size"])))  # equal to open_clip's pixels (checked at export)


def reference_vectors(spec: ClipSpec, folder: Path, meta: dict[str, Any], pixels: np.ndarray) -> Vectors:
    """fp32 open_clip's vectors when torch is installed, else the fp32 ONNX towers'."""
    try:
        embedder = make(spec, folder, meta, "torch", "fp32")
        batch: Any = __import__("torch").from_numpy(pixels)
    except ImportError:
        embedder, batch = make(spec, folder, meta, "onnx", "fp32"), pixels
    return embedder.encode_batch(batch), embedder.encode_texts(TEXTS)


def choose(
    spec: ClipSpec,
    folder: Path,
    meta: dict[str, Any],
    backend: str,
    reference: Vectors | None = None,
    check: Check | None = None,
    pixels: np.ndarray | None = None,
) -> Choice:
    """Time every scheme ``backend`` can run (in ``SCHEMES``' order) on the first ``N_TIMED``
    check pictures, then check them against ``reference`` (default: ``reference_vectors``) with
    ``check`` (default: ``quality``), fastest first, until one passes: a slower scheme could
    not be chosen, so its check (the whole gallery: the measurement's main cost) is skipped."""
    check = check or quality
    pixels = check_pixels(meta) if pixels is None else pixels
    trials: list[Trial] = []
    embedders: dict[int, ClipEncoder] = {}
    for scheme in schemes(backend, meta):
        try:
            if scheme == STATIC:
                make_static_int8(Path(folder), meta)
            embedder = make(spec, folder, meta, backend, scheme)
            speed = rate(embedder, pixels[:N_TIMED])
        except ImportError as exc:
            trials.append(Trial(backend, scheme, missing=exc.name or str(exc)))
            continue
        except Exception as exc:  # a runtime that cannot run this graph here
            trials.append(Trial(backend, scheme, error=f"{type(exc).__name__}: {str(exc)[:160]}"))
            continue
        embedders[len(trials)] = embedder
        trials.append(Trial(backend, scheme, rate=speed))
    if embedders:
        reference = reference if reference is not None else reference_vectors(spec, folder, meta, pixels)
    passed: Trial | None = None
    for i in sorted(embedders, key=lambda i: -trials[i].rate):
        trial, embedder = trials[i], embedders.pop(i)
        if passed is not None:
            trials[i] = replace(trial, skipped=f"slower than {passed.precision}, which passed")
            continue
        try:
            vectors = (embedder.encode_batch(pixels), embedder.encode_texts(TEXTS))
        except Exception as exc:  # timed on a few pictures, then failed on the gallery
            trials[i] = replace(trial, error=f"{type(exc).__name__}: {str(exc)[:160]}")
            continue
        assert reference is not None  # made above: there was an embedder to check
        judged = check(reference, vectors)
        trials[i] = replace(
            trial,
            cosine_min=float(judged["cosine_min"]),
            overlap=float(judged["overlap"]),
            overlap_low=float(judged["overlap_low"]),
            passed=bool(judged["passed"]),
        )
        passed = trials[i] if trials[i].passed else None
    return Choice(backend, tuple(trials))


def make_static_int8(folder: Path, meta: dict[str, Any]) -> Path:
    """The static int8 image tower (once per export): weights int8 per channel in a reduced
    range (no saturation on AVX2 without VNNI), activations uint8 with ranges calibrated on
    generated screenshots (another seed than the check pictures), QDQ format, which both
    runtimes read. Only the products with a weight matrix and the patch convolution are
    quantised: LayerNorm, softmax, GELU and attention's two products of activations (query x
    key, weights x value: a small share of the work) stay fp32, where fixed activation ranges
    lose the most. (On ViT-B-32 with random weights either way kept cosine 0.9994 on the check
    pictures and 0.89 of text queries' top 10 over 400 screenshots: perf/int8_schemes.py.)"""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static

    from vspectrum_app.encoders.clip_preprocess import Preprocess

    out = folder / STATIC_FILE
    if out.is_file():
        return out
    size = int(meta["size"])
    pre = Preprocess(size=size, mean=tuple(meta["mean"]), std=tuple(meta["std"]), interpolation=meta["interpolation"])
    calibration = pre.batch(check_inputs(size, CALIBRATION_IMAGES, seed=11))

    class Reader(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime has no type information
        def __init__(self) -> None:
            self.batches = iter([{"pixels": calibration[i : i + 4]} for i in range(0, len(calibration), 4)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    source = folder / (meta.get("image_fp32_file") or meta["image_file"])
    tmp = out.with_name(f"{out.stem}.tmp-{os.getpid()}.onnx")
    root = logging.getLogger()  # the quantiser logs advice meant for its developers to the root logger
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_static(
            str(source),
            str(tmp),
            Reader(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul", "Gemm", "Conv"],
            nodes_to_exclude=_products_of_activations(source),
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        os.replace(tmp, out)
    finally:
        root.setLevel(level)
        tmp.unlink(missing_ok=True)
        for leftover in folder.glob("augmented_model*.onnx"):  # the calibrator's scratch graph
            leftover.unlink(missing_ok=True)
    return out


# -- the candidates: made, checked, timed --------------------------------------------------
def make(
    spec: ClipSpec, folder: Path, meta: dict[str, Any], backend: str, precision: str, threads: int | None = None
) -> ClipEncoder:
    """An embedder for one candidate (``precision`` names the image tower's scheme, see
    ``precision.py``); ImportError when its runtime is missing."""
    if backend == "torch":
        if not installed("torch") or not installed("open_clip"):
            raise ImportError("torch is not installed", name="torch")
        from vspectrum_app.encoders.embedder import torch_embedder

        return torch_embedder(spec, NullReporter(), "cpu")
    image = image_file(meta, precision)
    if backend == "onnx":
        from vspectrum_app.encoders.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(spec, folder, {**meta, "image_file": image}, threads=threads)
    if not installed("openvino"):
        raise ImportError("openvino is not installed", name="openvino")
    from vspectrum_app.encoders.openvino_embedder import OpenVinoEmbedder

    return OpenVinoEmbedder(spec, folder, meta, precision, threads=threads, image_file=image)


def check_inputs(size: int, n: int = N_IMAGES, seed: int = 7) -> list[Image.Image]:
    """Screenshot-like pictures of several shapes (phone portrait and landscape, square, tall,
    wide, one smaller than the model's input), deterministic (another seed: other pictures).
    Their short side is about the model's input size: the schemes see the same pixels either
    way, and 400 full-size screenshots took 75 s to draw on a busy 2-core machine. Each
    shape's noise is drawn once and each picture takes it at a random offset (cheap, and
    still another texture per picture)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    tall, wide = size * 16 // 9, size * 3
    shapes = [(size, tall), (tall, size), (size, size), (144, 256), (size + 1, tall + 3), (wide, size), (size, wide)]
    noise = {shape: rng.normal(0, 20, (shape[1] * 2, shape[0] * 2, 3)).astype(np.float32) for shape in shapes}
    out = []
    for i in range(n):
        w, h = shapes[i % len(shapes)]
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        tint = rng.uniform(0.2, 1, (1, 1, 3)).astype(np.float32)
        ramp = np.linspace(0, 255, h, dtype=np.float32)[:, None, None] * tint
        img = Image.fromarray(np.clip(ramp + noise[(w, h)][y : y + h, x : x + w], 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for _ in range(6):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            draw.rectangle(
                [x0, y0, x0 + int(rng.integers(5, w // 2 + 6)), y0 + int(rng.integers(5, h // 2 + 6))],
                fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
            )
        out.append(img)
    return out


def shared_top_k(
    library_a: np.ndarray,
    library_b: np.ndarray,
    queries_a: np.ndarray,
    queries_b: np.ndarray,
    k: int = TOP_K,
    in_library: bool = False,
) -> np.ndarray:
    """How many of each query's top k in library a are also its top k in library b;
    ``in_library``: query i is library item i, left out of its own top k (it would be its
    own first neighbour in both, a free hit)."""
    k = min(k, len(library_a) - int(in_library))
    if k <= 0 or not len(queries_a):
        return np.zeros(len(queries_a), dtype=np.int64)
    sims_a, sims_b = queries_a @ library_a.T, queries_b @ library_b.T
    if in_library:
        np.fill_diagonal(sims_a, -np.inf)
        np.fill_diagonal(sims_b, -np.inf)
    top_a = np.argpartition(-sims_a, k - 1, axis=1)[:, :k]
    top_b = np.argpartition(-sims_b, k - 1, axis=1)[:, :k]
    return np.array([len(np.intersect1d(a, b)) for a, b in zip(top_a, top_b)], dtype=np.int64)


def top_k_overlap(
    library_a: np.ndarray, library_b: np.ndarray, queries_a: np.ndarray, queries_b: np.ndarray, k: int = TOP_K
) -> float:
    """Mean share of each query's top k in library a that is also its top k in library b."""
    k = min(k, len(library_a))
    shared = shared_top_k(library_a, library_b, queries_a, queries_b, k)
    return float(shared.mean() / k) if len(shared) else 1.0


def overlap_bound(shared: np.ndarray, k: int = TOP_K) -> tuple[float, float]:
    """The mean share of the top k kept over these queries, and its 95 % lower bound.

    Each query is a cluster of k yes/no answers (is the reference's neighbour still in the top
    k?), so the bound is the app's interval for clustered answers (``core.intervals``: Wilson
    with continuity correction on n shrunk by the design effect, Student's t on queries - 1
    degrees of freedom); its lower end, a one-sided 97.5 % bound. Why a bound, not the mean:
    per-query overlaps are 1 for most queries and 0.6-0.8 for a few, so the mean of a few
    dozen queries scatters by a few hundredths, the distance between a scheme that keeps 0.89
    and one that keeps 0.95. Edges: every query keeping all k has no spread to estimate, and
    the design effect is taken as k (the queries' answers as one each): with 64 queries the
    bound is then 0.94; a mean exactly at the bar is always below it."""
    if not len(shared):
        return 1.0, 0.0  # no queries: nothing is known
    interval = clustered_interval([(int(s), k) for s in shared])
    assert interval is not None  # k answers per query, at least one query
    return float(shared.mean() / k), interval[0] / 100


def quality(reference: tuple[np.ndarray, np.ndarray], got: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """Every cosine to the reference >= ``MIN_COSINE``, and the top-10 overlap's lower bound
    >= ``MIN_OVERLAP`` for the texts as queries and for each picture as a query (the rest of
    the gallery its library)."""
    (ref_img, ref_txt), (img, txt) = reference, got
    cosine = float(min((ref_img * img).sum(axis=1).min(), (ref_txt * txt).sum(axis=1).min()))
    text = overlap_bound(shared_top_k(ref_img, img, ref_txt, txt))
    image = overlap_bound(shared_top_k(ref_img, img, ref_img, img, in_library=True))
    overlap, low = min(text[0], image[0]), min(text[1], image[1])
    return {
        "cosine_min": round(cosine, 5),
        "overlap": round(overlap, 4),
        "overlap_low": round(low, 4),
        "passed": bool(cosine >= MIN_COSINE and low >= MIN_OVERLAP),
    }


def rate(embedder: ClipEncoder, pixels: Any) -> float:
    """Images/s: the best of two timed passes after a warm-up (``choose`` passes the first
    ``N_TIMED`` check pictures: every scheme is timed, few are checked on the whole gallery)."""
    embedder.encode_batch(pixels[:2])  # warm-up: sessions and compiled kernels
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        embedder.encode_batch(pixels)
        best = min(best, time.perf_counter() - start)
    return round(len(pixels) / best, 2)


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in ("onnxruntime", "openvino", "torch"):
        try:
            from importlib.metadata import version

            versions[name] = version(name) if installed(name) else None
        except Exception:
            versions[name] = None
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), **versions}


def _products_of_activations(path: Path) -> list[str]:
    """The matrix products none of whose inputs is a stored weight (attention's)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    weights = {i.name for i in graph.initializer} | {n.output[0] for n in graph.node if n.op_type == "Constant"}
    return [n.name for n in graph.node if n.op_type == "MatMul" and not weights.intersection(n.input)]


# -- recorded per backend, per machine and export ------------------------------------------
def record_file(folder: Path, backend: str) -> Path:
    return Path(folder) / f"precision-{backend}.json"


def recorded(folder: Path, meta: dict[str, Any], backend: str) -> Choice | None:
    """The choice measured for this export on this machine, or None."""
    try:
        raw = json.loads(record_file(folder, backend).read_text())
        if raw["machine"] != machine() or raw["export_created"] != meta.get("created") or raw["backend"] != backend:
            return None
        if raw.get("check") != CHECK:
            return None
        return Choice(backend, tuple(Trial(**t) for t in raw["trials"]))
    except (OSError, ValueError, KeyError, TypeError):  # missing, damaged or hand-edited: measure again
        return None


def best(spec: ClipSpec, folder: Path, meta: dict[str, Any], backend: str, reporter: Reporter | None = None) -> Choice:
    """The recorded choice for ``backend``, or measure it now, record it and say what was chosen."""
    choice = recorded(folder, meta, backend)
    if choice is not None:
        return choice
    reporter = reporter or NullReporter()
    reporter.log(f"measuring {backend}'s precisions for CLIP {spec.describe()} on this machine (once)")
    start = time.perf_counter()
    choice = choose(spec, folder, meta, backend)
    save(folder, meta, choice, machine())
    reporter.log(f"image tower precision: {choice.summary()}; measured in {time.perf_counter() - start:.0f} s")
    return choice


def save(folder: Path, meta: dict[str, Any], choice: Choice, machine: dict[str, Any]) -> None:
    record = {
        "backend": choice.backend,
        "trials": [asdict(t) for t in choice.trials],
        "machine": machine,
        "export_created": meta.get("created"),
        "check": CHECK,
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = record_file(folder, choice.backend)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, path)
    except OSError:  # a read-only models folder: measured again next time
        tmp.unlink(missing_ok=True)


def encoder_record(embedder: ClipEncoder) -> dict[str, Any]:
    """What embedded an index's vectors, for its manifest: backend, precision, cosine to the reference."""
    chosen: Trial | None = getattr(embedder, "chosen", None)
    if chosen is not None:
        return {"backend": chosen.backend, "precision": chosen.precision, "cosine_min": chosen.cosine_min}
    fp16 = bool(getattr(embedder, "fp16", False))  # torch on CUDA
    precision = "fp16" if fp16 else "fp32"
    return {"backend": embedder.backend, "precision": precision, "cosine_min": None if fp16 else 1.0}


def describe_record(record: dict[str, Any]) -> str:
    """One phrase for the window and the CLI: "ONNX Runtime, int8 static (cosine 0.9991 to fp32)"."""
    names = {"onnx": "ONNX Runtime", "openvino": "OpenVINO", "torch": "torch"}
    text = f"{names.get(record.get('backend', ''), record.get('backend'))}, {record.get('precision')}"
    cosine = record.get("cosine_min")
    if cosine is not None and record.get("backend") != "torch":
        text += f" (cosine {cosine:.4f} to fp32)"
    return text
