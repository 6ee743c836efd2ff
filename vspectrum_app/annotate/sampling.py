"""Sampling task sets from the library, and each annotator's own item order."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING, Any, Callable

from vspectrum_app.annotate.store import AnnotationStore
from vspectrum_app.core.values import SCHWARTZ_VALUES, canonical_value
from vspectrum_app.library import catalog

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace
    from vspectrum_app.encoders.embedder import ClipSpec


# value -> image ids retrieved for it (the library's keyword retrieval, or any list in tests)
RetrieveFn = Callable[[str], list[int]]


def create_value_set(
    ws: Workspace,
    name: str,
    retrieve: RetrieveFn,
    *,
    values: list[str] | None = None,
    per_value: int = 50,
    raters: int = 3,
    seed: int = 0,
    keyword_set_id: str | None = None,
) -> str:
    """For each value, ``per_value`` of its retrieved screenshots, sampled with ``seed``."""
    rng = random.Random(seed)
    items = []
    for value in [canonical_value(v) for v in (values or SCHWARTZ_VALUES)]:
        ids = list(dict.fromkeys(retrieve(value)))
        chosen = ids if len(ids) <= per_value else rng.sample(ids, per_value)
        items += [_item(ws, image_id, value) for image_id in chosen]
    config = {
        "seed": seed,
        "per_value": per_value,
        "values": values or list(SCHWARTZ_VALUES),
        "keyword_set": keyword_set_id,
    }
    return AnnotationStore(ws).create_set(name, "value", raters, config, items)


def create_value_set_by_retrieval(
    ws: Workspace,
    name: str,
    clip_spec: ClipSpec,
    *,
    keyword_set: str | None = None,
    k: int = 5,
    **options: Any,
) -> str:
    """A value set sampled from what each value's keywords retrieve (k per keyword, as in the
    benchmark): what both ``vspectrum annotate create`` and the Annotation pane call."""
    from vspectrum_app.library import keywords
    from vspectrum_app.library.search import Searcher

    ks = keywords.get_set(ws, keyword_set)
    searcher = Searcher(ws, clip_spec)
    return create_value_set(
        ws, name, lambda v: [r.image_id for r in searcher.retrieve_value(v, ks, k)], keyword_set_id=ks.id, **options
    )


def create_representativeness_set(ws: Workspace, name: str, *, size: int = 50, raters: int = 3, seed: int = 0) -> str:
    """Screenshots that have a video link, sampled with ``seed``."""
    ids = catalog.unflagged_ids_with_video(ws)
    chosen = ids if len(ids) <= size else random.Random(seed).sample(ids, size)
    items = [_item(ws, image_id, "") for image_id in chosen]
    return AnnotationStore(ws).create_set(name, "representativeness", raters, {"seed": seed, "size": size}, items)


def _item(ws: Workspace, image_id: int, value: str) -> dict[str, Any]:
    record = catalog.image_record(ws, image_id)
    assert record is not None, f"image {image_id} was listed by the catalog a moment ago"
    return {"image_id": image_id, "image_sha256": record.sha256, "value": value, "video_url": record.video_url}


def annotator_order(items: list[dict[str, Any]], set_id: str, annotator: str) -> list[dict[str, Any]]:
    """The same annotator always sees the same order; different annotators different ones."""
    seed = int(hashlib.sha256(f"{set_id}/{annotator.strip().lower()}".encode()).hexdigest()[:12], 16)
    order = list(items)
    random.Random(seed).shuffle(order)
    return order


def questions_for(kind: str, item: dict[str, Any]) -> list[str]:
    """Value sets: the screenshot, then (only when there is a video) the video; asked in that order."""
    if kind == "representativeness":
        return ["representative"]
    return ["screenshot", "video"] if item.get("video_url") else ["screenshot"]
