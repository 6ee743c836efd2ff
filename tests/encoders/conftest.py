"""What the encoder tests share: a fresh backend cache, and the precision check's pictures drawn once."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from vspectrum_app.encoders import backends, precision


@pytest.fixture
def fresh(monkeypatch):
    """Each test loads backends as a new process would (the torch model itself stays cached)."""
    monkeypatch.setattr(backends, "_cache", {})


_real_check_pixels = precision.check_pixels


@functools.lru_cache(maxsize=2)
def _check_pixels(size: int, mean: tuple, std: tuple, interpolation: str) -> np.ndarray:
    meta = {"size": size, "mean": list(mean), "std": list(std), "interpolation": interpolation}
    return _real_check_pixels(meta)


@pytest.fixture(autouse=True)
def check_pixels_once(monkeypatch):
    """The precision check's 400 pictures, drawn and preprocessed once per session (seconds
    each time on a busy machine), not once per ``precision.choose``: the same pixels."""
    monkeypatch.setattr(
        precision,
        "check_pixels",
        lambda meta: _check_pixels(int(meta["size"]), tuple(meta["mean"]), tuple(meta["std"]), meta["interpolation"]),
    )
