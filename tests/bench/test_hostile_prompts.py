"""Edited prompts are checked before a run exists, and a run nobody wants can be deleted
(issue 14, item 5)."""

import json

import pytest

from vspectrum_app.bench.prompts import PromptError, PromptSet, check_prompts
from vspectrum_app.bench.store import RunNotFoundError, RunStore
from vspectrum_app.cli import main
from vspectrum_app.providers.config import ProviderConfig, ProviderStore


@pytest.fixture
def lab():
    ProviderStore().save(
        ProviderConfig(name="lab", kind="openai-compatible", base_url="http://127.0.0.1:9/v1", models=["m1"])
    )


@pytest.mark.parametrize(
    "doc, says",
    [
        ({"text_only": "{__class__}"}, "field 'text_only': the prompt uses {__class__}, which is not a field"),
        ({"like": 5}, "field 'like': expected text, got 5"),
        (
            {"text_only": "Do you like it? Answer yes or no."},
            "field 'text_only': the prompt must contain {description}",
        ),
        ({"text_only": "{description:>300000000}"}, "format spec"),
        ({"text_only": "{description.__init__}"}, "which is not a field"),
        (
            {"lik": "Do you like it?"},
            "field 'lik': is not a known field (known: like, why, describe, reversed, text_only)",
        ),
        ({"why": ""}, "field 'why': expected non-empty text"),
        ({"describe": "x" * 20_001}, "field 'describe': text of at most 20,000 characters expected"),
        (["like"], "expected an object, got a list"),
    ],
)
def test_bad_prompts_are_refused_before_a_run_is_created(workspace, lab, tmp_path, capsys, doc, says):
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(doc))
    assert (
        main(
            [
                "-w",
                str(workspace.root),
                "bench",
                "run",
                "--model",
                "lab:m1",
                "--values",
                "Power",
                "--prompts",
                str(path),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("error: prompts.json: ") and says in err and "Traceback" not in err
    assert RunStore(workspace).runs() == []


def test_an_unreadable_prompts_file_is_one_sentence(workspace, lab, tmp_path, capsys):
    path = tmp_path / "prompts.json"
    for data in (b"{", b"\xff\xfe"):
        path.write_bytes(data)
        assert main(["-w", str(workspace.root), "bench", "run", "--model", "lab:m1", "--prompts", str(path)]) == 1
        assert capsys.readouterr().err.startswith("error: prompts.json: not ")
    assert RunStore(workspace).runs() == []


def test_the_papers_prompts_and_good_edits_pass():
    assert PromptSet.from_json(PromptSet().to_json()) == PromptSet()
    edited = check_prompts({"like": "Do you like {this}? yes/no", "text_only": "About: {description}. Like it?"})
    assert edited["like"] == "Do you like {this}? yes/no"  # the questions are sent as they are, braces included


def test_a_stuck_run_can_be_deleted(workspace, capsys):
    """A run created by an older version with a prompt that can never be filled in: resume says
    why in one sentence, and ``bench delete`` removes it (the answer cache stays)."""
    store = RunStore(workspace)
    manifest = {"prompts": {**PromptSet().to_json(), "text_only": "{__class__}"}, "targets": [], "values": ["Power"]}
    run_id = store.create_run(
        manifest,
        [
            {
                "target": "lab:m1",
                "mode": "vlm",
                "value": "Power",
                "keyword": "k",
                "rank": 1,
                "image_id": 1,
                "image_sha256": "0" * 64,
                "repeat": 0,
            }
        ],
    )
    store.set_status(run_id, "running")
    root = str(workspace.root)
    assert main(["-w", root, "bench", "resume", run_id]) == 1
    err = capsys.readouterr().err
    assert "field 'text_only'" in err and "Traceback" not in err
    assert main(["-w", root, "bench", "delete", run_id]) == 0
    assert f"run {run_id} deleted (1 items)" in capsys.readouterr().out
    assert RunStore(workspace).runs() == [] and RunStore(workspace).items(run_id, status=None) == []
    assert main(["-w", root, "bench", "delete", run_id]) == 1
    assert "no benchmark run" in capsys.readouterr().err
    with pytest.raises(RunNotFoundError):
        store.delete_run(run_id)
    with pytest.raises(PromptError):
        PromptSet.from_json({"text_only": 5})
