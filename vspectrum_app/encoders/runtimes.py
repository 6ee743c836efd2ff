"""Whether an optional runtime (torch, ONNX Runtime, OpenVINO, open_clip) is installed,
found without importing it: importing one costs 0.1 s to several seconds."""

from __future__ import annotations

import importlib.util


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules (hidden on purpose)
        return False
