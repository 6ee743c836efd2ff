"""The worked examples in the docs are what the code prints: every ```pycon block of
docs/benchmark.md and docs/persona.md runs as a doctest, every ```examples:classify line
("TEXT" => class) is classified, and the corpus figures quoted in docs/benchmark.md are
recounted."""

from __future__ import annotations

import ast
import doctest
import json
import re
from pathlib import Path

import pytest

from vspectrum_app.core.answer_classes import classify

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("docs/benchmark.md", "docs/persona.md")


def _blocks(doc: str, info: str) -> list[tuple[int, str]]:
    """(line number, text) of each fenced block whose info string is ``info`` (indented or not)."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    out = []
    for m in re.finditer(rf"^( *)```{re.escape(info)}\n(.*?)^\1```", text, re.M | re.S):
        body = "\n".join(line[len(m.group(1)) :] for line in m.group(2).splitlines())
        out.append((text[: m.start()].count("\n") + 1, body + "\n"))
    return out


PYCON = [(doc, line, body) for doc in DOCS for line, body in _blocks(doc, "pycon")]


def test_the_docs_have_worked_examples():
    assert sum(doc == "docs/benchmark.md" for doc, _, _ in PYCON) >= 3
    assert sum(doc == "docs/persona.md" for doc, _, _ in PYCON) >= 2


@pytest.mark.parametrize("doc, line, body", PYCON, ids=[f"{d}:{n}" for d, n, _ in PYCON])
def test_pycon_blocks_print_what_the_docs_say(doc, line, body):
    test = doctest.DocTestParser().get_doctest(body, {}, f"{doc}:{line}", doc, line)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


def test_classification_examples():
    blocks = _blocks("docs/benchmark.md", "examples:classify")
    assert blocks
    rows = [line for _, body in blocks for line in body.splitlines() if line.strip()]
    assert len(rows) >= 10
    wrong = []
    for row in rows:
        text, expected = row.rsplit("=>", 1)
        got = classify(ast.literal_eval(text.strip()))
        if got != expected.strip():
            wrong.append((text.strip(), expected.strip(), got))
    assert not wrong


def test_corpus_figures_quoted_in_the_docs():
    text = " ".join((ROOT / "docs/benchmark.md").read_text(encoding="utf-8").split())
    rows = [json.loads(line) for line in (ROOT / "tests/core/answer_corpus.jsonl").read_text("utf-8").splitlines()]
    fair = sum(classify(r["text"]) in r["expected"] for r in rows)
    exact = sum(classify(r["text"]) == r["expected"][0] for r in rows)
    real = sum(r["source"].startswith("pilot:") for r in rows)
    assert f"holds {len(rows)} answers ({real} real ones" in text
    assert f"({fair} of {len(rows)} fair, {exact} exact)" in text
