"""The real Chromium, for tests that start it (the crawler, persona sessions, selector checks).

A test that needs the browser asks for the ``chromium`` fixture, directly or through one of its
own fixtures: tests/conftest.py marks every such test ``browser`` (``make test-fast`` leaves them
out), and it is skipped where no browser is installed.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser the app itself would start (``find_browser``, the same search)."""
    from vspectrum_app.crawl.browser import BrowserUnavailable, find_browser

    try:
        return find_browser()
    except BrowserUnavailable:
        pytest.skip("no Chromium installed (make system-deps)")
