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
                answer.strip(" .").lower(), "refusal"
            )
            assert cls == expected, answer
    assert seen == 202
    assert got == Counter({"yes": 169, "no": 26, "unparsed": 5, "refusal": 2})


@pytest.mark.parametrize(
    "answer, expected",
    [
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
        ("Sí", "yes"),
        ("Oui.", "yes"),
        ("Ja", "yes"),
        ("Nein.", "no"),
        ("Non", "no"),
        ("是", "yes"),
        ("是的，我喜欢", "yes"),
        ("不", "no"),
        ("不喜欢", "no"),
        ("はい", "yes"),
        ("Да", "yes"),
        ("Нет", "no"),
    ],
)
def test_hard_cases(answer, expected):
    assert classify_answer(answer) == expected


@pytest.mark.parametrize(
    "answer, expected",
    [
        # negated or hedged: neither answer (the old rule read "sure" as a yes)
        ("Not sure", "unparsed"),
        ("I'm not sure.", "unparsed"),
        ("Not sure, maybe", "unparsed"),
        ("Yes, maybe", "unparsed"),
        ("Perhaps.", "unparsed"),
        # declining to have a preference
        ("I'm an AI and cannot have preferences", "refusal"),
        ("I don't have the ability to like things", "refusal"),
        ("As a language model, I have no taste of my own.", "refusal"),
        ("Sorry, no.", "no"),
        ("Sì", "yes"),
        ("Sì, mi piace.", "yes"),
        ("不是", "no"),
        ("不好", "no"),
        ("不喜欢", "no"),
        ("我不喜欢这个", "no"),
        # the pipeline failed, not the model
        ("I cannot see any image.", "no_image"),
        ("No image was attached to your message.", "no_image"),
        ("The image failed to load, so I can't say.", "no_image"),
        ("I'm sorry, but I can't view the image.", "no_image"),
    ],
)
def test_issue_13_answers(answer, expected):
    assert classify_answer(answer) == expected


def test_pilot_answers_and_reasons_keep_their_classes(pilot_dir):
    """Pinned per file: the classes the 202 pilot answers (and their 202 longer 'why' texts,
    which open with an answer word) had before the issue-13 rules."""
    pinned = {
        "experiment_data_plain_gpt_tiktok.csv": {"yes": 40, "no": 5, "unparsed": 5, "refusal": 2},
        "experiment_data_plain_gpto_ins.csv": {"yes": 39, "no": 11},
        "experiment_data_plain_gpto_tiktok.csv": {"yes": 45, "no": 5},
        "experiment_data_plain_gpto_youtube.csv": {"yes": 45, "no": 5},
    }
    for name, counts in pinned.items():
        rows = list(csv.DictReader(open(pilot_dir / name, encoding="utf-8")))
        assert Counter(classify_answer(r["Answer"]) for r in rows) == Counter(counts), name
        reasons = Counter(classify_answer(r["Reason"]) for r in rows)
        assert reasons["no_image"] == 0, (name, reasons)
        for r in rows:  # a reason opening with the answer word keeps that answer
            head = r["Reason"].strip().split()[0].strip(".,!").lower() if r["Reason"].strip() else ""
            if head in ("yes", "no"):
                assert classify_answer(r["Reason"]) == head, r["Reason"]


def test_api_refusal_wins():
    assert classify_answer("Yes", refused_by_api=True) == "refusal"


def test_paper_style_reproduces_the_prototype_rule():
    assert paper_style("eyes") == "yes"  # the substring quirk, kept on purpose for comparison
    assert paper_style("Subjective") == "no"
    assert paper_style("I'm sorry, I can't assist") == "no"
    assert paper_style("Yes.") == "yes"
