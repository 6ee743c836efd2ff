"""Print the sizes of a build: each installer (the download) and the bundle folder (what
it takes installed), against the lean bundle's goals. Used by build.sh."""

from __future__ import annotations

import argparse
from pathlib import Path

GOALS_MB = {"download": 250, "installed": 700}  # the lean Linux bundle's goals


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="lean")
    ap.add_argument("--installed", type=Path, required=True)
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("installers", nargs="*", type=Path)
    a = ap.parse_args()
    lean = a.variant == "lean"
    for f in a.installers:
        mb = f.stat().st_size / 2**20
        goal = (
            f" (goal <= {GOALS_MB['download']} MB: {'met' if mb <= GOALS_MB['download'] else 'NOT met'})"
            if lean
            else ""
        )
        print(f"download  {f.name}: {mb:.0f} MB{goal}")
    mb = folder_mb(a.installed)
    goal = (
        f" (goal <= {GOALS_MB['installed']} MB: {'met' if mb <= GOALS_MB['installed'] else 'NOT met'})" if lean else ""
    )
    print(f"installed {a.installed}: {mb:.0f} MB{goal}")
    print(f"build     {a.variant} bundle in {a.seconds} s")


if __name__ == "__main__":
    main()
