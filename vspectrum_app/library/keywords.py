"""Keyword sets: for each Schwartz value, the keywords that retrieve its images.

The default set ships as a versioned resource file; users add their own (JSON files with the
same shape), which are stored in the workspace so that runs can always find the set they
used. A set is identified by a stable hash of its content (values in canonical order,
keywords in the order given), so renaming a file does not change its identity and any edit
does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.core import clock
from vspectrum_app.core.paths import resources_dir
from vspectrum_app.core.values import SCHWARTZ_VALUES, canonical_value

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

DEFAULT_SET_FILE = "keywords/default-v1.json"


class KeywordSetError(Exception):
    pass


@dataclass(frozen=True)
class KeywordSet:
    name: str
    values: dict[str, tuple[str, ...]]  # canonical value name -> keywords
    version: int = 1
    description: str = ""

    @property
    def hash(self) -> str:
        canonical = [[v, list(self.values[v])] for v in SCHWARTZ_VALUES if v in self.values]
        blob = json.dumps(canonical, ensure_ascii=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def id(self) -> str:
        return f"{self.name}@{self.hash}"

    def keywords(self, value: str) -> tuple[str, ...]:
        return self.values[canonical_value(value)]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "values": {v: list(k) for v, k in self.values.items()},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any], *, source: str = "keyword set") -> "KeywordSet":
        if not isinstance(doc, dict) or not isinstance(doc.get("values"), dict):
            raise KeywordSetError(f"{source}: expected an object with a 'values' mapping of value -> keywords")
        values: dict[str, tuple[str, ...]] = {}
        for raw_value, keywords in doc["values"].items():
            try:
                value = canonical_value(raw_value)
            except ValueError as exc:
                raise KeywordSetError(f"{source}: {exc}") from None
            if (
                not isinstance(keywords, list)
                or not keywords
                or not all(isinstance(k, str) and k.strip() for k in keywords)
            ):
                raise KeywordSetError(f"{source}: '{raw_value}' needs a non-empty list of keyword strings")
            values[value] = tuple(k.strip() for k in keywords)
        if not values:
            raise KeywordSetError(f"{source}: no values")
        ordered = {v: values[v] for v in SCHWARTZ_VALUES if v in values}
        return cls(
            name=str(doc.get("name") or "unnamed"),
            values=ordered,
            version=int(doc.get("version") or 1),
            description=str(doc.get("description") or ""),
        )

    @classmethod
    def from_file(cls, path: Path) -> "KeywordSet":
        try:
            doc = json.loads(Path(path).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise KeywordSetError(f"{path}: cannot read keyword set ({exc})") from None
        doc.setdefault("name", Path(path).stem)
        return cls.from_json(doc, source=str(path))


def default_set() -> KeywordSet:
    return KeywordSet.from_file(resources_dir() / DEFAULT_SET_FILE)


def add_set(ws: Workspace, keyword_set: KeywordSet) -> KeywordSet:
    """Store a user set in the workspace (idempotent: same content, same hash)."""
    with ws.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO keyword_sets(hash, name, json, created_at) VALUES (?, ?, ?, ?)",
            (keyword_set.hash, keyword_set.name, json.dumps(keyword_set.to_json()), clock.now()),
        )
    return keyword_set


def list_sets(ws: Workspace) -> list[KeywordSet]:
    sets = [default_set()]
    for row in ws.db.execute("SELECT json FROM keyword_sets ORDER BY created_at, name"):
        sets.append(KeywordSet.from_json(json.loads(row["json"])))
    return sets


def get_set(ws: Workspace, ref: str | None = None) -> KeywordSet:
    """Find a set by name, hash, or ``name@hash``; ``None`` means the default set."""
    if not ref or ref == "default":
        return default_set()
    for ks in list_sets(ws):
        if ref in (ks.name, ks.hash, ks.id):
            return ks
    if Path(ref).is_file():
        return add_set(ws, KeywordSet.from_file(Path(ref)))
    raise KeywordSetError(f"no keyword set named {ref!r} in this workspace (see 'vspectrum library keywords')")
