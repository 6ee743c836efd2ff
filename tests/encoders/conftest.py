"""What the encoder tests share: a fresh backend cache."""

from __future__ import annotations

import pytest

from vspectrum_app.encoders import backends


@pytest.fixture
def fresh(monkeypatch):
    """Each test loads backends as a new process would (the torch model itself stays cached)."""
    monkeypatch.setattr(backends, "_cache", {})
