"""Chromium keeps its sandbox (no --no-sandbox warning bar) unless the app runs as root."""

from __future__ import annotations

import pytest

from vspectrum_app.crawl import browser


class _Recorder:
    """Stands in for Playwright's chromium launcher and records how it was asked to start."""

    def __init__(self):
        self.kwargs = None
        self.chromium = self

    def launch_persistent_context(self, profile, **kwargs):
        self.kwargs = kwargs
        return type("Ctx", (), {"pages": ["page"]})()


@pytest.mark.parametrize("root", [False, True])
def test_no_sandbox_only_as_root(monkeypatch, tmp_path, root):
    monkeypatch.setattr(browser, "is_root", lambda: root)
    rec = _Recorder()
    browser.launch(rec, "/usr/bin/chromium", tmp_path / "profile", headless=True)
    assert rec.kwargs["chromium_sandbox"] is (not root)
    assert ("--no-sandbox" in rec.kwargs["args"]) is root


def test_as_root_the_no_sandbox_warning_bar_is_kept_away(monkeypatch, tmp_path):
    # issue 29 item 12: Chromium showed "You are using an unsupported command-line flag: --no-sandbox"
    monkeypatch.setattr(browser, "is_root", lambda: True)
    rec = _Recorder()
    browser.launch(rec, "/usr/bin/chromium", tmp_path / "profile", headless=False)
    assert "--test-type" in rec.kwargs["args"]


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("900,0,466,768", ["--window-position=900,0", "--window-size=466,768"]),
        ("", []),
        ("1,2,3", []),
        ("a,b,c,d", []),
        ("0,0,50,50", []),  # too small to watch anything: Chromium's own placement
    ],
)
def test_the_watched_window_goes_where_the_app_says(monkeypatch, tmp_path, place, expected):
    monkeypatch.setenv(browser.WINDOW_ENV, place)
    rec = _Recorder()
    browser.launch(rec, "/usr/bin/chromium", tmp_path / "profile", headless=False)
    assert [a for a in rec.kwargs["args"] if a.startswith("--window-")] == expected
    browser.launch(rec, "/usr/bin/chromium", tmp_path / "profile", headless=True)
    assert not [a for a in rec.kwargs["args"] if a.startswith("--window-")]  # headless: no window at all
