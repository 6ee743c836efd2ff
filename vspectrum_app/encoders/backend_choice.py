"""``auto``'s backend: every runtime and precision measured once on this machine, the fastest that passed.

Candidates: torch (fp32 open_clip), and each backend's precisions as ``precision.choose``
tries them (ONNX Runtime: the export's dynamic int8 tower, static int8, fp32; OpenVINO: static
int8, its fp16 hint, fp32), timed on the same first check pictures; a backend's schemes are
checked fastest first until one passes (``precision.quality``: every cosine to the reference
>= 0.99, and the 95 % lower bound of the texts' and pictures' top-10 overlap with the
reference's >= 0.9, over 400 generated screenshots). The reference is fp32 open_clip when torch is installed,
else the fp32 ONNX towers (checked against open_clip when exported). The result goes to
``choice.json`` in the model's export folder with the machine it was measured on (CPU, cores,
runtime versions): a models folder copied to another machine, or a runtime upgraded, is
measured again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vspectrum_app.core.jobs import NullReporter, Reporter
from vspectrum_app.encoders import precision
from vspectrum_app.encoders.precision import CHECK, N_TIMED, TEXTS, machine, make, quality, rate

if TYPE_CHECKING:
    from vspectrum_app.encoders.embedder import ClipSpec

CHOICE_FILE = "choice.json"


def recorded(folder: Path, meta: dict[str, Any]) -> dict[str, Any] | None:
    """The recorded choice for this export on this machine, or None."""
    try:
        choice = json.loads((Path(folder) / CHOICE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(choice, dict):  # valid JSON but not a record (hand-edited): measure again
        return None
    if choice.get("machine") != machine() or choice.get("export_created") != meta.get("created"):
        return None
    if choice.get("check") != CHECK:  # measured with another quality check: measure again
        return None
    return choice


def choose(spec: ClipSpec, folder: Path, meta: dict[str, Any], reporter: Reporter | None = None) -> dict[str, Any]:
    """The recorded choice, or measure every candidate now, record and return it."""
    choice = recorded(folder, meta)
    if choice is not None:
        return choice
    reporter = reporter or NullReporter()
    reporter.log(f"measuring the embedding backends for CLIP {spec.describe()} on this machine (once)")
    choice = measure(spec, folder, meta)
    try:
        tmp = Path(folder) / f"{CHOICE_FILE}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(choice, indent=1))
        os.replace(tmp, Path(folder) / CHOICE_FILE)
    except OSError:  # a read-only models folder: measured again next time
        pass
    passed = [f"{c['backend']} {c['precision']} {c['rate']:.1f}/s" for c in choice["candidates"] if c["passed"]]
    reporter.log(
        f"embedding backend for this machine: {choice['backend']} {choice['precision']} (passed: {', '.join(passed)})"
    )
    return choice


def measure(spec: ClipSpec, folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """torch fp32, then each backend's precisions (``precision.choose``) on the same pictures
    against the same reference; the fastest that passed."""
    from dataclasses import asdict

    pixels = precision.check_pixels(meta)
    torch_row: dict[str, Any] = {"backend": "torch", "precision": "fp32"}
    try:
        torch = make(spec, folder, meta, "torch", "fp32")
        batch = __import__("torch").from_numpy(pixels)
        reference = (torch.encode_batch(batch), torch.encode_texts(TEXTS))
        torch_row.update(quality(reference, reference), reference=True, rate=rate(torch, batch[:N_TIMED]))
    except ImportError as exc:
        torch_row.update(missing=exc.name or str(exc), passed=False)
        reference = precision.reference_vectors(spec, folder, meta, pixels)
    results = [torch_row]
    for backend in precision.SCHEMES:
        chosen = precision.choose(spec, folder, meta, backend, reference, pixels=pixels)
        precision.save(folder, meta, chosen, machine())  # ``--backend`` serves it without measuring again
        for trial in chosen.trials:
            row = {k: v for k, v in asdict(trial).items() if v is not None}
            if "missing" not in torch_row or (backend, trial.precision) != ("onnx", "fp32"):
                results.append(row)
            else:  # without torch the fp32 ONNX towers are the reference
                results.append({**row, "reference": True})
    passed = [r for r in results if r["passed"]]
    best = max(passed, key=lambda r: r["rate"]) if passed else {"backend": "torch", "precision": "fp32"}
    return {
        "backend": best["backend"],
        "precision": best["precision"],
        "candidates": results,
        "machine": machine(),
        "export_created": meta.get("created"),
        "check": CHECK,
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
