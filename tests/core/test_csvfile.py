"""The app's one CSV writer: formula-like text neutralised, numbers (as numbers or as text)
left as numbers, cells with line breaks quoted."""

import csv
import io

import pytest

from vspectrum_app.core.csvfile import neutralise, to_text


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.test","x")',
        "=cmd|' /C calc'!A0",
        "+A1",
        "-2+3+cmd|x",
        "@SUM(A1)",
        "\tX",
        "\rY",
        "-",
        "+",
    ],
)
def test_formula_like_text_is_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", [-0.5, 3, "-12.5", "+3", "1e-3", "-.5", "-4%", "plain", "", None])
def test_numbers_and_plain_text_are_left_alone(cell):
    assert neutralise(cell) == cell


def test_a_cell_with_a_carriage_return_stays_one_cell():
    text = to_text(["a", "b"], [["x\ry", "=1+1"]])
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["a", "b"], ["x\ry", "'=1+1"]]
