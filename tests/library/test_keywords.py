"""Keyword sets: the shipped default, user sets, stable hashes."""

import json

import pytest

from vspectrum_app.core.values import SCHWARTZ_VALUES
from vspectrum_app.library.keywords import KeywordSet, KeywordSetError, add_set, default_set, get_set, list_sets


def test_default_set_is_protocol_md():
    ks = default_set()
    assert list(ks.values) == list(SCHWARTZ_VALUES)
    assert all(len(k) == 10 for k in ks.values.values())
    assert ks.values["Universalism"][:3] == ("equality", "globe", "handshake")
    assert ks.values["Hedonism"][:3] == ("vacation", "comedy", "concert")


def test_hash_is_stable_and_content_based():
    ks = default_set()
    same = KeywordSet.from_json({"name": "renamed", "values": {v: list(k) for v, k in reversed(ks.values.items())}})
    assert same.hash == ks.hash  # name and value order do not matter
    edited = KeywordSet.from_json({"values": {**{v: list(k) for v, k in ks.values.items()}, "Power": ["money"]}})
    assert edited.hash != ks.hash
    assert ks.hash == "319f6a88a6ee86ea"  # shipped set v1: changing it must be a new version


def test_user_sets_are_stored_and_found(workspace, tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"values": {"self direction": ["painting"], "POWER": ["crown"]}}))
    ks = add_set(workspace, KeywordSet.from_file(path))
    assert ks.name == "mine" and list(ks.values) == ["Self-Direction", "Power"]
    assert get_set(workspace, "mine") == ks
    assert get_set(workspace, ks.hash) == ks
    assert [s.name for s in list_sets(workspace)] == ["default", "mine"]


@pytest.mark.parametrize(
    "doc", [{}, {"values": {"Wisdom": ["owl"]}}, {"values": {"Power": []}}, {"values": {"Power": "money"}}]
)
def test_invalid_sets_are_refused_with_a_reason(doc):
    with pytest.raises(KeywordSetError):
        KeywordSet.from_json(doc)
