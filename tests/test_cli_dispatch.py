"""The CLI builds only the command group a command line names (a cold `library search` then
imports no other group's operations), and reads that command line exactly as the whole parser does."""

from __future__ import annotations

import pytest

from vspectrum_app.cli import GROUPS, build_parser, command_of, main


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["library", "search", "a cat"], "library"),
        (["-w", "/some ws", "library", "search", "a cat"], "library"),
        (["--workspace", "/ws", "--events", "keys", "list"], "keys"),
        (["--workspace=/ws", "bench", "run"], "bench"),
        (["-w/ws", "providers", "list"], "providers"),
        (["--events", "-w", "library", "crawl"], "crawl"),  # -w takes "library" as its folder
        ([], None),
        (["--help"], None),
        (["--version"], None),
        (["diagnostics"], None),
        (["librar", "search"], None),  # misspelt: the whole parser names the commands there are
        (["--work", "/ws", "library"], None),  # an abbreviation only argparse resolves
    ],
)
def test_the_command_group_is_read_from_the_global_options_alone(argv, command):
    assert command_of(argv) == command


def test_groups_name_exactly_the_commands_they_register():
    def commands(parser):
        return set(parser._subparsers._group_actions[0].choices)  # argparse keeps its subcommands private

    for module, names in GROUPS.items():
        assert commands(build_parser(names[0])) == {*names, "diagnostics"}, module
    assert commands(build_parser()) == {n for names in GROUPS.values() for n in names} | {"diagnostics"}


@pytest.mark.parametrize(
    "argv",
    [
        ["-w", "/ws", "library", "search", "a cat", "-k", "3", "--json", "--backend", "onnx", "--platform", "tiktok"],
        ["--events", "--workspace=/ws", "library", "index", "--backend", "torch"],
        ["keys", "status"],
        ["bench", "run", "--dry-run"],
        ["sim", "serve", "--port", "0"],
    ],
)
def test_one_groups_parser_reads_a_command_line_as_the_whole_parser(argv):
    assert vars(build_parser(command_of(argv)).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_a_misspelt_command_still_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["librar", "search", "x"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'librar'" in err and all(n in err for names in GROUPS.values() for n in names)
