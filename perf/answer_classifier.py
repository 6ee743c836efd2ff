"""The answer classifier (``core.answer_classes``) on its labelled corpus
(tests/core/answer_corpus.jsonl): accuracy per class, the confusion matrix, the corpus per
language and class, and the speed per answer.

"exact": the class is the corpus's first reading; "fair": it is one a reader could give
(the first, or "unparsed" where the row allows it); "opposite": yes read as no or no as yes,
which must be 0.

    python -m perf.answer_classifier
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from vspectrum_app.core.answer_classes import CLASSES, VERSION, classify

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "core" / "answer_corpus.jsonl"
OPPOSITE = {"yes": "no", "no": "yes"}


def main(argv: list[str]) -> None:
    rows = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines()]
    start = time.perf_counter()
    got = [classify(r["text"]) for r in rows]
    seconds = time.perf_counter() - start
    print(
        f"classifier version {VERSION}, {len(rows)} answers ({sum(r['source'].startswith('pilot:') for r in rows)} real)"
    )
    print(f"\n{'class':<10}{'n':>5}{'exact':>8}{'fair':>8}{'opposite':>10}")
    for cls in CLASSES:
        idx = [i for i, r in enumerate(rows) if r["expected"][0] == cls]
        if not idx:
            continue
        exact = sum(got[i] == cls for i in idx) / len(idx)
        fair = sum(got[i] in rows[i]["expected"] for i in idx) / len(idx)
        opposite = sum(got[i] == OPPOSITE.get(cls) for i in idx)
        print(f"{cls:<10}{len(idx):>5}{exact:>8.3f}{fair:>8.3f}{opposite:>10}")
    exact = sum(g == r["expected"][0] for g, r in zip(got, rows)) / len(rows)
    fair = sum(g in r["expected"] for g, r in zip(got, rows)) / len(rows)
    print(f"{'all':<10}{len(rows):>5}{exact:>8.3f}{fair:>8.3f}")
    print("\nconfusion (rows: the corpus's first reading, columns: the classifier's class)")
    print(f"{'':<10}" + "".join(f"{c:>10}" for c in CLASSES))
    for want in CLASSES:
        counts = Counter(g for g, r in zip(got, rows) if r["expected"][0] == want)
        print(f"{want:<10}" + "".join(f"{counts[c]:>10}" for c in CLASSES))
    print("\ncorpus per language and class (first reading)")
    langs = sorted({r["lang"] for r in rows}, key=lambda lang: -sum(r["lang"] == lang for r in rows))
    print(f"{'lang':<6}" + "".join(f"{c:>10}" for c in CLASSES) + f"{'total':>8}")
    for lang in langs:
        counts = Counter(r["expected"][0] for r in rows if r["lang"] == lang)
        print(f"{lang:<6}" + "".join(f"{counts[c]:>10}" for c in CLASSES) + f"{sum(counts.values()):>8}")
    print(f"\nspeed: {1e6 * seconds / len(rows):.0f} us per answer")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
