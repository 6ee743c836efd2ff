"""What the simulated platform serves: a catalogue of items built from a folder of images
or from a workspace.

Each item keeps the image it came from (its content hash), an author, a caption, a post
date and its topics; and a unit *topic vector* that the recommender works in: the item's
CLIP embedding when every item has one, else a multi-hot vector of its topics (with a small
per-item component so that untagged items are not all alike).

Topics come from the folder an image sits in (``root/Universalism/x.jpg``), or, in a
workspace, from a ``topics``/``tags``/``topic``/``value`` metadata column.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from vspectrum_app.library import catalog as library_catalog
from vspectrum_app.library import images

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace


TOPIC_KEYS = ("topics", "tags", "topic", "value", "values")
_EPOCH = date(2024, 1, 1)  # synthetic post dates fall in the two years after this day
_SPLIT = re.compile(r"[;,|#]+")


class CatalogError(Exception):
    pass


@dataclass
class Item:
    key: str  # the image's sha256: the item's identity
    path: Path
    ext: str
    author: str
    caption: str
    post_date: str  # ISO date
    topics: list[str]
    vector: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.float32))

    # Platform-style identifiers, derived from the key so that every URL is stable.
    @property
    def tiktok_id(self) -> str:
        """TikTok video ids carry the post time in their upper 32 bits; so do ours."""
        ts = int(datetime.fromisoformat(self.post_date).replace(tzinfo=timezone.utc).timestamp()) + 36_000
        return str((ts << 32) | int(self.key[:8], 16))

    @property
    def youtube_id(self) -> str:
        return base64.urlsafe_b64encode(bytes.fromhex(self.key[:16])).decode()[:11]

    @property
    def instagram_code(self) -> str:
        return "C" + base64.urlsafe_b64encode(bytes.fromhex(self.key[16:32])).decode()[:10]

    def public(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "author": self.author,
            "caption": self.caption,
            "post_date": self.post_date,
            "topics": self.topics,
            "tiktok_id": self.tiktok_id,
            "youtube_id": self.youtube_id,
            "instagram_code": self.instagram_code,
        }


class Catalog:
    def __init__(self, items: list[Item]):
        if not items:
            raise CatalogError("the simulated platform needs at least one image to serve")
        self.items = items
        self.by_key = {it.key: it for it in items}
        self._by_public_id: dict[str, Item] = {}
        for it in items:
            for pid in (it.tiktok_id, it.youtube_id, it.instagram_code):
                self._by_public_id[pid] = it
        self.topics = sorted({t for it in items for t in it.topics})
        self.matrix = np.stack([it.vector for it in items]).astype(np.float32)

    def __len__(self) -> int:
        return len(self.items)

    def find(self, public_id: str) -> Item | None:
        return self._by_public_id.get(public_id) or self.by_key.get(public_id)

    # -- building -----------------------------------------------------------------------
    @classmethod
    def from_folder(cls, root: Path | str) -> "Catalog":
        """Every JPEG/PNG/WebP under ``root``; the sub-folder names are its topics."""
        from vspectrum_app.library.importer import IMAGE_SUFFIXES

        root = Path(root)
        if not root.is_dir():
            raise CatalogError(f"{root} is not a folder of images")
        rows: list[tuple[str, Path, str, dict[str, str], list[str]]] = []
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
            try:
                info = images.inspect(images.read_image_file(path))  # stat first: no giant, FIFO or device
            except (OSError, images.BadImage):
                continue  # the catalogue serves only what a browser can show
            topics = [part for part in path.relative_to(root).parent.parts if part]
            rows.append((info.sha256, path, info.ext, {}, topics))
        return cls(_make_items(rows, vectors=None))

    @classmethod
    def from_workspace(cls, ws: Workspace) -> "Catalog":
        """Every unflagged image of a workspace, with its metadata and (when all have one)
        its CLIP embedding from the model that embedded the most images."""
        rows, ids = [], []
        for r in library_catalog.unflagged_images(ws):
            topics = _topics_from(r.extra)
            meta = {"author": r.author, "caption": r.caption, "post_date": r.post_date, "id": r.id}
            rows.append((r.sha256, ws.image_path(r.sha256, r.ext), r.ext, meta, topics))
            ids.append(r.id)
        return cls(_make_items(rows, vectors=_workspace_vectors(ws, ids)))


def _topics_from(extra: dict[str, Any]) -> list[str]:
    for key, value in extra.items():
        if key.strip().lower() in TOPIC_KEYS and value:
            return [t.strip() for t in _SPLIT.split(str(value)) if t.strip()]
    return []


def _workspace_vectors(ws: Workspace, ids: list[int]) -> dict[int, np.ndarray] | None:
    best = library_catalog.most_embedded_model(ws)
    if best is None or best[1] < len(ids):
        return None
    vectors = library_catalog.vectors(ws, best[0])
    return vectors if all(i in vectors for i in ids) else None


def _make_items(rows: Iterable[tuple[Any, ...]], vectors: dict[int, np.ndarray] | None) -> list[Item]:
    seen: set[str] = set()
    unique = []
    for r in rows:  # the same picture twice is one item
        if r[0] not in seen:
            seen.add(r[0])
            unique.append(r)
    topics = sorted({t for r in unique for t in r[4]})
    items = []
    for sha, path, ext, meta, item_topics in unique:
        h = int(sha[:12], 16)
        post = meta.get("post_date") or (_EPOCH + timedelta(days=h % 730)).isoformat()
        author = meta.get("author") or f"creator_{h % 9973:04d}"
        caption = meta.get("caption") or " ".join(f"#{t.lower()}" for t in item_topics) or "#fyp"
        if vectors is not None:
            vec = vectors[meta["id"]]
        else:
            vec = _topic_vector(sha, item_topics, topics)
        items.append(Item(sha, Path(path), ext, author, caption, post, list(item_topics), _unit(vec)))
    return items


def _topic_vector(sha: str, item_topics: list[str], all_topics: list[str]) -> np.ndarray:
    """Multi-hot over the catalogue's topics, plus a small item-specific part (seeded by the
    item's hash) so that the recommender can still tell untagged items apart."""
    hot = np.array([1.0 if t in item_topics else 0.0 for t in all_topics], dtype=np.float32)
    own = np.random.default_rng(int(sha[:16], 16)).standard_normal(8).astype(np.float32)
    return np.concatenate([hot, 0.25 * own / np.linalg.norm(own)])


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v
