"""Simple and ISQ answer parsing on real-looking answers (paper Figures 13-14) and hard cases."""

import pytest

from vspectrum_app.persona.metrics import isq_decision, isq_score
from vspectrum_app.persona.parsing import parse_isq, parse_simple

FIG13_YES = (
    "{'decision': 'yes', 'reason': 'The image depicts a school scenario, which relates to being an "
    "elementary school teacher.', 'trait_num': '4'}"
)
FIG13_NO = (
    "{'decision': 'no', 'reason': 'The content of the picture does not relate to any of my stated "
    "interests or traits.', 'trait_num': '4'}"
)
FIG14 = (
    "```\n{'visual_appeal': 6, 'preference_alignment': 'yes', 'curiosity_stimulation': 7, "
    "'emotional_engagement':\n5, 'action_desire': 'yes', 'value_expectation': 6, 'trait_num': 3}\n```"
)


def test_paper_figure_13_answers():
    yes, no = parse_simple(FIG13_YES), parse_simple(FIG13_NO)
    assert (yes.decision, yes.trait_num, yes.problems) == ("yes", 4, [])
    assert "elementary school teacher" in yes.reason
    assert (no.decision, no.trait_num) == ("no", 4)


def test_paper_figure_14_isq_example_follows_the_formula_not_the_printed_73_75():
    answer = parse_isq(FIG14, max_trait=4)
    assert answer.problems == []
    assert answer.fields["trait_num"] == 3
    score = isq_score(answer)
    assert score == pytest.approx((6 + 7 + 5 + 6 + 10 + 10) / 60 * 100)
    assert score == pytest.approx(73.333, abs=1e-3)
    assert isq_decision(score) == "yes"
    assert isq_decision(score, threshold=80) == "no"


@pytest.mark.parametrize(
    "text, decision, trait",
    [
        ('{"decision": "Yes", "reason": "dogs!", "trait_num": "2"}', "yes", 2),
        ('```json\n{"decision": "no", "reason": "meh", "trait_num": "NA"}\n```', "no", None),
        (
            "Sure! Here is my answer: {'decision': 'no', 'reason': 'I don't like it', 'trait_num': 'NA'} Hope that helps.",
            "no",
            None,
        ),
        ("{'decision': 'Yes.', 'reason': 'reminds me of my shop', 'trait_num': 'trait 5'}", "yes", 5),
        ("decision: yes\nreason: it is about teaching\ntrait_num: 4", "yes", 4),
        ("{'decision': True, 'reason': 'x', 'trait_num': 1}", "yes", 1),
    ],
)
def test_simple_answer_shapes(text, decision, trait):
    answer = parse_simple(text)
    assert (answer.decision, answer.trait_num) == (decision, trait)


@pytest.mark.parametrize(
    "text",
    [
        "I am not sure whether I would like this.",
        "{'decision': 'maybe', 'reason': 'hard to say', 'trait_num': 'NA'}",
        "{'decision': 'yes and no', 'reason': '', 'trait_num': 'NA'}",
        "",
    ],
)
def test_simple_unparsable_answers_are_recorded_not_guessed(text):
    answer = parse_simple(text)
    assert answer.decision is None
    assert answer.problems


def test_isq_numbers_as_words_and_fractions():
    answer = parse_isq(
        "Here are my answers:\n{'visual_appeal': 'seven', 'preference_alignment': 'No', "
        "'curiosity_stimulation': '8/10', 'emotional_engagement': 'five out of 10', "
        "'action_desire': 'no', 'value_expectation': 2, 'trait_num': 'NA'}"
    )
    assert answer.complete
    assert answer.fields["visual_appeal"] == 7
    assert answer.fields["curiosity_stimulation"] == 8
    assert answer.fields["emotional_engagement"] == 5
    assert isq_score(answer) == pytest.approx((7 + 8 + 5 + 2) / 60 * 100)
    assert isq_decision(isq_score(answer)) == "no"


def test_isq_out_of_range_or_missing_field_gives_no_score():
    answer = parse_isq(
        "{'visual_appeal': 14, 'preference_alignment': 'yes', 'curiosity_stimulation': 7, "
        "'emotional_engagement': 5, 'action_desire': 'yes'}"
    )
    assert not answer.complete
    assert isq_score(answer) is None
    assert isq_decision(None) is None
    assert any("visual_appeal" in p for p in answer.problems)
    assert any("value_expectation" in p for p in answer.problems)


def test_isq_trait_out_of_range_is_a_problem():
    answer = parse_isq(FIG14.replace("'trait_num': 3", "'trait_num': 9"), max_trait=4)
    assert answer.fields["trait_num"] is None
    assert any("out of range" in p for p in answer.problems)
    assert isq_score(answer) is not None  # the trait does not enter the score


@pytest.mark.parametrize("decision", ["not sure", "Not sure, maybe", "maybe", "I'm not sure"])
def test_a_hedged_decision_is_unparsed_not_no(decision):
    answer = parse_simple("{'decision': '%s', 'reason': 'hard to tell', 'trait_num': 1}" % decision)
    assert answer.decision is None
    assert any("decision" in p for p in answer.problems)


@pytest.mark.parametrize("value", ["8-9", "7 to 8", "6–7", "5 or 6"])
def test_an_isq_range_is_unparsed_and_recorded(value):
    answer = parse_isq(FIG14.replace("'visual_appeal': 6", f"'visual_appeal': '{value}'"), max_trait=4)
    assert answer.fields["visual_appeal"] is None
    assert not answer.complete and isq_score(answer) is None
    assert any(p.startswith("visual_appeal") and value in p for p in answer.problems)


def test_isq_single_scores_still_read():
    answer = parse_isq(FIG14.replace("'visual_appeal': 6", "'visual_appeal': '8/10'"), max_trait=4)
    assert answer.fields["visual_appeal"] == 8
