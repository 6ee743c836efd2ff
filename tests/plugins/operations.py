"""Every operation (``core.operations.Operation``) the parts declare: what the tests of the job
seam (argv round trip, typed results) iterate over."""

from __future__ import annotations

import importlib

from vspectrum_app.core.operations import Operation

OPS_MODULES = [
    "vspectrum_app.annotate.ops",
    "vspectrum_app.library.ops",
    "vspectrum_app.bench.ops",
    "vspectrum_app.persona.ops",
    "vspectrum_app.crawl.ops",
    "vspectrum_app.providers.ops",
]


def all_operations() -> list[type[Operation]]:
    """Each operation class once, subclasses included, in command order."""
    for module in OPS_MODULES:
        importlib.import_module(module)
    found, todo = [], list(Operation.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return sorted(found, key=lambda c: c.command)
