"""The library's jobs as data: what the window starts (import, index, coverage, model check)
and the CLIP model options every embedding command shares. ``library.cli`` builds its
options from these classes and ``gui.jobs`` starts them (core.operations)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, overload

from vspectrum_app.core.operations import Operation, Options, argument, option

if TYPE_CHECKING:
    from vspectrum_app.core.jobs import Reporter
    from vspectrum_app.core.workspace import Workspace
    from vspectrum_app.encoders.embedder import ClipSpec
    from vspectrum_app.library.indexer import IndexReport


# ``--pretrained none``: the model's random initial weights (what Settings holds as no tag)
RANDOM_INIT = "none"


@dataclass(frozen=True, kw_only=True)
class ClipOptions(Options):
    """The CLIP model (unset: the one in Settings, filled in by the entry point; else ViT-B-32)."""

    group_title: ClassVar[str | None] = "CLIP model (default: the one in Settings)"
    clip_model: str | None = option("--clip-model", metavar="NAME", help="open_clip model name, e.g. ViT-B-32")
    pretrained: str | None = option(
        "--pretrained",
        metavar="TAG",
        help=f"open_clip pretrained tag, e.g. laion2b_s34b_b79k ({RANDOM_INIT}: random weights)",
    )
    clip_config: Path | None = option("--clip-config", metavar="FILE", help="open_clip model config JSON")
    clip_checkpoint: Path | None = option("--clip-checkpoint", metavar="FILE", help="checkpoint (state_dict) file")

    def spec(self, base: ClipSpec | None = None) -> ClipSpec:
        """The ``encoders.embedder.ClipSpec`` these options choose on top of ``base`` (default:
        ``ClipSpec()``, ViT-B-32 with its LAION weights)."""
        from dataclasses import replace

        from vspectrum_app.encoders.embedder import ClipSpec

        spec = base or ClipSpec()
        if self.clip_config or self.clip_checkpoint:
            spec = ClipSpec(
                model=self.clip_model or spec.model,
                pretrained=None,
                config=str(self.clip_config) if self.clip_config else None,
                checkpoint=str(self.clip_checkpoint) if self.clip_checkpoint else None,
            )
        if self.clip_model:
            spec = replace(spec, model=self.clip_model)
        if self.pretrained:
            spec = replace(
                spec, pretrained=None if self.pretrained == RANDOM_INIT else self.pretrained, checkpoint=None
            )
        return spec

    def from_settings(self, settings: Mapping[str, Any]) -> ClipOptions:
        from vspectrum_app.encoders.embedder import ClipSpec

        return ClipOptions.of(self.spec(ClipSpec.from_settings(settings)))

    @staticmethod
    def of(spec: ClipSpec) -> ClipOptions:
        """``spec`` as options that choose it whatever the settings hold."""
        if spec.config or spec.checkpoint:
            return ClipOptions(
                clip_model=spec.model,
                clip_config=Path(spec.config) if spec.config else None,
                clip_checkpoint=Path(spec.checkpoint) if spec.checkpoint else None,
            )
        return ClipOptions(clip_model=spec.model, pretrained=spec.pretrained or RANDOM_INIT)


@dataclass(frozen=True, kw_only=True)
class BackendOptions(Options):
    backend: str | None = option(
        "--backend",
        choices=("auto", "torch", "onnx", "openvino"),
        help="embedding backend (default: $VSPECTRUM_CLIP_BACKEND, then the setting; auto = the fastest "
        "that passed its quality check on this machine)",
    )
    device: str | None = option(
        "--device",
        choices=("auto", "cpu", "cuda", "mps"),
        help="where to embed (default: $VSPECTRUM_CLIP_DEVICE, then the setting; auto = CUDA, then MPS, then the CPU)",
    )

    def from_settings(self, settings: Mapping[str, Any]) -> BackendOptions:
        # the environment variables outrank the settings (a machine's override, e.g. on a cluster node)
        from vspectrum_app.encoders.device import BACKEND_ENV, DEVICE_ENV

        return BackendOptions(
            backend=self.backend or os.environ.get(BACKEND_ENV) or settings.get("clip_backend"),
            device=self.device or os.environ.get(DEVICE_ENV) or settings.get("clip_device"),
        )


# -- the jobs' results (what the window reads back: core.operations.decode_line) -----------------


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str  # one sentence


@dataclass(frozen=True)
class Imported:
    added: int
    duplicates: int  # already in the library
    skipped: tuple[Skipped, ...]
    metadata_rows_skipped: tuple[str, ...]  # one sentence per bad metadata row


@dataclass(frozen=True)
class Indexed:
    model_key: str
    embedded: int
    failed: int
    repaired: int  # index entries repaired
    seconds: float
    encoder: dict[str, Any] | None = None  # backend, precision, cosine to fp32 (``encoders.precision``)


@dataclass(frozen=True)
class ValueCoverage:
    images: int  # screenshots close to one of the value's keywords
    fraction: float  # of all screenshots
    per_keyword: dict[str, int]


@dataclass(frozen=True)
class Coverage:
    radius: float | None  # the Euclidean radius asked for; None: the calibrated threshold
    method: str  # "radius" or "calibrated"
    threshold: float | None  # the cosine similarity a screenshot needs
    keyword_set: str
    values: dict[str, ValueCoverage]


@dataclass(frozen=True)
class LibraryStats:
    images: int
    flagged: int
    per_platform: dict[str, int]
    per_month: dict[str, int]
    embedded_per_model: dict[str, int]
    coverage: Coverage | None = None  # None: not asked for, or an empty library


@dataclass(frozen=True)
class ModelInfo:
    model: str  # the model in words
    model_key: str
    dim: int  # embedding dimensions
    backend: str  # where and how it runs, in words
    input_size: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class Import(Operation):
    command: ClassVar[tuple[str, ...]] = ("library", "import")
    result_type: ClassVar[type[Imported]] = Imported
    paths: tuple[Path, ...] = argument(nargs="+", metavar="PATH")
    metadata: Path | None = option(
        "--metadata",
        metavar="CSV",
        help="CSV with a file-name column and video link / platform / post date / any other columns",
    )
    json: bool = option("--json", default=False, help="print the report as JSON")


@dataclass(frozen=True, kw_only=True)
class Index(Operation):
    command: ClassVar[tuple[str, ...]] = ("library", "index")
    result_type: ClassVar[type[Indexed]] = Indexed
    clip: ClipOptions = ClipOptions()
    backend: BackendOptions = BackendOptions()
    batch_size: int | None = option(
        "--batch-size", help="images per forward pass (default 32 on the CPU; on CUDA from free memory)"
    )
    ray: str | None = option(
        "--ray",
        const="",
        metavar="ADDRESS",
        help="embed on a Ray cluster (its address, e.g. ray://head:10001; none: RAY_ADDRESS or a "
        "local Ray), one encoder per CPU or GPU; needs the ray extra (docs/scale.md)",
    )
    json: bool = option("--json", default=False)


@dataclass(frozen=True, kw_only=True)
class Stats(Operation):
    command: ClassVar[tuple[str, ...]] = ("library", "stats")
    result_type: ClassVar[type[LibraryStats]] = LibraryStats
    radius: float | None = option(
        "--radius",
        help="coverage radius, Euclidean distance on unit vectors (the "
        "paper's: 1.5); default: the threshold calibrated for the model "
        "(its top 1%% of screenshot-keyword similarities)",
    )
    keyword_set: str | None = option("--keyword-set", metavar="SET")
    no_coverage: bool = option("--no-coverage", default=False, help="skip the coverage figure (needs the CLIP model)")
    json: bool = option("--json", default=False)
    clip: ClipOptions = ClipOptions()
    backend: BackendOptions = BackendOptions()


@dataclass(frozen=True, kw_only=True)
class Model(Operation):
    command: ClassVar[tuple[str, ...]] = ("library", "model")
    result_type: ClassVar[type[ModelInfo]] = ModelInfo
    clip: ClipOptions = ClipOptions()
    backend: BackendOptions = BackendOptions()
    json: bool = option("--json", default=False)


@overload
def run(params: Import, ws: Workspace, reporter: Reporter) -> Imported: ...
@overload
def run(params: Index, ws: Workspace, reporter: Reporter) -> Indexed: ...
@overload
def run(params: Stats, ws: Workspace, reporter: Reporter) -> LibraryStats: ...
@overload
def run(params: Model, ws: Workspace, reporter: Reporter) -> ModelInfo: ...
def run(
    params: Import | Index | Stats | Model, ws: Workspace, reporter: Reporter
) -> Imported | Indexed | LibraryStats | ModelInfo:
    """Do the operation in this process. Returns the import's or index's report, the library
    statistics (with coverage unless ``no_coverage``), or the loaded model's description."""
    match params:
        case Import():
            return _import(params, ws, reporter)
        case Index():
            r = _index(params, ws, reporter)
            return Indexed(r.model_key, r.embedded, len(r.failed), r.repaired, round(r.seconds, 2), r.encoder)
        case Stats():
            return _stats(params, ws)
        case Model():
            return describe_model(params, reporter)
    raise TypeError(f"not a library operation: {params!r}")


def _import(params: Import, ws: Workspace, reporter: Reporter) -> Imported:
    from vspectrum_app.library.importer import import_paths

    r = import_paths(ws, list(params.paths), params.metadata, reporter)
    skipped = tuple(Skipped(path, reason) for path, reason in r.skipped)
    return Imported(len(r.added), r.duplicates, skipped, tuple(r.metadata_rows_skipped))


def _index(params: Index, ws: Workspace, reporter: Reporter) -> IndexReport:
    from vspectrum_app.library.indexer import build_index

    if params.ray is None:
        return build_index(
            ws,
            params.clip.spec(),
            reporter,
            batch_size=params.batch_size,
            backend=params.backend.backend,
            device=params.backend.device,
        )
    from vspectrum_app.core.errors import UserError
    from vspectrum_app.library.ray_index import RayUnavailable, build_index_on_ray

    try:
        return build_index_on_ray(
            ws,
            params.clip.spec(),
            params.ray or None,
            reporter,
            batch_size=params.batch_size,
            backend=params.backend.backend,
            device=params.backend.device,
        )
    except RayUnavailable as exc:
        raise UserError(str(exc)) from None


def _stats(params: Stats, ws: Workspace) -> LibraryStats:
    from vspectrum_app.library import keywords
    from vspectrum_app.library.search import Searcher
    from vspectrum_app.library.stats import library_stats

    stats = library_stats(ws)
    coverage = None
    if not params.no_coverage and stats["images"]:
        ks = keywords.get_set(ws, params.keyword_set)
        searcher = Searcher(ws, params.clip.spec(), backend=params.backend.backend, device=params.backend.device)
        values = searcher.coverage(ks, params.radius)
        coverage = Coverage(
            radius=params.radius,
            method="radius" if params.radius is not None else "calibrated",
            threshold=searcher.last_threshold,
            keyword_set=ks.id,
            values={v: ValueCoverage(c["images"], c["fraction"], c["per_keyword"]) for v, c in values.items()},
        )
    return LibraryStats(**stats, coverage=coverage)


def describe_model(params: Model, reporter: Reporter) -> ModelInfo:
    """Load the model (downloading its weights on first use) and describe it; needs no workspace."""
    from vspectrum_app.encoders.backends import load_embedder

    spec = params.clip.spec()
    embedder = load_embedder(spec, reporter, params.backend.backend, params.backend.device)
    return ModelInfo(spec.describe(), spec.model_key, embedder.dim, embedder.describe(), tuple(embedder.input_size))
