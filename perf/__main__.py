"""Run every benchmark module in this folder (each has a main(argv))."""

import importlib
import pkgutil
import sys
from pathlib import Path

if __name__ == "__main__":
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    for name in names:
        print(f"\n=== perf.{name} ===", flush=True)
        importlib.import_module(f"perf.{name}").main(sys.argv[1:])
