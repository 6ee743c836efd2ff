"""The acquiescence probe (yes-bias): on a sample of each value's images the model is also
asked the reversed question ("Do you dislike ...?"). A model answering on content says yes to
exactly one of the pair; a model that agrees with whatever it is asked says yes to both.

Per model, over the sampled (value, keyword, image, repeat) items answered yes or no to both
questions: the consistency rate (exactly one yes) and the yes-to-both rate, each with the
app's score interval (Wilson with continuity correction, bench.intervals; docs/benchmark.md:
coverage at least 0.95, near 0 and 100 % too, unlike the normal approximation).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from vspectrum_app.bench.intervals import score_interval
from vspectrum_app.bench.plan import PROBE

DECIDED = ("yes", "no")


def rate_interval(successes: int, n: int) -> tuple[float, float] | None:
    """The 95 % interval of successes / n in percent (bench.intervals); None when n = 0."""
    ci = score_interval(successes, n)
    return None if ci is None else (100 * ci[0], 100 * ci[1])


def acquiescence(answers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model with probe items: pairs, consistent, yes-to-both, no-to-both, the two rates
    and their 95 % intervals, and the probe items left out (refused/unparsed either way)."""
    like: dict[tuple[str, str, str, str, int], str] = {}
    probes: dict[str, list[tuple[tuple[str, str, str, str, int], str]]] = defaultdict(list)
    for a in answers:
        key = (a["target"], a["value"], a["keyword"], a["image_sha256"], a.get("repeat", 0))
        if a["mode"] == "vlm":
            like[key] = a["answer_class"]
        elif a["mode"] == PROBE:
            probes[a["target"]].append((key, a["answer_class"]))
    rows = []
    for target in sorted(probes):
        pairs = [(like[k], cls) for k, cls in probes[target] if like.get(k) in DECIDED and cls in DECIDED]
        n = len(pairs)
        consistent = sum(1 for a, r in pairs if a != r)
        both_yes = sum(1 for a, r in pairs if a == r == "yes")
        rows.append(
            {
                "target": target,
                "pairs": n,
                "consistent": consistent,
                "yes_to_both": both_yes,
                "no_to_both": n - consistent - both_yes,
                "left_out": len(probes[target]) - n,
                "consistency": 100 * consistent / n if n else None,
                "consistency_ci": rate_interval(consistent, n),
                "yes_to_both_rate": 100 * both_yes / n if n else None,
                "yes_to_both_ci": rate_interval(both_yes, n),
            }
        )
    return rows


def acquiescence_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "acquiescence probe (the reversed question on a sample; 95 % intervals, Wilson with continuity correction):"
    ]
    for r in rows:
        if not r["pairs"]:
            lines.append(f"  {r['target']}: no pair answered yes/no both ways ({r['left_out']} left out)")
            continue
        c, y = r["consistency_ci"], r["yes_to_both_ci"]
        lines.append(
            f"  {r['target']}: consistent {r['consistency']:.0f} % [{c[0]:.0f}-{c[1]:.0f}], "
            f"yes to both {r['yes_to_both_rate']:.0f} % [{y[0]:.0f}-{y[1]:.0f}] of {r['pairs']} pairs"
            + (f" ({r['left_out']} left out: refused or unparsed)" if r["left_out"] else "")
        )
    return lines
