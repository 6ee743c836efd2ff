"""How long a user without network waits for the "could not download the CLIP weights"
sentence (tests/library/test_index.py checks that no connection is tried; this times it).

Each run is a fresh process (the model cache is per process), offline as the tests are;
the figure includes the interpreter start and the torch/open_clip imports.

    python -m perf.model_offline [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = (
    "from vspectrum_app.encoders.backends import load_embedder\n"
    "from vspectrum_app.encoders.embedder import ClipModelUnavailable, ClipSpec\n"
    "try:\n    load_embedder(ClipSpec())\nexcept ClipModelUnavailable:\n    print('refused', flush=True)\n"
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="perf.model_offline")
    parser.add_argument("--runs", type=int, default=3)
    args, _ = parser.parse_known_args(argv)
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "VSPECTRUM_DATA_DIR": tmp,
            "VSPECTRUM_CONFIG_DIR": tmp,
            "PYTHONPATH": str(ROOT),
        }
        for _ in range(args.runs):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, cwd=ROOT)
            samples.append(time.perf_counter() - start)
            if "refused" not in out.stdout:
                raise SystemExit(f"the offline load did not end with ClipModelUnavailable:\n{out.stderr[-2000:]}")
    print(
        f"offline default model refused after {statistics.median(samples):.2f} s (median of {args.runs}, "
        f"process start included; goal: seconds, not a network timeout)"
    )


if __name__ == "__main__":
    main()
