"""Operations as data: a job's parameters are a frozen dataclass, and its command line is derived from it.

Each part lists the operations the window starts as jobs in its ``ops`` module: one
``Operation`` subclass per command, whose fields carry their command-line spelling in
``option(...)`` metadata. From that one declaration

- ``add_parser`` builds the command's argparse options (the ``vspectrum`` CLI),
- ``from_args`` turns the parsed options back into the dataclass, and
- ``to_argv`` writes the command line a job child is started with (``gui.jobs``),

so the window and the CLI cannot disagree on a flag's name: renaming one renames both.
What a user leaves unset may default to their settings: the entry points (the cli modules,
the window) pass ``Settings.as_dict()`` to ``with_settings``, which asks each options group
(``Options.from_settings``); past that a job does what its parameters say, whatever the
settings file holds (tests/test_settings_boundary.py).
Field types say how a value is parsed: ``int``, ``float``, ``str``, ``Path``, ``bool`` (a
switch), a ``tuple[...]`` (a repeated option or several values), ``X | None`` (optional), or
another ``Options`` dataclass (a group of options several commands share, flattened).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from vspectrum_app.core import events, wire

T = TypeVar("T", bound="Options")


def option(
    flag: str | None = None,
    *,
    default: Any = None,
    help: str | None = None,  # noqa: A002 (argparse's name)
    choices: tuple[str, ...] | None = None,
    metavar: str | None = None,
    repeat: bool = False,
    nargs: str | None = None,
    positional: bool = False,
    required: bool = False,
    group: str | None = None,
    const: str | None = None,
) -> Any:
    """A dataclass field that is a command-line option (``flag``) or, with ``positional``, an
    argument. ``repeat``: the option may be given several times (a tuple field); ``nargs``:
    one option takes several values ("+"); ``group``: the title it is listed under in --help;
    ``const``: the flag may be given without a value, which then is ``const``."""
    meta = {
        "flag": flag,
        "help": help,
        "choices": choices,
        "metavar": metavar,
        "repeat": repeat,
        "nargs": nargs,
        "positional": positional,
        "required": required,
        "group": group,
        "const": const,
    }
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def argument(*, help: str | None = None, metavar: str | None = None, nargs: str | None = None) -> Any:  # noqa: A002
    """A required positional argument (``nargs="+"``: one or more, a tuple field)."""
    return field(
        metadata={
            "flag": None,
            "help": help,
            "choices": None,
            "metavar": metavar,
            "repeat": False,
            "nargs": nargs,
            "positional": True,
            "required": True,
            "group": None,
            "const": None,
        }
    )


@dataclass(frozen=True)
class Options:
    """A group of command-line options (base of ``Operation``; also shared groups)."""

    group_title: ClassVar[str | None] = None  # an argparse group's title, for shared groups

    def from_settings(self, settings: Mapping[str, Any]) -> Self:
        """These options with what they leave unset taken from the user's ``settings``
        (``Settings.as_dict()``); groups whose defaults are settings override it."""
        return self


@dataclass(frozen=True)
class Operation(Options):
    """The parameters of one ``vspectrum`` command; ``command`` is its words, e.g. ("bench", "run").

    What its job sends back besides progress, logs and its error: ``result_type``, the frozen
    dataclass its ``result`` event carries (None: it has no result), and ``event_types``, the
    part's events it emits (``core.events``). ``decode_line`` reads a job's lines against them."""

    command: ClassVar[tuple[str, ...]] = ()
    result_type: ClassVar[type[Any] | None] = None
    event_types: ClassVar[tuple[type[events.Event], ...]] = ()


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], cls: type[Operation], **kwargs: Any
) -> argparse.ArgumentParser:
    """The command's subparser (named by the last word of ``cls.command``) with its options."""
    parser: argparse.ArgumentParser = sub.add_parser(cls.command[-1], **kwargs)
    add_arguments(parser, cls)
    return parser


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type[Options]) -> None:
    hints = _hints(cls)
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if _is_options(kind):
            add_arguments(parser.add_argument_group(kind.group_title) if kind.group_title else parser, kind)
            continue
        m = f.metadata
        if m["group"]:
            if m["group"] not in groups:
                groups[m["group"]] = parser.add_argument_group(m["group"])
            _add_one(groups[m["group"]], f, kind)
        else:
            _add_one(parser, f, kind)


def _add_one(parser: argparse.ArgumentParser | argparse._ArgumentGroup, f: dataclasses.Field[Any], kind: Any) -> None:
    m = f.metadata
    base, optional = _base(kind)
    kwargs: dict[str, Any] = {"help": m["help"]}
    if m["required"] and not m["positional"]:
        kwargs["required"] = True
    if m["metavar"]:
        kwargs["metavar"] = m["metavar"]
    if m["choices"]:
        kwargs["choices"] = m["choices"]
    if m["positional"]:
        if m["nargs"]:
            kwargs["nargs"] = m["nargs"]
        elif optional:
            kwargs["nargs"] = "?"
        parser.add_argument(f.name, type=_element(kind), **kwargs)
        return
    kwargs["dest"] = f.name
    if base is bool:
        parser.add_argument(m["flag"], action="store_true", default=f.default, **kwargs)
    elif m["repeat"]:
        default = list(f.default) if isinstance(f.default, tuple) else None  # argparse appends to a copy
        parser.add_argument(m["flag"], action="append", type=_element(kind), default=default, **kwargs)
    else:
        if m["nargs"]:
            kwargs["nargs"] = m["nargs"]
        if m["const"] is not None:
            kwargs.update(nargs="?", const=m["const"])
        parser.add_argument(m["flag"], type=_element(kind), default=f.default, **kwargs)


def from_args(cls: type[T], args: argparse.Namespace) -> T:
    """The parsed command line as ``cls``."""
    hints = _hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if _is_options(kind):
            values[f.name] = from_args(kind, args)
            continue
        value = getattr(args, f.name)
        if isinstance(value, list):
            value = tuple(value)
        elif value is None and f.default is not MISSING and f.default is not None:
            value = f.default  # a repeated option given no time
        values[f.name] = value
    return cls(**values)


def with_settings(params: T, settings: Mapping[str, Any]) -> T:
    """``params`` with every group's unset options taken from ``settings`` (see the module's note)."""
    nested = {
        f.name: with_settings(value, settings)
        for f in dataclasses.fields(params)
        if isinstance(value := getattr(params, f.name), Options)
    }
    return (dataclasses.replace(params, **nested) if nested else params).from_settings(settings)


# the events every job may send, whatever its operation
COMMON_EVENTS: tuple[type[events.Event], ...] = (events.Progress, events.Log, events.Error, events.Result)


def decode_line(op: type[Operation], line: str) -> events.Event:
    """One line of ``op``'s job child as the typed event the window acts on, the one decoder of
    the window side (``gui.jobs``): a ``Result`` whose ``data`` is an ``op.result_type``; a line
    that is not an event, ``Output``. A line that cannot be read, of an unknown type or of a
    type ``op`` does not send is ``Garbled`` with the reason; a result that does not fit its
    type is the job's ``Error``. Never raises: a child's bad line must not take the window down."""
    event = events.decode(line)
    match event:
        case events.Output() | events.Garbled():
            return event
        case events.Unknown(kind=kind):
            return events.Garbled(t=event.t, line=line, reason=f"an event of unknown type {kind!r}")
        case events.Result(data=data):
            if op.result_type is None:
                return events.Garbled(t=event.t, line=line, reason=f"a result from {_words(op)}, which has none")
            try:
                return events.Result(t=event.t, data=wire.from_wire(op.result_type, data))
            except wire.WireError as exc:
                return events.Error(t=event.t, message=f"the result of {_words(op)} could not be read ({exc})")
    if not isinstance(event, COMMON_EVENTS + op.event_types):
        return events.Garbled(
            t=event.t, line=line, reason=f"an event of type {event.type!r}, which {_words(op)} does not send"
        )
    return event


def _words(op: type[Operation]) -> str:
    return "`" + " ".join(op.command) + "`"


# ``vspectrum``'s global options that a job child is started with (cli.build_parser declares them)
WORKSPACE_FLAG = "--workspace"
EVENTS_FLAG = "--events"


def job_argv(params: Operation, workspace: str | None) -> list[str]:
    """A job child's command line: JSON-lines events, the workspace, then the operation."""
    return [EVENTS_FLAG, *([WORKSPACE_FLAG, workspace] if workspace else []), *to_argv(params)]


def to_argv(params: Operation) -> list[str]:
    """The command line (after ``vspectrum``'s global options) that ``from_args`` reads back as ``params``."""
    positional, options = _tokens(params)
    return [*params.command, *positional, *options]


def _tokens(params: Options) -> tuple[list[str], list[str]]:
    hints = _hints(type(params))
    positional: list[str] = []
    options: list[str] = []
    for f in dataclasses.fields(params):
        value, kind, m = getattr(params, f.name), hints[f.name], f.metadata
        if _is_options(kind):
            p, o = _tokens(value)
            positional += p
            options += o
            continue
        if m["positional"]:
            positional += (
                [_text(v) for v in value] if isinstance(value, tuple) else [] if value is None else [_text(value)]
            )
            continue
        if value is None or value == f.default:
            continue  # the parser's default gives it back
        if value is True:
            options.append(m["flag"])
        elif value is False:
            raise ValueError(f"{f.name}: a switch can only be turned on from the command line")
        elif m["repeat"]:
            for v in value:
                options.append(f"{m['flag']}={_text(v)}")
        elif m["nargs"]:
            options += [m["flag"], *(_text(v) for v in value)] if value else []
        elif value == m["const"]:
            options.append(m["flag"])
        else:
            options.append(f"{m['flag']}={_text(value)}")  # '=': a value starting with '-' stays a value
    return positional, options


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _is_options(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Options)


def _base(kind: Any) -> tuple[Any, bool]:
    """(the type without ``| None``, whether None is allowed)."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(kind))
    return kind, False


def _element(kind: Any) -> Any:
    """The type argparse converts each value to."""
    base, _ = _base(kind)
    if typing.get_origin(base) is tuple:
        base = typing.get_args(base)[0]
    return base if base in (int, float, Path) else None
