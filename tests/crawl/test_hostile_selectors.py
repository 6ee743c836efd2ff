"""Selector override files (issue 14, item 8): a wrong file is one sentence naming the
problem, before any page is read; the browser's parser judges what a cheap check cannot."""

import copy
import json
from pathlib import Path

import pytest

from vspectrum_app.cli import main
from vspectrum_app.core.paths import data_dir, resources_dir
from vspectrum_app.crawl.adapters import Adapter, AdapterError

SHIPPED = json.loads((resources_dir() / "crawl" / "selectors" / "tiktok.json").read_text())
PAGES = Path(__file__).parent / "pages"


def _override(mutate) -> None:
    doc = copy.deepcopy(SHIPPED)
    mutate(doc)
    folder = data_dir() / "selectors"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiktok.json").write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "mutate, says",
    [
        (lambda d: d.update(fields="video_id"), "field 'fields': expected an object, got 'video_id'"),
        (
            lambda d: d.update(item="[data-e2e=recommend"),
            "field 'item': '[data-e2e=recommend' is not a valid CSS selector",
        ),
        (
            lambda d: d["flags"]["ad"].append({"selector": "div >"}),
            "field 'flags', field 'ad', item 3, field 'selector'",
        ),
        (lambda d: d["fields"]["video_id"].update(regex="(\\d{15,22}$"), "is not a valid regular expression"),
        (lambda d: d["fields"]["video_id"].update(regex="\\d+"), "needs a group"),
        (
            lambda d: d.update(link_template="{origin.__class__.__init__.__globals__}"),
            "field 'link_template': the link template uses {origin.__class__.__init__.__globals__}, which is not a field",
        ),
        (lambda d: d.update(link_template="{origin}/{author:>99999999}"), "format spec"),
        (lambda d: d.update(link_template="{origin}/{nope}"), "{nope}, which is not a field"),
        (lambda d: d.pop("video"), "field 'video': is missing"),
        (lambda d: d.update(next={"key": "ArrowDown", "wheel": 5}), "field 'next': needs either 'key' or 'wheel'"),
        (lambda d: d["fields"].update(author={"selector": "a", "source": "location"}), "needs either 'selector' or"),
    ],
)
def test_a_wrong_override_is_one_sentence(mutate, says):
    _override(mutate)
    with pytest.raises(AdapterError) as err:
        Adapter.load("tiktok")
    assert str(err.value).startswith(f"selectors file {data_dir() / 'selectors' / 'tiktok.json'}: ")
    assert says in str(err.value) and "\n" not in str(err.value)


def test_not_json_and_not_an_object(capsys):
    folder = data_dir() / "selectors"
    folder.mkdir(parents=True, exist_ok=True)
    for data, says in ((b"{", "not valid JSON"), (b"[]", "expected an object, got a list"), (b"\xff", "not UTF-8")):
        (folder / "tiktok.json").write_bytes(data)
        assert main(["crawl", "check", "--platform", "tiktok", "--html", str(PAGES / "tiktok_foryou.html")]) == 1
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err


def test_the_shipped_files_pass():
    for platform in ("tiktok", "youtube", "instagram"):
        assert Adapter.load(platform).platform == platform


@pytest.mark.usefixtures("chromium")
def test_a_selector_only_the_browser_rejects_is_one_sentence(capsys):
    _override(lambda d: d.update(like="[data-e2e=like-icon]:no-such-pseudo-class"))
    assert main(["crawl", "check", "--platform", "tiktok", "--html", str(PAGES / "tiktok_foryou.html")]) == 1
    err = capsys.readouterr().err
    assert "'[data-e2e=like-icon]:no-such-pseudo-class' is not a valid CSS selector" in err
    assert "Traceback" not in err and err.count("\n") == 1
