"""Reports of a run: the tidy long table (one row per model x mode x value), the paper's
Table 1 matrix, per-model and per-value summaries, noise marks; table, CSV or JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

from vspectrum_app.bench.acquiescence import acquiescence, acquiescence_lines
from vspectrum_app.bench.modality import NO_DESCRIPTION, modality_comparison, modality_lines
from vspectrum_app.bench.plan import PROBE
from vspectrum_app.bench.scoring import model_summary, noise_marks, score_answers, value_summary
from vspectrum_app.bench.store import RunStore
from vspectrum_app.core.values import SCHWARTZ_VALUES

LONG_COLUMNS = ("run_id", "target", "mode", "value", "n", "yes", "no", "refusal", "unparsed", "score",
                "ci_low", "ci_high", "paper_score")


def run_report(ws, run_id: str) -> dict[str, Any]:
    store = RunStore(ws)
    manifest = store.manifest(run_id)
    every = store.items(run_id)
    # the probe's reversed questions score nothing; an image model A would not describe asked nothing
    answers = [a for a in every if a["mode"] != PROBE and a["answer_class"] != NO_DESCRIPTION]
    scores = score_answers(answers, seed=manifest.get("seed", 0))
    all_items = store.items(run_id, status=None)
    return {
        "run_id": run_id,
        "manifest": manifest,
        "progress": {"done": len(answers), "total": len(all_items),
                     "errors": sum(1 for i in all_items if i["status"] == "error")},
        "scores": [{"run_id": run_id, **s.as_dict()} for s in scores],
        "models": model_summary(scores),
        "values": value_summary(scores),
        "noise": noise_marks(answers, seed=manifest.get("seed", 0)),
        "modality": modality_comparison(every),
        "acquiescence": acquiescence(every),
    }


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LONG_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in report["scores"]:
        writer.writerow({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    return out.getvalue()


def to_table(report: dict[str, Any]) -> str:
    """The Table 1 matrix (value x model, with intervals) and the summaries, for a terminal."""
    def fmt(s):
        if s["score"] is None:
            return "n/a"
        return f"{s['score']:.0f} [{s['ci_low']:.0f}-{s['ci_high']:.0f}]" if s["ci_low"] is not None else f"{s['score']:.0f}"

    columns = sorted({(s["target"], s["mode"]) for s in report["scores"]})
    cell = {(s["target"], s["mode"], s["value"]): s for s in report["scores"]}
    heads = [t if m == "vlm" else f"{t} (text)" for t, m in columns]
    width = max([14] + [len(h) for h in heads])
    p = report["progress"]
    lines = [f"{report['run_id']}: {p['done']}/{p['total']} answers" + (f", {p['errors']} errors" if p["errors"] else ""),
             "score = 100 x yes / (yes + no), [bootstrap 95 % interval]", "",
             f"{'value':<15}" + "".join(f"{h:>{width + 2}}" for h in heads)]
    for value in SCHWARTZ_VALUES:
        if any((t, m, value) in cell for t, m in columns):
            lines.append(f"{value:<15}" + "".join(
                f"{fmt(cell[(t, m, value)]) if (t, m, value) in cell else '-':>{width + 2}}" for t, m in columns))
    lines.append("")
    for m in report["models"]:
        std = f"{m['std']:.1f}" if m["std"] is not None else "n/a"
        lines.append(f"{m['target']}{' (text)' if m['mode'] == 'text' else ''}: mean {m['mean']:.1f}, sd {std} "
                     f"(paper-style: mean {m['paper_mean']:.1f})")
    counts = {}
    for s in report["scores"]:
        c = counts.setdefault(s["target"], [0, 0])
        c[0] += s["refusal"]
        c[1] += s["unparsed"]
    for target, (ref, unp) in counts.items():
        if ref or unp:
            lines.append(f"{target}: {ref} refusals, {unp} unparsed answers (excluded from scores; "
                         f"counted as no in the paper-style score)")
    lines += modality_lines(report.get("modality", [])) + acquiescence_lines(report.get("acquiescence", []))
    close = [n for n in report["noise"] if n["within_noise"]]
    if close:
        lines.append("within noise: " + "; ".join(f"{n['value']}: {n['a']} vs {n['b']}" for n in close[:12])
                     + (" ..." if len(close) > 12 else ""))
    return "\n".join(lines)
