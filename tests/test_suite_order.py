"""make test's order on two workers (tests/conftest.py): whole files, the longest measured first."""

from __future__ import annotations

from types import SimpleNamespace

from tests.conftest import SECONDS, longest_first, measured_seconds


def _items(*ids):
    return [SimpleNamespace(nodeid=i) for i in ids]


def test_files_go_longest_first_each_whole_and_in_its_own_order():
    slow = "tests/persona/test_persona_sim.py::test_a_persona_pulls_the_simulated_feed_towards_its_topic"
    assert SECONDS[slow] > 10
    items = _items(
        "tests/core/test_a.py::test_1",
        "tests/persona/test_persona_sim.py::test_zzz_unmeasured",
        "tests/core/test_b.py::test_1",
        slow,
        "tests/core/test_a.py::test_2[x]",
    )
    got = [i.nodeid for i in longest_first(items)]
    assert got == [
        "tests/persona/test_persona_sim.py::test_zzz_unmeasured",
        slow,
        "tests/core/test_a.py::test_1",
        "tests/core/test_a.py::test_2[x]",
        "tests/core/test_b.py::test_1",
    ]


def test_a_parametrised_test_counts_its_function_and_an_unmeasured_one_nothing():
    slow = "tests/test_wheel.py::test_installed_wheel_runs_outside_the_checkout"
    assert measured_seconds(slow + "[a]") == SECONDS[slow] > 0
    assert measured_seconds("tests/core/test_a.py::test_unlisted") == 0.0


def test_make_test_keeps_the_longest_first_order():
    # pytest-xdist reorders --dist loadfile's files by their number of tests unless told not to,
    # which would undo longest_first (a long file with few tests, started last, ends the suite alone)
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    [line] = [s for s in makefile.splitlines() if "-m pytest" in s and "--dist loadfile" in s]
    assert "--no-loadscope-reorder" in line
