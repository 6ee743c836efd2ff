"""The job protocol (core.events): every event survives the wire, and a bad line never raises."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from vspectrum_app.core import events
from vspectrum_app.core.jobs import JsonLinesReporter

APP = Path(__file__).resolve().parents[2] / "vspectrum_app"


def _sample(cls):
    """An instance of ``cls`` with every field set to a value of its declared type."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name == "t":
            continue
        hint = str(f.type)
        values[f.name] = (
            7
            if hint.startswith("int")
            else 2.5
            if hint.startswith("float")
            else True
            if hint.startswith("bool")
            else ["a", "b"]
            if hint.startswith("list")
            else {"x": 1}
            if hint.startswith("dict")
            else {"n": [1, 2]}
            if hint == "Any"
            else f"{f.name}-text"
        )
    return cls(t=1700000000.125, **values)


@pytest.mark.parametrize("kind", sorted(events.registry()))
def test_every_event_type_round_trips(kind):
    event = _sample(events.registry()[kind])
    line = events.encode(event)
    assert json.loads(line)["v"] == events.WIRE_VERSION and json.loads(line)["type"] == kind
    assert events.decode(line) == event


def test_the_reporter_writes_what_decode_reads(tmp_path):
    out = (tmp_path / "events.jsonl").open("w")
    r = JsonLinesReporter(out)
    r.progress(3, 10, "images")
    r.emit(
        "answer",
        run_id="r1",
        item_id=4,
        target="lab:m",
        mode="vlm",
        value="power",
        keyword="boss",
        image_id=9,
        answer_class="yes",
        answer="Yes.",
        reason="nice",
    )
    r.emit("result", data={"n": 1})
    out.close()
    got = [events.decode(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [type(e) for e in got] == [events.Progress, events.Answer, events.Result]
    assert got[0].done == 3 and got[0].total == 10 and got[1].answer_class == "yes" and got[2].data == {"n": 1}
    assert all(isinstance(e.t, float) for e in got)


def test_an_emitter_that_drifts_from_its_event_type_fails_in_the_child(tmp_path):
    r = JsonLinesReporter((tmp_path / "e.jsonl").open("w"))
    with pytest.raises(TypeError):
        r.emit("run_created", run_id="r1", itemz=3)  # a renamed field


@pytest.mark.parametrize(
    "line, expected",
    [
        ("", events.Output),
        ("3 images imported", events.Output),
        ('{"type": "progress", "done": 1', events.Garbled),  # cut off by a crash
        ("[1, 2]", events.Output),
        ('{"no": "type"}', events.Garbled),
        ("{}", events.Garbled),
        ('{"type": 5}', events.Garbled),
        ('{"type": "progress", "done": "many"}', events.Garbled),  # a field of the wrong type
        ('{"type": "answer", "target": "a:b"}', events.Garbled),  # required fields missing
        ('{"type": "from_the_future", "x": 1}', events.Unknown),
    ],
)
def test_lines_that_are_not_known_events_decode_to_a_fallback(line, expected):
    assert isinstance(events.decode(line), expected)


def test_decode_reads_older_and_newer_children():
    old = events.decode('{"type": "progress", "t": 1.5, "done": 2.0, "total": null}')  # no version field
    assert old == events.Progress(t=1.5, done=2, total=None)
    newer = events.decode('{"v": 1, "type": "log", "message": "hi", "colour": "red"}')  # a field added later
    assert newer == events.Log(message="hi")
    unknown = events.decode('{"v": 2, "type": "thumbs_up", "t": 3, "n": 1}')
    assert unknown == events.Unknown(t=3, kind="thumbs_up", data={"n": 1})
    assert events.decode(events.encode(unknown)) == unknown


def test_every_event_type_the_app_emits_is_registered():
    """A new ``emit("...")`` in the app needs its event class, or panes would get an Unknown."""
    emitted = set()
    for path in APP.rglob("*.py"):
        if "gui" not in path.relative_to(APP).parts:  # the window's own emits are Qt signals
            emitted |= set(re.findall(r"""\.emit\(\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
    assert emitted and emitted <= set(events.registry()), emitted - set(events.registry())
