"""Modality comparison (paper Section 6): the same model answering with the image and from
model A's description alone, compared pair by pair.

Both arms answer about the same retrieved images, so the comparison is paired: per model and
value, the items (value, keyword, image, repeat) that got a yes or a no in both arms; the
discordant pairs b (image yes, text no) and c (image no, text yes) go into an exact McNemar
test (two-sided binomial test of b against b + c at 1/2). Items whose image model A would not
describe ("no description") or that either arm refused or left unparsed are not pairs. The
p-values of one run's family (models x values) are Holm-adjusted (docs/benchmark.md).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from vspectrum_app.bench.intervals import holm, mcnemar_exact
from vspectrum_app.core.values import SCHWARTZ_VALUES

DECIDED = ("yes", "no")
# A text-arm item whose image model A would not describe: no question was put to the text
# model, so it is neither its refusal nor any answer; scores and paired tests leave it out.
NO_DESCRIPTION = "no_description"


def modality_comparison(answers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model and value with both arms: pairs, both-yes/both-no, b, c, the image and text
    scores over the pairs, the exact McNemar p and its Holm-adjusted p; and how many items had
    no description. ``answers``: done items (target, mode, value, keyword, image_sha256,
    repeat, answer_class)."""
    arms: dict[tuple[str, str], dict[str, dict[tuple[str, str, int], str]]] = defaultdict(
        lambda: {"vlm": {}, "text": {}}
    )
    for a in answers:
        if a["mode"] not in ("vlm", "text"):
            continue  # the acquiescence probe's items
        key = (a["keyword"], a["image_sha256"], a.get("repeat", 0))
        arms[(a["target"], a["value"])][a["mode"]][key] = a["answer_class"]
    order = {v: i for i, v in enumerate(SCHWARTZ_VALUES)}
    rows: list[dict[str, Any]] = []
    for (target, value), arm in sorted(arms.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 99))):
        if not arm["vlm"] or not arm["text"]:
            continue
        pairs = [
            (arm["vlm"][k], arm["text"][k])
            for k in arm["vlm"].keys() & arm["text"].keys()
            if arm["vlm"][k] in DECIDED and arm["text"][k] in DECIDED
        ]
        b = sum(1 for i, t in pairs if i == "yes" and t == "no")
        c = sum(1 for i, t in pairs if i == "no" and t == "yes")
        n = len(pairs)
        rows.append(
            {
                "target": target,
                "value": value,
                "pairs": n,
                "both_yes": sum(1 for i, t in pairs if i == t == "yes"),
                "both_no": sum(1 for i, t in pairs if i == t == "no"),
                "b": b,
                "c": c,
                "image_score": 100 * sum(i == "yes" for i, _ in pairs) / n if n else None,
                "text_score": 100 * sum(t == "yes" for _, t in pairs) / n if n else None,
                "no_description": sum(1 for cls in arm["text"].values() if cls == NO_DESCRIPTION),
                "p": mcnemar_exact(b, c),
            }
        )
    for row, adjusted in zip(rows, holm([r["p"] for r in rows])):
        row["p_holm"] = adjusted
    return rows


def modality_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The comparison for a terminal: one line per model and value."""
    if not rows:
        return []
    lines = ["image vs text (paired over items answered yes/no in both arms; exact McNemar, Holm-adjusted):"]
    for r in rows:
        scores = f"{r['image_score']:.0f} vs {r['text_score']:.0f}" if r["pairs"] else "no pairs"
        lines.append(
            f"  {r['target']} {r['value']}: {scores}, {r['pairs']} pairs, b={r['b']} c={r['c']}, "
            f"p={r['p']:.3g} (Holm {r['p_holm']:.3g})"
            + (f", {r['no_description']} without description" if r["no_description"] else "")
        )
    return lines
