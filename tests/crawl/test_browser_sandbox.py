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
