"""The library owns its tables: every other part reads and writes them through
``vspectrum_app.library`` (the catalog API), never with its own SQL.

The check reads every string literal of the app outside ``library/`` (implicitly
concatenated literals and the text parts of f-strings included) and fails with the
file:line list of each one that names a library table after a SQL keyword."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from vspectrum_app.library import index_integrity, schema

APP = Path(__file__).resolve().parents[1] / "vspectrum_app"
OWNER = APP / "library"

# every table the library's migrations create (its catalog and the index files' checksums)
LIBRARY_TABLES = sorted(
    set(re.findall(r"CREATE TABLE (\w+)", "\n".join(schema.MIGRATIONS + index_integrity.MIGRATIONS)))
)
SQL_ON_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(" + "|".join(LIBRARY_TABLES) + r")\b", re.IGNORECASE)


def _literals(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else " ? " for v in node.values)
            yield node.lineno, text


def sql_on_library_tables(root: Path = APP, owner: Path = OWNER) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if owner in path.parents:
            continue
        seen = set()
        for lineno, text in _literals(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            match = SQL_ON_TABLE.search(text)
            if match and lineno not in seen:
                seen.add(lineno)
                found.append(f"{path.relative_to(root.parent)}:{lineno}: {match.group(0)}")
    return sorted(found, key=lambda f: (f.split(":")[0], int(f.split(":")[1])))


def test_the_check_sees_sql_in_every_literal_form(tmp_path):
    app = tmp_path / "vspectrum_app"
    (app / "library").mkdir(parents=True)
    (app / "library" / "own.py").write_text('Q = "SELECT * FROM images"\n')
    (app / "gui.py").write_text(
        'A = ("SELECT id "\n     "FROM images")\nB = f"SELECT {x} FROM embeddings e"\n'
        'C = "the images from the feed"\nD = "insert into keyword_sets values (1)"\n'
    )
    assert sql_on_library_tables(app, app / "library") == [
        "vspectrum_app/gui.py:1: FROM images",
        "vspectrum_app/gui.py:3: FROM embeddings",
        "vspectrum_app/gui.py:5: into keyword_sets",
    ]


def test_no_sql_on_library_tables_outside_the_library():
    assert {"images", "embeddings", "clip_models", "index_files"} <= set(LIBRARY_TABLES)
    found = sql_on_library_tables()
    assert not found, "SQL on the library's tables outside vspectrum_app/library/ (use library.catalog):\n" + "\n".join(
        found
    )
