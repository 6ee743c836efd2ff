"""Wordings of the preference question (``vspectrum bench run --prompt-variants FILE|builtin``):
every item of a run is asked under every wording; the "why" and "describe" turns stay as they are.

A FILE is a JSON list of ``{"name": ..., "like": ...}``, checked by the one schema layer
(core/schema.py) before anything is planned: a wrong file is one sentence. ``builtin`` is
resources/prompts/wordings.json: the paper's question, English paraphrases and translations,
each with its source. A run records its wordings in the manifest (``variants``); each item
carries its wording's name (``bench_items.variant``, part of the item's key, so a resume
neither loses nor repeats work). A run without wordings has one, ``paper``: the run's own
"like" question (store.run_wordings).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vspectrum_app.core.paths import resources_dir
from vspectrum_app.core.schema import Custom, List, Obj, Str, check, read_json
from vspectrum_app.core.templates import MAX_PROMPT_CHARS

BUILTIN = "builtin"
DEFAULT = "paper"  # the wording of runs without --prompt-variants (and of rows older than the column)
MAX_WORDINGS = 50
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}"


class VariantError(Exception):
    pass


@dataclass(frozen=True)
class Wording:
    name: str
    like: str
    language: str = ""
    source: str = ""

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


def _distinct(wordings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Names are keys and equal texts would be one question asked twice: both must differ."""
    for field in ("name", "like"):
        seen: dict[str, int] = {}
        for n, w in enumerate(wordings, start=1):
            key = " ".join(w[field].split())
            if key in seen:
                raise ValueError(f"items {seen[key]} and {n} have the same {field} {w[field][:40]!r}")
            seen[key] = n
    return wordings


_NAME = Str(non_empty=True, max_len=40, pattern=NAME_PATTERN)
_LIKE = Str(non_empty=True, max_len=MAX_PROMPT_CHARS, strip=True)
FILE_SCHEMA = Custom(
    List(Obj({"name": _NAME, "like": _LIKE}, required=("name", "like")), min_items=1, max_items=MAX_WORDINGS),
    _distinct,
)
BUILTIN_SCHEMA = Obj(
    {
        "about": Str(),
        "wordings": Custom(
            List(
                Obj(
                    {"name": _NAME, "like": _LIKE, "language": Str(max_len=20), "source": Str(non_empty=True)},
                    required=("name", "like", "language", "source"),
                ),
                min_items=1,
                max_items=MAX_WORDINGS,
            ),
            _distinct,
        ),
    },
    required=("wordings",),
)


def builtin_path() -> Path:
    return resources_dir() / "prompts" / "wordings.json"


def builtin() -> list[Wording]:
    """The bundled wordings, with their language and source."""
    doc = read_json(builtin_path(), BUILTIN_SCHEMA, VariantError)
    return [Wording(**w) for w in doc["wordings"]]


def load_wordings(spec: str | Path) -> list[Wording]:
    """``builtin`` or a JSON file of ``[{"name", "like"}, ...]``; every problem is one sentence."""
    if str(spec) == BUILTIN:
        return builtin()
    doc = read_json(Path(spec), FILE_SCHEMA, VariantError)
    return [Wording(w["name"], w["like"]) for w in doc]


def check_wordings(doc: object, source: str = "wordings") -> list[Wording]:
    """Wordings given as data (the Benchmark pane's editor), checked like a file."""
    return [Wording(w["name"], w["like"]) for w in check(doc, FILE_SCHEMA, source, VariantError)]


def from_manifest(manifest: dict[str, Any]) -> list[Wording]:
    """A run's wordings in the order they were given; runs without any: one, ``paper``, the
    run's own "like" question (the paper's unless --prompts edited it)."""
    recorded = manifest.get("variants")
    if recorded:
        return [Wording(**w) for w in recorded]
    from vspectrum_app.bench.prompts import Q_LIKE

    return [Wording(DEFAULT, manifest.get("prompts", {}).get("like", Q_LIKE))]
