"""The one answer classifier against its labelled corpus (tests/core/answer_corpus.jsonl):
real pilot answers (GPT-4, GPT-4o) and answers written for the classes the issue lists, in
English, Chinese, Japanese, Spanish, French, German, Russian and a few more.

Each row names the classes a fair reader could give (``expected``; the first is the reading
aimed for): one class where the answer is unambiguous, "unparsed" beside it where a reader
could hesitate. Never allowed: the opposite polarity."""

import json
from collections import Counter
from pathlib import Path

import pytest

from vspectrum_app.bench.parsing import PARSER_VERSION, classify_answer
from vspectrum_app.core.answer_classes import CLASSES, VERSION, classify
from vspectrum_app.persona.parsing import decision_of, parse_isq, parse_simple

CORPUS = [json.loads(line) for line in (Path(__file__).parent / "answer_corpus.jsonl").read_text("utf-8").splitlines()]
OPPOSITE = {"yes": "no", "no": "yes"}


def test_the_corpus_covers_what_the_issue_asks():
    assert len(CORPUS) >= 300
    assert len({r["text"] for r in CORPUS}) == len(CORPUS)
    langs = Counter(r["lang"] for r in CORPUS)
    assert all(langs[lang] >= 15 for lang in ("zh", "ja", "es", "fr", "de", "ru")), langs
    kinds = Counter(r["kind"] for r in CORPUS)
    for kind in ("idiom", "hedge", "two_in_one", "negation", "refusal", "no_image", "markdown", "emoji"):
        assert kinds[kind] >= 8, (kind, kinds)
    assert sum(r["source"].startswith("pilot:") for r in CORPUS) >= 100
    assert all(set(r["expected"]) <= set(CLASSES) for r in CORPUS)


def test_each_answer_gets_a_fair_class():
    got = {r["text"]: classify(r["text"]) for r in CORPUS}
    opposite = [(r["text"], got[r["text"]]) for r in CORPUS if got[r["text"]] == OPPOSITE.get(r["expected"][0])]
    assert not opposite
    unfair = [(r["text"], r["expected"], got[r["text"]]) for r in CORPUS if got[r["text"]] not in r["expected"]]
    assert not unfair


def test_benchmark_and_persona_read_every_text_alike():
    differ = [r["text"] for r in CORPUS if not _alike(r["text"])]
    assert not differ


def _alike(text: str) -> bool:
    bench = classify_answer(text)
    want = bench if bench in ("yes", "no") else None
    simple = parse_simple(json.dumps({"decision": text, "reason": "r", "trait_num": "NA"}))
    isq = parse_isq(
        json.dumps(
            {
                "visual_appeal": 5,
                "curiosity_stimulation": 5,
                "emotional_engagement": 5,
                "value_expectation": 5,
                "preference_alignment": text,
                "action_desire": text,
                "trait_num": "NA",
            }
        )
    )
    return (
        decision_of(text)
        == simple.decision
        == isq.fields["preference_alignment"]
        == isq.fields["action_desire"]
        == want
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        # the classes the held-out list found misread (issue 26), each with its reading
        ("不确定", "unparsed"),
        ("不知道", "unparsed"),
        ("说不好", "unparsed"),
        ("不一定", "unparsed"),
        ("不清楚", "unparsed"),
        ("不好说", "unparsed"),
        ("不错", "yes"),
        ("Yes.\n\nNo.", "unparsed"),
        ("No problem with it, I like it.", "yes"),
        ("No doubt!", "yes"),
        ("The image didn't come through.", "no_image"),
        ("I haven't received any image.", "no_image"),
        ("Please upload the image…", "no_image"),
        ("I'd rather not answer that.", "refusal"),
        ("I'm not able to share personal opinions…", "refusal"),
        ("Not really", "no"),
        ("Sure", "yes"),
    ],
)
def test_issue_26_answers(text, expected):
    assert classify_answer(text) == expected
    assert decision_of(text) == (expected if expected in ("yes", "no") else None)


def test_a_negated_yes_is_never_a_yes():
    assert classify("I wouldn't say yes.") in ("no", "unparsed")
    assert classify("I can't say yes to that.") != "yes"


def test_the_benchmark_records_the_classifiers_version():
    assert PARSER_VERSION == VERSION >= 3


def test_edges():
    assert classify(None) == classify("") == classify("  \n") == "unparsed"
    assert classify("Yes", refused_by_api=True) == "refusal"
    assert classify("🙂") == "unparsed"
    assert classify("x" * 100_000) == "unparsed"
