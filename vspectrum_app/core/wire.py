"""A job's result over the job protocol: a frozen dataclass as JSON, and back into the same class.

Each operation (``core.operations.Operation``) names its result type, a frozen dataclass in its
part's ``ops`` module. The job child writes the result with ``to_wire`` inside its ``result``
event; the window reads it back with ``from_wire`` into that class, once, so panes get typed
objects. ``from_wire`` is strict: a missing field or a value of the wrong type raises
``WireError`` with the path to it, never a half-filled object.

Types understood: dataclasses (nested), ``int``, ``float`` (an int is accepted), ``str``,
``bool``, ``Path``, ``X | None``, ``tuple[X, ...]``, ``list[X]``, ``dict[str, X]`` and ``Any``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class WireError(ValueError):
    """A result that does not fit its declared type (``path``: where, e.g. ``coverage.values``)."""


def to_wire(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses as objects, tuples as lists, paths as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def from_wire(cls: type[T], data: Any) -> T:
    """``data`` (what ``to_wire`` wrote) as an instance of the dataclass ``cls``."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass")
    value: T = _read(cls, data, cls.__name__)
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _read(kind: Any, data: Any, path: str) -> Any:
    if kind is Any:
        return data
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if isinstance(kind, types.UnionType) or origin is typing.Union:
        if data is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"{path}: only X | None unions are supported")
        return _read(options[0], data, path)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise WireError(f"{path}: expected an object, got {_name(data)}")
        hints = _HINTS.get(kind)
        if hints is None:
            hints = _HINTS[kind] = typing.get_type_hints(kind)
        values = {}
        for f in dataclasses.fields(kind):
            if f.name in data:
                values[f.name] = _read(hints[f.name], data[f.name], f"{path}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise WireError(f"{path}: the field {f.name} is missing")
        return kind(**values)  # fields this version does not know are left out: a newer child
    if origin in (tuple, list):
        if not isinstance(data, list):
            raise WireError(f"{path}: expected a list, got {_name(data)}")
        item = args[0] if args else Any
        items = [_read(item, v, f"{path}[{i}]") for i, v in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(data, dict):
            raise WireError(f"{path}: expected an object, got {_name(data)}")
        item = args[1] if args else Any
        return {k: _read(item, v, f"{path}.{k}") for k, v in data.items()}
    if kind is float:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return float(data)
    elif kind is Path:
        if isinstance(data, str):
            return Path(data)
    elif kind in (int, str, bool):
        if isinstance(data, kind) and (kind is bool or not isinstance(data, bool)):
            return data
    else:
        raise TypeError(f"{path}: the type {kind!r} cannot be read from the wire")
    raise WireError(f"{path}: expected {getattr(kind, '__name__', kind)}, got {_name(data)}")


def _name(data: Any) -> str:
    return "nothing" if data is None else f"{type(data).__name__} {data!r}"[:80]
