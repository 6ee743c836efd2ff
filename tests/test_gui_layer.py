"""The GUI's import contract (pyproject.toml) classifies every module of every part: public to
the window, or forbidden to it. A new module has to be put on one side, so the contract never
silently allows a part's internals."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = "the GUI imports the parts only through their public modules"
PARTS = ("annotate", "bench", "crawl", "encoders", "library", "persona", "providers")

# What the window may import, part by part, and why.
PUBLIC_TO_GUI = {
    "annotate": {"ops", "session", "store", "exchange", "report", "sampling"},  # jobs, the walk, answers, agreement
    "bench": {
        "ops",
        "store",
        "report",
        "trace",
        "intervals",
        "circumplex",
        "progress",
    }  # jobs, runs, scores, audit, CI, plot
    | {"paper", "drift", "figures", "latex"}  # published profiles, drift, the files Results exports
    | {"variants", "robustness"},  # prompt wordings and their report
    "crawl": {"ops", "store", "browser"},  # jobs, sessions, whether a display exists
    "library": {"ops", "catalog", "search", "keywords"},  # jobs, reads
    "encoders": {"embedder", "weights", "onnx_build"},  # the model: its spec, download and build
    "persona": {"ops", "store", "report", "personas", "prompts", "calls"},  # + the call log export
    "providers": {"ops", "config", "presets", "prices"},  # the Test job, provider settings
}


def _forbidden() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == CONTRACT]
    assert contract["source_modules"] == ["vspectrum_app.gui"]
    return set(contract["forbidden_modules"])


def test_every_module_of_every_part_is_public_to_the_gui_or_forbidden_to_it():
    forbidden = _forbidden()
    unclassified, both = [], []
    for part in PARTS:
        for module in pkgutil.iter_modules([str(ROOT / "vspectrum_app" / part)]):
            name = f"vspectrum_app.{part}.{module.name}"
            public = module.name in PUBLIC_TO_GUI[part]
            if public and name in forbidden:
                both.append(name)
            elif not public and name not in forbidden:
                unclassified.append(name)
    assert not both, f"public and forbidden at once: {both}"
    assert not unclassified, (
        f"new modules: add them to the forbidden_modules of '{CONTRACT}' in pyproject.toml, "
        f"or to PUBLIC_TO_GUI here: {unclassified}"
    )
    for name in forbidden:
        assert name.count(".") == 2 or name in {"vspectrum_app.cli", "vspectrum_app.__main__", "vspectrum_app.sim"}
