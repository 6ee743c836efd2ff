"""The one schema layer for files that come from outside (annotation exports, persona files,
prompt files, selector overrides, provider and settings files, metadata CSV rows).

A schema is declared with the small types below and ``check`` walks a decoded document
against it. The first problem stops the walk and becomes one sentence that says where it is
and what was expected, e.g. ``answers.json: field 'answers', item 3, field 'answer':
expected one of yes, no, not_sure, got 'maybe'``. Callers check a whole file before they
write anything, so a wrong file is refused whole and nothing is half-imported.

Plain Python instead of a validation library: the rules fit in a page, and the messages are
exactly the sentence the user reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

MAX_FILE_BYTES = 50_000_000  # no file the app reads is legitimately larger


# Where a value sits in a document: field names and (0-based) item indexes.
Loc = tuple[str | int, ...]


class SchemaError(Exception):
    """A file or value does not match its schema; the message is the one sentence to show."""


def show(value: Any) -> str:
    """A short, safe rendering of what was found."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


class Spec:
    """A schema node: ``check`` returns the (possibly normalised) value or raises ``Problem``."""

    def check(self, value: Any, path: Loc) -> Any:
        raise NotImplementedError


class Problem(Exception):
    def __init__(self, path: Loc, message: str) -> None:
        self.path, self.message = path, message


def _fail(path: Loc, expected: str, value: Any) -> NoReturn:
    raise Problem(path, f"expected {expected}, got {show(value)}")


@dataclass(frozen=True)
class Str(Spec):
    max_len: int = 10_000
    non_empty: bool = False
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    strip: bool = False

    def check(self, value: Any, path: Loc) -> Any:
        if not isinstance(value, str):
            _fail(path, "one of " + ", ".join(self.choices) if self.choices else "text", value)
        if self.strip:
            value = value.strip()
        if self.choices and value not in self.choices:
            _fail(path, "one of " + ", ".join(self.choices), value)
        if self.non_empty and not value.strip():
            _fail(path, "non-empty text", value)
        if len(value) > self.max_len:
            raise Problem(path, f"text of at most {self.max_len:,} characters expected, got {len(value):,}")
        if self.pattern and not re.fullmatch(self.pattern, value):
            _fail(path, f"text matching {self.pattern}", value)
        return value


@dataclass(frozen=True)
class Int(Spec):
    min: int | None = None
    max: int | None = None

    def check(self, value: Any, path: Loc) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(path, "a whole number", value)
        _range(value, self.min, self.max, path)
        return value


@dataclass(frozen=True)
class Num(Spec):
    min: float | None = None
    max: float | None = None

    def check(self, value: Any, path: Loc) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            _fail(path, "a number", value)
        _range(value, self.min, self.max, path)
        return value


def _range(value: float, low: float | None, high: float | None, path: Loc) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (
            f"from {low} to {high}"
            if low is not None and high is not None
            else f"at least {low}"
            if low is not None
            else f"at most {high}"
        )
        _fail(path, f"a number {bounds}", value)


@dataclass(frozen=True)
class Bool(Spec):
    def check(self, value: Any, path: Loc) -> Any:
        if not isinstance(value, bool):
            _fail(path, "true or false", value)
        return value


@dataclass(frozen=True)
class Optional(Spec):
    inner: Spec

    def check(self, value: Any, path: Loc) -> Any:
        return None if value is None else self.inner.check(value, path)


@dataclass(frozen=True)
class Anything(Spec):
    def check(self, value: Any, path: Loc) -> Any:
        return value


@dataclass(frozen=True)
class List(Spec):
    item: Spec
    max_items: int = 1_000_000
    min_items: int = 0

    def check(self, value: Any, path: Loc) -> Any:
        if not isinstance(value, list):
            _fail(path, "a list", value)
        if not self.min_items <= len(value) <= self.max_items:
            raise Problem(path, f"expected a list of {self.min_items} to {self.max_items:,} items, got {len(value):,}")
        return [self.item.check(v, path + (i,)) for i, v in enumerate(value)]


@dataclass(frozen=True)
class Map(Spec):
    """An object whose keys are names chosen by the user (selector fields, flags)."""

    value: Spec
    key: Spec = Str(max_len=200, non_empty=True)
    max_items: int = 1000

    def check(self, value: Any, path: Loc) -> Any:
        if not isinstance(value, Mapping):
            _fail(path, "an object", value)
        if len(value) > self.max_items:
            raise Problem(path, f"expected at most {self.max_items} entries, got {len(value):,}")
        return {self.key.check(k, path): self.value.check(v, path + (str(k),)) for k, v in value.items()}


@dataclass(frozen=True)
class Obj(Spec):
    """An object with declared fields. ``required`` fields must be present; unknown fields are
    refused (``extra='refuse'``, catches typos), dropped (``'drop'``) or kept as they are (``'keep'``)."""

    fields: dict[str, Spec]
    required: tuple[str, ...] = ()
    extra: str = "refuse"
    rule: Callable[[dict[str, Any]], str | None] | None = field(default=None, compare=False)

    def check(self, value: Any, path: Loc) -> Any:
        if not isinstance(value, Mapping):
            _fail(path, "an object", value)
        for name in self.required:
            if name not in value:
                raise Problem(path + (name,), "is missing")
        out: dict[str, Any] = {}
        for name, v in value.items():
            spec = self.fields.get(name)
            if spec is None:
                if self.extra == "refuse":
                    raise Problem(path + (str(name),), "is not a known field (known: " + ", ".join(self.fields) + ")")
                if self.extra == "keep":
                    out[name] = v
                continue
            out[name] = spec.check(v, path + (name,))
        if self.rule and (message := self.rule(out)):
            raise Problem(path, message)
        return out


@dataclass(frozen=True)
class Custom(Spec):
    """A value checked by a function returning the value or raising ``ValueError`` (its message
    says what is wrong, e.g. an invalid regular expression)."""

    inner: Spec
    func: Callable[[Any], Any] = field(compare=False)

    def check(self, value: Any, path: Loc) -> Any:
        value = self.inner.check(value, path)
        try:
            return self.func(value)
        except ValueError as exc:
            raise Problem(path, str(exc)) from None


def where(path: Loc) -> str:
    """``('answers', 2, 'answer')`` -> ``field 'answers', item 3, field 'answer'`` (items count from 1)."""
    return ", ".join(f"item {p + 1}" if isinstance(p, int) else f"field {p!r}" for p in path)


def check(value: Any, spec: Spec, source: str, error: type[Exception] = SchemaError) -> Any:
    """The value checked against ``spec``; a mismatch raises ``error`` with one sentence that
    starts with ``source`` (the file name) and the location of the first problem."""
    try:
        return spec.check(value, ())
    except Problem as p:
        location = where(p.path)
        raise error(f"{source}: {location + ': ' if location else ''}{p.message}") from None
    except RecursionError:
        raise error(f"{source}: nested too deeply") from None


def read_json(path: Path, spec: Spec, error: type[Exception] = SchemaError, *, name: str | None = None) -> Any:
    """Read a JSON file and check it; every way it can be wrong is ``error`` with one sentence."""
    source = name or Path(path).name
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise error(f"{source}: larger than {MAX_FILE_BYTES // 1_000_000} MB, not a file this app writes")
    return check(parse_json(data, source, error), spec, source, error)


def parse_json(data: bytes | str, source: str, error: type[Exception] = SchemaError) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise error(f"{source}: not UTF-8 text") from None
    except RecursionError:
        raise error(f"{source}: nested too deeply") from None
    except ValueError as exc:
        raise error(f"{source}: not valid JSON ({exc})") from None
