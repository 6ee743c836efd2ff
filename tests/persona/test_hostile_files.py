"""Persona files and prompt templates from someone else (issue 14, item 6): no traceback for
any JSON shape, no string taken for a list, no format spec or attribute access in templates."""

import json

import pytest

from vspectrum_app.cli import main
from vspectrum_app.core.templates import MAX_PROMPT_CHARS, TemplateError, check_template
from vspectrum_app.persona.personas import Persona, PersonaError, PersonaLibrary, parse_file
from vspectrum_app.persona.prompts import PromptError, PromptTemplates

CAT = Persona("cat", ("I love cats", "I live alone"))


@pytest.mark.parametrize(
    "doc, says",
    [
        ({"personas": [{"name": "x", "statements": "I love cats"}]}, "persona 1: field 'statements': expected a list"),
        ({"personas": {"name": "x"}}, "field 'personas': expected a list, got an object"),
        ({"personas": [5]}, "persona 1: expected an object, got 5"),
        ([{"name": "x", "statements": [1, 2]}], "field 'statements', item 1: expected text, got 1"),
        ({"persona": []}, "field 'personas': is missing"),
        ([{"name": "x", "statements": ["a"], "values": ["Greed"]}], "unknown value 'Greed'"),
        ([{"name": "x", "statements": ["a"], "values": "Power"}], "field 'values': expected a list"),
        ([{"name": ["x"], "statements": ["a"]}], "field 'name': expected text, got a list"),
        ([{"name": "x", "statements": []}], "field 'statements': expected a list of 1 to 50 items, got 0"),
        ([{"name": "x", "statements": ["a" * 5000]}], "text of at most 1,000 characters expected"),
        ([{"statements": ["ok"]}, {"name": "b", "statements": "I love cats"}], "persona 2: field 'statements'"),
    ],
)
def test_wrong_persona_files_are_refused_whole_in_one_sentence(workspace, tmp_path, doc, says):
    path = tmp_path / "people.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(PersonaError) as err:
        PersonaLibrary(workspace).import_file(path)
    assert str(err.value).startswith("people.json: ") and says in str(err.value)
    assert all(p.builtin for p in PersonaLibrary(workspace).all())  # nothing half-imported


def test_statements_as_a_string_is_not_nine_one_letter_statements(workspace, tmp_path, capsys):
    path = tmp_path / "cats.json"
    path.write_text(json.dumps([{"name": "cats", "statements": "I love cats"}]))
    assert main(["-w", str(workspace.root), "persona", "import-personas", str(path)]) == 1
    err = capsys.readouterr().err
    assert "cats.json: persona 1: field 'statements': expected a list, got 'I love cats'" in err
    assert "Traceback" not in err


def test_a_huge_plain_list_line_is_not_a_statement(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# Big\n" + "x" * 100_000 + "\n")
    with pytest.raises(PersonaError, match="list.txt: persona 1: field 'statements', item 1: text of at most"):
        parse_file(path)


def test_binary_and_broken_json_files_are_one_sentence(tmp_path):
    for name, data in (("a.json", b'{"personas": ['), ("b.txt", b"\xff\xfe\x00garbage"), ("c.json", b"[" * 100_000)):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(PersonaError, match=f"^{name}: "):
            parse_file(tmp_path / name)


@pytest.mark.parametrize(
    "template, says",
    [
        ("{traits:>300000000}", "format spec"),
        ("{traits!r}", "format spec or conversion"),
        ("{traits.__init__.__globals__}", "uses {traits.__init__.__globals__}, which is not a field"),
        ("{traits[0]} {traits}", "uses {traits[0]}"),
        ("{__class__} {traits}", "uses {__class__}"),
        ("{traits} {}", "uses {}"),
        ("{traits} {'decision': 'yes'}", "which is not a field"),
        ("{traits} }", "cannot be filled in"),
        ("Would you watch this?", "must contain {traits}"),
        ("{traits}" + "x" * MAX_PROMPT_CHARS, "at most 20,000 are allowed"),
    ],
)
def test_persona_templates_allow_only_the_documented_fields(template, says):
    with pytest.raises(PromptError, match=None) as err:
        PromptTemplates(simple=template).render("simple", CAT)
    assert says in str(err.value)


def test_a_good_template_renders_and_doubled_braces_stay_literal():
    text = PromptTemplates(simple="{traits}\n{{'n': '1-{max_trait}'}}").render("simple", CAT)
    assert text == "1. I love cats\n2. I live alone\n{'n': '1-2'}"
    assert PromptTemplates().render("isq", CAT).count("I love cats") == 1


def test_the_cli_refuses_a_300_mb_template_before_a_session_exists(workspace, tmp_path, capsys):
    from vspectrum_app.persona.store import SessionStore

    bad = tmp_path / "prompt.txt"
    for text in ("{traits:>300000000}", "{traits.__init__.__globals__}", "\udcff"):
        bad.write_bytes(text.encode("utf-8", "surrogateescape"))
        assert (
            main(
                [
                    "-w",
                    str(workspace.root),
                    "persona",
                    "run",
                    "--persona",
                    "Pet owner",
                    "--model",
                    "lab:m1",
                    "--prompt-file",
                    str(bad),
                    "--headless",
                ]
            )
            == 1
        )
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err
    assert SessionStore(workspace).list() == []


def test_the_checker_is_shared_and_refuses_non_text():
    with pytest.raises(TemplateError, match="must be text"):
        check_template(5, ("description",))
    assert check_template("a {description}", ("description",), ("description",)) == "a {description}"


def test_a_model_answering_with_an_astronomic_number_is_a_problem_not_a_crash():
    """Found by the fuzz tests: 10**400 does not fit a float."""
    from vspectrum_app.persona.parsing import parse_isq

    answer = parse_isq(
        "{'visual_appeal': 1" + "0" * 400 + ", 'value_expectation': 1e999, 'trait_num': '9" + "9" * 400 + "'}",
        max_trait=5,
    )
    assert answer.fields["visual_appeal"] is None and answer.fields["value_expectation"] is None
    assert answer.fields["trait_num"] is None and any("visual_appeal" in p for p in answer.problems)


def test_a_persona_saved_by_an_older_version_beyond_the_limits_stays_usable(workspace):
    lib = PersonaLibrary(workspace)
    big = Persona("long list", tuple(f"statement {n}" for n in range(80)))  # an old plain-list import
    lib.save(big)
    assert lib.get("long list").statements == big.statements
