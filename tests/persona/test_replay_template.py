"""A replay renders the source session's exact prompt template unless another is given, and
records it (issue 13, item 8). The replayed prompts reach the real SDK's server."""

from __future__ import annotations

import pytest

from tests.persona.test_agent_loop import TinyFeed, _session, pet_lover
from tests.persona.test_runner import vlm  # noqa: F401  (the fixture)
from vspectrum_app.cli import main
from vspectrum_app.persona.agent import run_session
from vspectrum_app.persona.deciders import ModelDecider
from vspectrum_app.persona.personas import Persona, PersonaLibrary, builtin_personas
from vspectrum_app.persona.prompts import PromptTemplates
from vspectrum_app.persona.runner import TEMPLATE_KEY, execute, new_replay, new_session
from vspectrum_app.persona.store import PersonaSessionError, SessionStore

EDITED = (
    "EDITED PROMPT. You are: {traits}\nAnswer as {{'decision': 'yes or no', 'reason': 'r', "
    "'trait_num': '1-{max_trait}'}}"
)
OTHER = Persona(name="Gardener", statements=("I grow tomatoes", "I like quiet mornings", "I read about soil"))


def _finished(workspace, templates=None, strategy="simple"):
    persona = next(p for p in builtin_personas() if p.name == "Pet owner")
    session = new_session(
        workspace, persona, strategy, provider="lab", model="m1", templates=templates, trials=1, scrolls=6, window=3
    )
    run_session(workspace, session, TinyFeed(), ModelDecider(pet_lover, strategy))
    return session


def test_replay_keeps_the_source_template_for_another_persona_and_records_it(workspace, vlm):  # noqa: F811
    source = _finished(workspace, PromptTemplates(simple=EDITED))
    store = SessionStore(workspace)
    assert store.config(source).extra[TEMPLATE_KEY] == EDITED

    replay = new_replay(workspace, source, persona=OTHER, model="m2")
    cfg = store.config(replay)
    assert cfg.extra[TEMPLATE_KEY] == EDITED
    assert cfg.prompt == PromptTemplates(simple=EDITED).render("simple", OTHER)
    assert cfg.prompt.startswith("EDITED PROMPT. You are: 1. I grow tomatoes") and "'1-3'" in cfg.prompt
    assert execute(workspace, replay) == "done"
    sent = [r.question for r in vlm.log]
    assert len(sent) == 6 and set(sent) == {cfg.prompt}

    # the same persona: the very prompt the source sent; a template given explicitly wins
    same = store.config(new_replay(workspace, source, model="m2"))
    assert same.prompt == store.config(source).prompt
    given = store.config(new_replay(workspace, source, model="m2", templates=PromptTemplates()))
    assert given.prompt == PromptTemplates().render("simple", Persona.from_json(given.persona))
    assert given.extra[TEMPLATE_KEY] == PromptTemplates().simple


def test_cli_replay_without_prompt_file_uses_the_source_template(workspace, vlm):  # noqa: F811
    source = _finished(workspace, PromptTemplates(simple=EDITED))
    PersonaLibrary(workspace).save(OTHER)
    assert (
        main(["-w", str(workspace.root), "persona", "replay", source, "--model", "lab:m2", "--persona", "Gardener"])
        == 0
    )
    replay = SessionStore(workspace).list()[-1]["id"]
    assert SessionStore(workspace).config(replay).prompt.startswith("EDITED PROMPT.")
    assert {r.question for r in vlm.log} == {SessionStore(workspace).config(replay).prompt}


def test_older_sessions_without_a_kept_template(workspace, vlm):  # noqa: F811
    # recorded before templates were kept, with the paper's prompt: the default renders for others
    plain = _session(workspace, trials=1, scrolls=6, window=3)
    run_session(workspace, plain, TinyFeed(), ModelDecider(pet_lover, "simple"))
    cfg = SessionStore(workspace).config(new_replay(workspace, plain, persona=OTHER, provider="lab", model="m2"))
    assert cfg.prompt == PromptTemplates().render("simple", OTHER)
    # with an edited prompt whose template is lost: the same persona gets that prompt, another is refused
    store = SessionStore(workspace)
    old = store.config(plain)
    old.prompt = "EDITED and lost"
    with workspace.transaction() as conn:
        conn.execute("UPDATE persona_sessions SET config_json = ? WHERE id = ?", (old.to_json(), plain))
    assert store.config(new_replay(workspace, plain, provider="lab", model="m2")).prompt == "EDITED and lost"
    with pytest.raises(PersonaSessionError, match="--prompt-file"):
        new_replay(workspace, plain, persona=OTHER, provider="lab", model="m2")
