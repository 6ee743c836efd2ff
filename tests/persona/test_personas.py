"""The persona library: shipped personas, imports, edits."""

import pytest

from vspectrum_app.persona.personas import (
    Persona,
    PersonaError,
    PersonaLibrary,
    builtin_personas,
    parse_persona_chat,
    parse_plain_list,
)
from vspectrum_app.persona.prompts import PromptTemplates

PERSONA_CHAT = """1 your persona: i like to remodel homes.
2 your persona: i like to go hunting.
3 your persona: i like to shoot a bow.
4 your persona: my favorite holiday is halloween.
5 hi , how are you doing ? i'm getting ready to do some cheetah chasing to stay in shape .\tyou must be very fast .
1 your persona: my mom is my best friend.
2 your persona: i have four sisters.
3 your persona: i believe that mermaids are real.
4 your persona: i love iced tea.
5 hi , how are you doing today ?\ti am spending time with my 4 sisters
1 your persona: i like to remodel homes.
2 your persona: i like to go hunting.
3 your persona: i like to shoot a bow.
4 your persona: my favorite holiday is halloween.
5 hello again\thi
"""


def test_builtin_personas_include_the_papers_figures():
    personas = builtin_personas()
    statements = [s for p in personas for s in p.statements]
    assert "I'm an elementary school teacher" in statements
    assert "my father use to drive a taxi cab in the 1970s" in statements
    assert all(4 <= len(p.statements) <= 5 for p in personas)
    assert len({p.name for p in personas}) == len(personas)


def test_persona_chat_import_keeps_each_persona_once():
    personas = parse_persona_chat(PERSONA_CHAT)
    assert [p.statements for p in personas] == [
        (
            "i like to remodel homes",
            "i like to go hunting",
            "i like to shoot a bow",
            "my favorite holiday is halloween",
        ),
        ("my mom is my best friend", "i have four sisters", "i believe that mermaids are real", "i love iced tea"),
    ]


def test_plain_list_import_with_names_and_bullets():
    personas = parse_plain_list(
        "# Gardener\n- i grow tomatoes\n- i own a boat\n\n1. i live alone in a cabin\n2. i am a 70 year old man\n"
    )
    assert [(p.name, p.statements) for p in personas] == [
        ("Gardener", ("i grow tomatoes", "i own a boat")),
        ("Imported 2", ("i live alone in a cabin", "i am a 70 year old man")),
    ]


def test_library_import_edit_delete(workspace, tmp_path):
    lib = PersonaLibrary(workspace)
    path = tmp_path / "personas_train.txt"
    path.write_text(PERSONA_CHAT)
    added = lib.import_file(path)
    assert len(added) == 2
    assert lib.import_file(path) == []  # same statements: nothing new
    first = lib.get(added[0].name)
    edited = Persona(name="Hunter", statements=first.statements, values=("Stimulation",), tags=("outdoor",))
    lib.save(edited, replace_name=first.name)
    assert lib.get("Hunter").values == ("Stimulation",)
    with pytest.raises(PersonaError):
        lib.get(first.name)
    lib.delete("Hunter")
    with pytest.raises(PersonaError, match="ships with the app"):
        lib.delete(builtin_personas()[0].name)


def test_prompts_are_the_papers_words():
    persona = builtin_personas()[0]
    simple = PromptTemplates().render("simple", persona)
    assert simple.startswith("You are a person who contains certain traits, several statements best describe you")
    assert "4. I'm an elementary school teacher" in simple
    assert "'trait_num': '1-5, the personality trait that this picture alludes to, NA if none'" in simple
    isq = PromptTemplates().render("isq", persona)
    assert "1: I live in Toronto, Canada," in isq
    assert "7. Which of your personalities does this screenshot most appeal to?" in isq
    assert "number between 1 to 5 corresponding to the matching persona index" in isq


def test_cli_add_edit_delete(workspace, capsys):
    from vspectrum_app.cli import main

    ws = ["-w", str(workspace.root)]
    assert (
        main(
            [
                *ws,
                "persona",
                "add",
                "Gardener",
                "--statement",
                "I grow tomatoes",
                "--statement",
                "I wake at dawn",
                "--value",
                "universalism",
                "--tag",
                "mine",
            ]
        )
        == 0
    )
    assert PersonaLibrary(workspace).get("Gardener").values == ("Universalism",)
    assert main([*ws, "persona", "add", "Old gardener", "--replace", "Gardener", "--statement", "I grow roses"]) == 0
    assert [p.name for p in PersonaLibrary(workspace).all() if "gardener" in p.name.lower()] == ["Old gardener"]
    assert main([*ws, "persona", "add", "Bad", "--statement", "x", "--value", "Wealth"]) == 1
    assert "Wealth" in capsys.readouterr().err
    assert main([*ws, "persona", "delete", "Old gardener"]) == 0
    assert main([*ws, "persona", "delete", "Pet owner"]) == 1  # shipped
    assert "ships with the app" in capsys.readouterr().err


def test_a_new_persona_may_not_hide_a_shipped_one_but_an_edit_may_keep_its_name(workspace):
    lib = PersonaLibrary(workspace)
    shipped = next(p for p in lib.all() if p.builtin)
    with pytest.raises(PersonaError, match="exists already"):
        lib.save(Persona(name=shipped.name, statements=("I am someone else",)))
    lib.save(
        Persona(name=shipped.name, statements=shipped.statements + ("and one more thing",)), replace_name=shipped.name
    )
    assert lib.get(shipped.name).statements[-1] == "and one more thing"


def test_a_bad_prompt_file_is_refused_before_anything_runs(workspace, tmp_path, capsys):
    from vspectrum_app.cli import main
    from vspectrum_app.persona.store import SessionStore

    bad = tmp_path / "prompt.txt"
    for text, says in (("Would you watch this?", "{traits}"), ("{traits} answer {'decision': 'yes'}", "brace")):
        bad.write_text(text, "utf-8")
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
        assert says in capsys.readouterr().err
    assert SessionStore(workspace).list() == []


def test_a_second_name_for_the_same_statements_is_refused_in_a_sentence(workspace):
    lib = PersonaLibrary(workspace)
    lib.save(Persona(name="Gardener", statements=("I grow tomatoes",)))
    shipped = next(p for p in lib.all() if p.builtin)
    for name, statements in (("Tomato grower", ("I grow tomatoes",)), ("Twin", shipped.statements)):
        with pytest.raises(PersonaError, match="has these statements already"):
            lib.save(Persona(name=name, statements=statements))
    renamed = lib.save(Persona(name="Tomato grower", statements=("I grow tomatoes",)), replace_name="Gardener")
    assert lib.get("Tomato grower").id == renamed.id
    assert "Gardener" not in [p.name for p in lib.all()]
