"""The annotation job as data: creating a task set (retrieval loads CLIP, so the window runs
it as a child job). ``annotate.cli`` builds its options from this class and ``gui.jobs``
starts it (core.operations)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vspectrum_app.core.operations import Operation, argument, option
from vspectrum_app.core.workspace import Workspace
from vspectrum_app.library.ops import ClipOptions


@dataclass(frozen=True)
class Created:
    set_id: str
    name: str
    items: int


@dataclass(frozen=True, kw_only=True)
class Create(Operation):
    """Sample a task set from the library."""

    command: ClassVar[tuple[str, ...]] = ("annotate", "create")
    result_type: ClassVar[type[Created]] = Created
    name: str = argument()
    kind: str = option("--kind", choices=("value", "representativeness"), default="value")
    values: tuple[str, ...] | None = option(
        "--values", nargs="+", metavar="VALUE", help="values to sample (default: all ten)"
    )
    per_value: int = option("--per-value", default=50, help="items per value (representativeness: items in all)")
    k: int = option("--k", default=5, help="images per keyword retrieved before sampling")
    keyword_set: str | None = option("--keyword-set", metavar="SET")
    raters: int = option("--raters", default=3, help="annotators required per item")
    seed: int = option("--seed", default=0)
    json: bool = option("--json", default=False, help="the new set's id, name and size as JSON")
    clip: ClipOptions = ClipOptions()


def run(params: Create, ws: Workspace, reporter: object = None) -> Created:
    """Sample the set (value sets by CLIP retrieval, representativeness sets at random) and store it."""
    from vspectrum_app.annotate.sampling import create_representativeness_set, create_value_set_by_retrieval
    from vspectrum_app.annotate.store import AnnotationStore

    if params.kind == "representativeness":
        set_id = create_representativeness_set(
            ws, params.name, size=params.per_value, raters=params.raters, seed=params.seed
        )
    else:
        set_id = create_value_set_by_retrieval(
            ws,
            params.name,
            params.clip.spec(),
            keyword_set=params.keyword_set,
            k=params.k,
            values=list(params.values) if params.values else None,
            per_value=params.per_value,
            raters=params.raters,
            seed=params.seed,
        )
    return Created(set_id, params.name, len(AnnotationStore(ws).items(set_id)))
