"""The licences of what a bundle carries, in one text file shipped beside the app.

The PyInstaller spec passes the top-level names of every module it collected; each installed
distribution that provides one of those names contributes its name, version, stated licence and
the text of its licence files (LICENSE*, COPYING*, NOTICE*, AUTHORS* as it shipped them). Only
what is bundled is listed: build and test tools are not.

    python packaging/licenses.py OUT.txt MODULE [MODULE ...]   # e.g. numpy PySide6
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

APP_NOTICE = """Value-Spectrum Studio is released under the MIT licence.
It bundles the parts listed below, each under its own licence, reproduced as it shipped.
"""
LICENCE_FILES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")


def top_level_names(dist: metadata.Distribution) -> set[str]:
    """The import names a distribution provides (top_level.txt, else the first part of its files)."""
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names = set()
    for f in dist.files or []:
        first = f.parts[0]
        if not first.endswith((".dist-info", ".egg-info", ".data")) and first not in ("..", "bin", "__pycache__"):
            names.add(first.removesuffix(".py"))
    return names


def licence_texts(dist: metadata.Distribution) -> list[tuple[str, str]]:
    texts = []
    for f in dist.files or []:
        if f.name.upper().startswith(LICENCE_FILES) and f.suffix.lower() in ("", ".txt", ".md", ".rst"):
            try:
                texts.append((str(f), Path(f.locate()).read_text(encoding="utf-8", errors="replace")))
            except OSError:  # listed in RECORD but not installed
                continue
    return texts


def stated_licence(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    stated = meta.get("License-Expression") or (meta.get("License") or "").strip()
    if stated and "\n" not in stated and len(stated) < 120:
        return stated
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return ", ".join(classifiers) or "see the licence text below"


def bundled(modules: set[str]) -> list[metadata.Distribution]:
    seen, found = set(), []
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in seen and top_level_names(dist) & modules:
            seen.add(name.lower())
            found.append(dist)
    return sorted(found, key=lambda d: d.metadata["Name"].lower())


def write(out: Path, modules: set[str]) -> int:
    """Write the licence file for a bundle holding `modules`; returns how many parts it lists."""
    dists = [d for d in bundled(modules) if d.metadata["Name"].lower() != "vspectrum-app"]
    parts = [APP_NOTICE]
    for dist in dists:
        parts.append("=" * 78)
        parts.append(f"{dist.metadata['Name']} {dist.version}: {stated_licence(dist)}")
        for path, text in licence_texts(dist):
            parts.append(f"--- {path}\n{text.strip()}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return len(dists)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    count = write(Path(sys.argv[1]), set(sys.argv[2:]))
    print(f"{sys.argv[1]}: licences of {count} bundled parts")
