"""Answer 1 classification on every real pilot answer and on hard cases."""

import csv
from collections import Counter

import pytest

from vspectrum_app.bench.parsing import classify_answer, paper_style


def test_every_pilot_answer(pilot_dir):
    got = Counter()
    seen = 0
    for path in pilot_dir.glob("*.csv"):
        for row in csv.DictReader(open(path, encoding="utf-8")):
            answer = row["Answer"]
            seen += 1
            cls = classify_answer(answer)
            got[cls] += 1
            expected = {"yes": "yes", "no": "no", "subjective": "unparsed", "inconclusive": "unparsed"}.get(
                answer.strip(" .").lower(), "refusal")
            assert cls == expected, answer
    assert seen == 202
    assert got == Counter({"yes": 169, "no": 26, "unparsed": 5, "refusal": 2})


@pytest.mark.parametrize("answer, expected", [
    ("eyes", "unparsed"),
    ("Yes and no", "unparsed"),
    ("**No.**", "no"),
    ("__Yes__", "yes"),
    ("I don't have personal preferences, but yes", "yes"),
    ("As an AI, I don't have personal preferences.", "refusal"),
    ("I'm sorry, I can't assist with that request.", "refusal"),
    ("Yes! The colours are lovely.", "yes"),
    ("No. It feels staged.", "no"),
    ("I like it, yes.", "yes"),
    ("Maybe", "unparsed"),
    ("", "unparsed"),
    ("Sí", "yes"), ("Oui.", "yes"), ("Ja", "yes"), ("Nein.", "no"), ("Non", "no"),
    ("是", "yes"), ("是的，我喜欢", "yes"), ("不", "no"), ("不喜欢", "no"), ("はい", "yes"), ("Да", "yes"), ("Нет", "no"),
])
def test_hard_cases(answer, expected):
    assert classify_answer(answer) == expected


def test_api_refusal_wins():
    assert classify_answer("Yes", refused_by_api=True) == "refusal"


def test_paper_style_reproduces_the_prototype_rule():
    assert paper_style("eyes") == "yes"  # the substring quirk, kept on purpose for comparison
    assert paper_style("Subjective") == "no"
    assert paper_style("I'm sorry, I can't assist") == "no"
    assert paper_style("Yes.") == "yes"
