"""The persona library: shipped personas, imports of Persona-Chat and plain-list files, and
the user's own, kept in the workspace so sessions can always show the persona they used.

A persona is 4-5 first-person statements (Persona-Chat style); it may declare the Schwartz
values or content topics it is meant to pull a feed towards, which the metrics compare with
what the recommender learnt.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.core import clock
from vspectrum_app.core.paths import resources_dir
from vspectrum_app.core.schema import MAX_FILE_BYTES, Anything, Custom, List, Obj, Optional, Str, check, parse_json
from vspectrum_app.core.values import SCHWARTZ_VALUES, canonical_value

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

BUILTIN_FILE = "personas/default.json"

MIGRATIONS: list[str] = [
    """
    CREATE TABLE personas (
        id          TEXT PRIMARY KEY,      -- content hash of the statements
        name        TEXT NOT NULL UNIQUE,
        json        TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    """,
]


class PersonaError(Exception):
    pass


@dataclass(frozen=True)
class Persona:
    name: str
    statements: tuple[str, ...]
    values: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""
    builtin: bool = field(default=False, compare=False)

    @property
    def id(self) -> str:
        """Identity is the statements: renaming or re-tagging keeps it, editing a statement changes it."""
        return hashlib.sha256("\n".join(self.statements).encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "statements": list(self.statements),
            "values": list(self.values),
            "topics": list(self.topics),
            "tags": list(self.tags),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, doc: object, *, builtin: bool = False, source: str = "persona") -> "Persona":
        """A persona from its JSON form, checked against ``PERSONA_SCHEMA``; blank statements are dropped."""
        fields: dict[str, Any] = check(doc, PERSONA_SCHEMA, source, PersonaError)
        statements = tuple(s.strip() for s in fields["statements"] if s.strip())
        if not statements:
            raise PersonaError(f"{source}: persona {fields.get('name')!r} has no statements")
        return cls(
            name=(fields.get("name") or "").strip() or f"persona {statements[0][:30]}",
            statements=statements,
            values=tuple(fields.get("values") or ()),
            topics=tuple(fields.get("topics") or ()),
            tags=tuple(fields.get("tags") or ()),
            source=fields.get("source") or "",
            builtin=builtin,
        )


# What a persona may hold: Persona-Chat personas have 4-5 short statements; the limits keep a
# hostile file from turning into a prompt of megabytes.
MAX_STATEMENTS, MAX_STATEMENT_CHARS = 50, 1000
_NAMES = List(Str(max_len=200), max_items=200)
PERSONA_SCHEMA = Obj(
    {
        "name": Optional(Str(max_len=200)),
        "statements": List(Str(max_len=MAX_STATEMENT_CHARS), min_items=1, max_items=MAX_STATEMENTS),
        "values": Optional(List(Custom(Str(max_len=100), canonical_value), max_items=len(SCHWARTZ_VALUES))),
        "topics": Optional(_NAMES),
        "tags": Optional(_NAMES),
        "source": Optional(Str(max_len=1000)),
    },
    required=("statements",),
)
PERSONA_FILE_SCHEMA = Obj(
    {"personas": List(Anything(), max_items=100_000), "version": Anything(), "description": Anything()},
    required=("personas",),
)


def _stored(doc: dict[str, Any]) -> Persona:
    """A persona the library wrote itself (``Persona.to_json``): taken as it is, so that one saved
    by an older version with laxer limits stays usable."""
    return Persona(
        name=doc["name"],
        statements=tuple(doc["statements"]),
        values=tuple(doc.get("values", ())),
        topics=tuple(doc.get("topics", ())),
        tags=tuple(doc.get("tags", ())),
        source=doc.get("source", ""),
    )


def builtin_personas() -> list[Persona]:
    doc = json.loads((resources_dir() / BUILTIN_FILE).read_text("utf-8"))
    return [Persona.from_json(p, builtin=True) for p in doc["personas"]]


# -- imports ---------------------------------------------------------------------------------

_PERSONA_CHAT_LINE = re.compile(r"^\s*(?:\d+\s+)?your persona:\s*(.+?)\s*$", re.IGNORECASE)


def parse_persona_chat(text: str, *, name_prefix: str = "Persona-Chat") -> list[Persona]:
    """Persona-Chat files: dialogues whose 'your persona: ...' lines (optionally numbered, as in
    the ParlAI release) describe one persona; a run of such lines is one persona. Identical
    personas (the same one recurs across dialogues) are kept once."""
    personas: list[Persona] = []
    seen: set[tuple[str, ...]] = set()
    current: list[str] = []

    def flush() -> None:
        statements = tuple(current)
        current.clear()
        if statements and statements not in seen:
            seen.add(statements)
            personas.append(
                Persona(
                    name=f"{name_prefix} {len(personas) + 1}",
                    statements=statements,
                    source="Persona-Chat import",
                    tags=("persona-chat",),
                )
            )

    for line in text.splitlines():
        match = _PERSONA_CHAT_LINE.match(line)
        if match:
            statement = match.group(1).rstrip(".").strip()
            if statement:
                current.append(statement)
        elif current:
            flush()
    flush()
    return personas


def parse_plain_list(text: str, *, name_prefix: str = "Imported") -> list[Persona]:
    """Plain lists: one statement per line, a blank line between personas. A line '# Name'
    names the persona that follows; '-', '*' or '1.' bullets are stripped."""
    personas: list[Persona] = []
    name: str | None = None
    current: list[str] = []

    def flush() -> None:
        nonlocal name
        if current:
            personas.append(
                Persona(
                    name=name or f"{name_prefix} {len(personas) + 1}", statements=tuple(current), source="list import"
                )
            )
        current.clear()
        name = None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#"):
            flush()
            name = line.lstrip("#").strip() or None
        else:
            current.append(re.sub(r"^(?:[-*\u2022]|\d+[.):])\s*", "", line))
    flush()
    return personas


def parse_file(path: Path) -> list[Persona]:
    """Recognises Persona-Chat text, a JSON file in the shipped format (or a list of personas),
    or a plain list. A file with any wrong persona is refused whole, naming the first problem."""
    name = Path(path).name
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PersonaError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise PersonaError(f"{name}: larger than {MAX_FILE_BYTES // 1_000_000} MB, not a persona file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PersonaError(f"{name}: not UTF-8 text") from None
    if text.lstrip().startswith(("{", "[")):
        doc = parse_json(text, name, PersonaError)
        items = check(doc, PERSONA_FILE_SCHEMA, name, PersonaError)["personas"] if isinstance(doc, dict) else doc
        return [Persona.from_json(p, source=f"{name}: persona {n}") for n, p in enumerate(items, 1)]
    if re.search(r"your persona:", text, re.IGNORECASE):
        personas = parse_persona_chat(text, name_prefix=Path(path).stem)
    else:
        personas = parse_plain_list(text, name_prefix=Path(path).stem)
    # the same limits as JSON personas (a 10 MB line is not a statement)
    return [Persona.from_json(p.to_json(), source=f"{name}: persona {n}") for n, p in enumerate(personas, 1)]


# -- the workspace's persona library ------------------------------------------------------------


class PersonaLibrary:
    def __init__(self, ws: Workspace):
        self.ws = ws
        ws.ensure_schema("persona_library", MIGRATIONS)

    def all(self) -> list[Persona]:
        stored = [_stored(json.loads(r["json"])) for r in self.ws.db.execute("SELECT json FROM personas ORDER BY name")]
        stored_names = {p.name for p in stored}
        return [p for p in builtin_personas() if p.name not in stored_names] + stored

    def get(self, ref: str) -> Persona:
        for persona in self.all():
            if ref in (persona.name, persona.id):
                return persona
        raise PersonaError(f"no persona named {ref!r} (see 'vspectrum persona list')")

    def save(self, persona: Persona, *, replace_name: str | None = None) -> Persona:
        """Add or edit (``replace_name``: the name it had). A name clash with another persona is refused."""
        twin = next((p for p in self.all() if p.id == persona.id and p.name not in (persona.name, replace_name)), None)
        if twin is not None:  # a persona is its statements: a second name for them would be the same persona
            raise PersonaError(f"{twin.name!r} has these statements already; change one to make a new persona")
        now = clock.now()
        with self.ws.transaction() as conn:
            clash = conn.execute("SELECT id FROM personas WHERE name = ?", (persona.name,)).fetchone()
            shipped = any(p.name == persona.name for p in builtin_personas())
            if (clash or shipped) and persona.name != replace_name:  # editing keeps the name; adding may not hide one
                raise PersonaError(f"a persona named {persona.name!r} exists already")
            if replace_name:
                conn.execute("DELETE FROM personas WHERE name = ?", (replace_name,))
            conn.execute(
                "INSERT INTO personas(id, name, json, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET id = excluded.id, json = excluded.json, updated_at = excluded.updated_at",
                (persona.id, persona.name, json.dumps(persona.to_json(), ensure_ascii=False), now, now),
            )
        return replace(persona, builtin=False)

    def import_file(self, path: Path) -> list[Persona]:
        added = []
        existing = {p.id for p in self.all()}
        taken = {p.name for p in self.all()}
        for persona in parse_file(path):
            if persona.id in existing:
                continue  # the same statements are already in the library
            name, n = persona.name, 2
            while name in taken:
                name, n = f"{persona.name} ({n})", n + 1
            added.append(self.save(replace(persona, name=name)))
            existing.add(persona.id)
            taken.add(name)
        return added

    def delete(self, name: str) -> None:
        with self.ws.transaction() as conn:
            if conn.execute("DELETE FROM personas WHERE name = ?", (name,)).rowcount == 0:
                if any(p.name == name for p in builtin_personas()):
                    raise PersonaError(f"{name!r} ships with the app and cannot be deleted (edit a copy instead)")
                raise PersonaError(f"no persona named {name!r}")
