"""The typed job contract (core.operations.decode_line, core.wire): every operation declares its
result type and the part events it sends; each survives the wire into the same typed instance,
and a line the window cannot use is a clear Garbled or Error event, never an exception."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.operations import all_operations

from vspectrum_app.core import events, wire
from vspectrum_app.core.operations import decode_line


OPERATIONS = all_operations()


def _sample(kind: Any, n: int = 3) -> Any:
    """A value of the declared type ``kind``, every optional part filled in."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if isinstance(kind, types.UnionType) or origin is typing.Union:
        return _sample(next(a for a in args if a is not type(None)), n)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _sample(hints[f.name], n + i) for i, f in enumerate(dataclasses.fields(kind))})
    if origin in (tuple, list):
        return origin([_sample(args[0], n), _sample(args[0], n + 1)])
    if origin is dict:
        return {"Power": _sample(args[1], n), "Hedonism": _sample(args[1], n + 1)}
    if kind is Any:  # free-form data (an estimate's per-provider table): any JSON
        return {"calls": n, "note": f"text {n}"}
    return {int: n, float: n + 0.25, str: f"text {n}", bool: n % 2 == 1, Path: Path(f"/tmp/{n}")}[kind]


def _line(event: events.Event) -> str:
    """The line a job child writes for ``event`` (a result's data as the CLI writes it)."""
    if isinstance(event, events.Result):
        event = events.Result(t=event.t, data=wire.to_wire(event.data))
    return events.encode(event)


def test_every_operation_declares_a_frozen_result_type():
    assert len(OPERATIONS) >= 12
    for op in OPERATIONS:
        assert op.result_type is not None, op
        assert dataclasses.is_dataclass(op.result_type), op
        assert op.result_type.__dataclass_params__.frozen, op  # type: ignore[attr-defined]


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: " ".join(op.command))
def test_the_result_survives_the_wire_as_its_type(op):
    result = _sample(op.result_type)
    decoded = decode_line(op, _line(events.Result(t=1.5, data=result)))
    assert decoded == events.Result(t=1.5, data=result)
    assert type(decoded.data) is op.result_type


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: " ".join(op.command))
def test_each_declared_event_survives_the_wire(op):
    for cls in op.event_types:
        hints = typing.get_type_hints(cls)
        event = cls(t=2.0, **{f.name: _sample(hints[f.name]) for f in dataclasses.fields(cls) if f.name != "t"})
        assert decode_line(op, _line(event)) == event, cls


def test_lines_the_window_cannot_use_are_said_not_raised():
    from vspectrum_app.crawl.ops import Crawl
    from vspectrum_app.library.ops import Import

    def reason(op, line) -> str:
        decoded = decode_line(op, line)
        assert isinstance(decoded, events.Garbled), decoded
        return decoded.reason

    assert "not JSON" in reason(Crawl, '{"type": "capture", "outcome": ')
    assert "unknown type 'newer_kind'" in reason(Crawl, json.dumps({"v": 1, "type": "newer_kind"}))
    answer = events.Answer(target="lab:m1", value="Power", answer_class="yes")
    assert "an event of type 'answer', which `crawl` does not send" in reason(Crawl, events.encode(answer))
    # a result that does not fit its type: the job's error, with where it went wrong
    bad = decode_line(Import, json.dumps({"v": 1, "type": "result", "data": {"added": "3"}}))
    assert isinstance(bad, events.Error)
    assert bad.message.startswith("the result of `library import` could not be read (Imported.added: expected int")
    missing = decode_line(Import, json.dumps({"v": 1, "type": "result", "data": {"added": 3}}))
    assert isinstance(missing, events.Error) and "the field duplicates is missing" in missing.message
    assert decode_line(Import, "plain text") == events.Output(text="plain text")


def test_from_wire_is_strict_about_types():
    from vspectrum_app.library.ops import Coverage, ValueCoverage

    good = Coverage(None, "calibrated", 0.25, "ks", {"Power": ValueCoverage(2, 0.5, {"money": 1})})
    assert wire.from_wire(Coverage, json.loads(json.dumps(wire.to_wire(good)))) == good
    data = wire.to_wire(good)
    data["values"]["Power"]["images"] = True  # a bool is no count
    with pytest.raises(wire.WireError, match=r"Coverage.values.Power.images: expected int"):
        wire.from_wire(Coverage, data)
    with pytest.raises(wire.WireError, match="Coverage: expected an object, got list"):
        wire.from_wire(Coverage, [1])


def test_the_cli_refuses_a_result_of_another_type(tmp_path):
    """What a child sends as its result is checked against the declaration before it is written."""
    from vspectrum_app.cli import Context, build_parser
    from tests.plugins.reporting import RecordingReporter
    from vspectrum_app.providers.ops import Check, Checked

    reporter = RecordingReporter()
    ctx = Context(build_parser().parse_args(["--events", "providers", "test", "lab"]), reporter)
    assert ctx.result(Check(name="lab"), Checked(True, "answered"))
    assert reporter.events == [{"type": "result", "data": {"ok": True, "message": "answered"}}]
    with pytest.raises(TypeError):
        ctx.result(Check(name="lab"), {"ok": True})
