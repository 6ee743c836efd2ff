"""Operations as data (core.operations): every job the window can start is written as a command
line by ``to_argv`` and read back by the real ``vspectrum`` parser as the same dataclass."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import pytest

from tests.plugins.operations import all_operations

from vspectrum_app.cli import build_parser
from vspectrum_app.core.operations import Options, from_args, to_argv

GUI = Path(__file__).resolve().parents[1] / "vspectrum_app" / "gui"


def _candidates(f: dataclasses.Field, hint) -> list:
    """Values other than the default for one field: each choice, or two of its type."""
    if f.metadata.get("choices"):
        return [c for c in f.metadata["choices"] if c != f.default]
    text = str(hint)
    if "bool" in text:
        return [True] if f.default is not True else []
    if text.startswith("tuple"):
        return [("one",), ("one", "two words")] if "Path" not in text else [(Path("/a b/c.jpg"), Path("d"))]
    if "int" in text:
        return [0, 17] if f.default not in (0, 17) else [3, 17]
    if "float" in text:
        return [0.0, 0.1, 2.5]
    if "Path" in text:
        return [Path("/tmp/with space/file.json")]
    return ["plain", "two words", "-starts-with-a-dash", "lab:llama3:8b"]


def _required(cls) -> dict:
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            kind = Path if "Path" in str(hints[f.name]) else str
            out[f.name] = (kind("s1"), kind("s2")) if str(hints[f.name]).startswith("tuple") else kind("s1")
        elif f.metadata.get("required"):
            out[f.name] = ("Pet owner",)
    return out


def _variants(cls) -> list:
    """The smallest instance, then one per (field, value): every option alone, nested groups too."""
    base = cls(**_required(cls))
    out = [base]
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if isinstance(hint, type) and issubclass(hint, Options):
            out += [dataclasses.replace(base, **{f.name: v}) for v in _variants(hint)[1:]]
        elif f.metadata.get("positional") is not True and not f.metadata.get("required"):
            out += [dataclasses.replace(base, **{f.name: v}) for v in _candidates(f, hint)]
    return out


def _parse(params):
    return from_args(type(params), build_parser().parse_args(["--events", "--workspace", "/w", *to_argv(params)]))


@pytest.mark.parametrize("cls", all_operations(), ids=lambda c: " ".join(c.command))
def test_every_option_of_every_operation_round_trips_through_the_cli_parser(cls):
    variants = _variants(cls)
    assert len(variants) > 1 or cls.command == ("bench", "resume")
    for params in variants:
        assert _parse(params) == params, to_argv(params)
    everything = variants[0]
    for params in variants[1:]:  # all options at once (the last value of each wins)
        changed = {
            f.name: getattr(params, f.name)
            for f in dataclasses.fields(params)
            if getattr(params, f.name) != getattr(variants[0], f.name)
        }
        everything = dataclasses.replace(everything, **changed)
    assert _parse(everything) == everything, to_argv(everything)


def test_the_parser_reads_the_defaults_the_dataclass_declares():
    """``vspectrum bench run`` with no options is ``Run()``: the CLI's defaults are the dataclass's."""
    from vspectrum_app.bench.ops import Run
    from vspectrum_app.persona.ops import Run as PersonaRun

    assert from_args(Run, build_parser().parse_args(["bench", "run"])) == Run()
    assert from_args(PersonaRun, build_parser().parse_args(["persona", "run", "--persona", "P"])) == PersonaRun(
        persona=("P",)
    )


def test_a_renamed_flag_breaks_the_round_trip(monkeypatch):
    """What this guards: the window's command line and the CLI's parser share one spelling."""
    from vspectrum_app.persona.ops import Run

    params = Run(persona=("P",), capture_at_s=3.0)
    argv = [a.replace("--capture-at", "--capture-time") for a in to_argv(params)]  # as a hand-built argv would drift
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)


def test_the_window_builds_no_command_lines_by_hand():
    """Panes start jobs with ops dataclasses; an option literal in gui/ would bypass to_argv."""
    offenders = []
    for path in GUI.rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""["']--[a-z][a-z-]+["']""", line) and path.name != "app.py":  # app.py: its own argv
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []
