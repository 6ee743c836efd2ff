"""Reports of a run: the tidy long table (one row per model x mode x value, with n, yes, no,
refusal, unparsed and no_image beside every score), per-model and per-value summaries, the
paired model comparisons, the circumplex fit; table, CSV or JSON.

``run_report(ws, run_id, paper_style=True)`` scores every cell with the authors' prototype
rule instead of ours (the CLI's ``--paper-style`` and the Results pane's switch)."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from vspectrum_app.bench.acquiescence import acquiescence, acquiescence_lines
from vspectrum_app.bench.circumplex import circumplex
from vspectrum_app.bench.modality import NO_DESCRIPTION, modality_comparison, modality_lines
from vspectrum_app.bench.parsing import PARSER_VERSION
from vspectrum_app.bench.plan import PROBE
from vspectrum_app.bench.scoring import (
    COMPARISON_METHOD,
    INTERVAL_METHOD,
    model_summary,
    paired_comparisons,
    score_answers,
    value_summary,
)
from vspectrum_app.bench.store import RunStore
from vspectrum_app.core.csvfile import to_text
from vspectrum_app.core.values import SCHWARTZ_VALUES

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

LONG_COLUMNS = (
    "run_id",
    "target",
    "mode",
    "value",
    "n",
    "yes",
    "no",
    "refusal",
    "unparsed",
    "no_image",
    "score",
    "ci_low",
    "ci_high",
    "centred",
    "paper_score",
    "design_effect",
    "rule",
    "score_if_unparsed_no",
    "score_if_unparsed_yes",
)
RULE_TEXT = {
    "ours": "score = 100 x yes / (yes + no); refusals and unparsed answers are left out",
    "paper": "paper-style score = 100 x (answers containing 'yes', any case) / n; everything else is a no",
}


def run_report(ws: Workspace, run_id: str, paper_style: bool = False) -> dict[str, Any]:
    store = RunStore(ws)
    manifest = store.manifest(run_id)
    rule = "paper" if paper_style else "ours"
    every = store.scored_items(run_id)  # under the run's first wording (bench report --variants compares them)
    answers = scorable(every)
    all_items = store.scored_items(run_id, status=None)
    no_image: dict[tuple[str, str, str], int] = {}
    for i in all_items:
        if i["status"] == "error" and i["answer_class"] == "no_image":
            key = (i["target"], i["mode"], i["value"])
            no_image[key] = no_image.get(key, 0) + 1
    scores = score_answers(answers, rule=rule, no_image=no_image)
    version = manifest.get("parser_version", 1)  # runs before versions were recorded: version 1
    return {
        "run_id": run_id,
        "manifest": manifest,
        "rule": rule,
        "rule_text": RULE_TEXT[rule],
        "parser": {"run": version, "current": PARSER_VERSION, "stale": version != PARSER_VERSION},
        "methods": {"interval": INTERVAL_METHOD, "comparison": COMPARISON_METHOD},
        "progress": {
            "done": len(every),
            "total": len(all_items),
            "errors": sum(1 for i in all_items if i["status"] == "error"),
            "no_image": sum(no_image.values()),
        },
        "scores": [{"run_id": run_id, **s.as_dict(), **unparsed_bounds(s.yes, s.no, s.unparsed)} for s in scores],
        "models": model_summary(scores),
        "values": value_summary(scores),
        "noise": paired_comparisons(answers, rule=rule),
        "circumplex": circumplex(scores, seed=manifest.get("seed", 0)),
        "modality": modality_comparison(every),
        "acquiescence": acquiescence(every),
    }


def unparsed_bounds(yes: int, no: int, unparsed: int) -> dict[str, float | None]:
    """How far the unparsed answers could move a score: 100 x yes / (yes + no + unparsed) if
    every unparsed answer were a no, 100 x (yes + unparsed) / (yes + no + unparsed) if every one
    were a yes. The score lies between; without unparsed answers both equal it. None when the
    cell has no yes, no or unparsed answer."""
    total = yes + no + unparsed
    if not total:
        return {"score_if_unparsed_no": None, "score_if_unparsed_yes": None}
    return {"score_if_unparsed_no": 100 * yes / total, "score_if_unparsed_yes": 100 * (yes + unparsed) / total}


def scorable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers a score counts: the probe's reversed questions score nothing, and an image
    model A would not describe asked the text-only model nothing."""
    return [a for a in items if a["mode"] != PROBE and a["answer_class"] != NO_DESCRIPTION]


def live_scores(answers: list[dict[str, Any]], rule: str = "ours") -> list[dict[str, Any]]:
    """The scores of the answers so far, per model, answer mode and value: the function the
    report scores a run with (clustered interval), for the Benchmark pane's live view.
    ``answers``: target, mode, value, image_sha256, answer_class (and answer1 for the paper rule)."""
    return [s.as_dict() for s in score_answers(scorable(answers), rule=rule)]


def value_means(scores: list[dict[str, Any]], mode: str = "vlm") -> list[dict[str, Any]]:
    """Fig. 6 over any set of score rows (one run's or several runs'; a model in two runs counts
    twice): per value with a cell in ``mode``, in the circle's order, the mean score across the
    cells that have a score, and the mean of their 95 % bounds. That interval is exact when the
    models' errors move together and wider than the truth when they are independent (the
    half-width of a mean of k independent estimates, sqrt(sum h_i^2) / k, is at most the mean
    half-width): a conservative interval, given without a model of how the models covary. No
    interval when any scored cell has none; no mean when no cell has a score (docs/benchmark.md)."""
    by: dict[str, list[dict[str, Any]]] = {}
    for s in scores:
        if s["mode"] == mode:
            by.setdefault(s["value"], [])
    for s in scores:
        if s["mode"] == mode and s["score"] is not None:
            by[s["value"]].append(s)
    rows = []
    for value in [v for v in SCHWARTZ_VALUES if v in by]:
        cells = by[value]
        mean = statistics.fmean(c["score"] for c in cells) if cells else None
        bounded = bool(cells) and all(c["ci_low"] is not None and c["ci_high"] is not None for c in cells)
        rows.append(
            {
                "value": value,
                "models": len(cells),
                "mean": mean,
                "ci_low": statistics.fmean(c["ci_low"] for c in cells) if bounded else None,
                "ci_high": statistics.fmean(c["ci_high"] for c in cells) if bounded else None,
            }
        )
    return rows


def parser_warning(reports: list[dict[str, Any]]) -> str | None:
    """One line when reports were classified by different or outdated parser versions."""
    versions = {r["parser"]["run"] for r in reports}
    stale = [r["run_id"] for r in reports if r["parser"]["stale"]]
    if len(versions) > 1 or stale:
        return (
            f"warning: answers classified by parser version(s) {', '.join(map(str, sorted(versions)))}, "
            f"current is {PARSER_VERSION}: run 'vspectrum bench reclassify RUN' for " + ", ".join(stale)
        )
    return None


def to_csv(report: dict[str, Any]) -> str:
    """The long table as CSV; numbers at full precision (the csv module writes a float's
    repr: an exact McNemar p of 2e-09 stays 2e-09, never a rounded 0.0)."""
    return to_text(LONG_COLUMNS, ([row.get(c) for c in LONG_COLUMNS] for row in report["scores"]))


def comparisons_csv(report: dict[str, Any]) -> str:
    columns = ("value", "a", "b", "pairs", "only_a_yes", "only_b_yes", "difference", "p", "p_holm", "within_noise")
    return to_text(columns, ([row.get(c) for c in columns] for row in report["noise"]))


def _num(v: float | None, fmt: str = "{:.0f}") -> str:
    return "n/a" if v is None else fmt.format(v)


def degrees_text(deg: float) -> str:
    """An angle in whole degrees in [0, 360): 359.6 prints as 0, never as 360."""
    return str(round(deg) % 360)


def _p_text(p: float, resamples: int) -> str:
    """'= 0.012', or '< 0.0005' at a permutation p's floor of 1 / (resamples + 1)."""
    floor = 1 / (resamples + 1)
    return f"< {floor:.2g}" if p <= floor * (1 + 1e-9) else f"= {p:.3g}"


def unparsed_range(s: dict[str, Any]) -> str:
    """The score's bounds if the unparsed answers were all no / all yes; blank without any."""
    if not s.get("unparsed") or s.get("score_if_unparsed_no") is None:
        return ""
    return f"{s['score_if_unparsed_no']:.0f}-{s['score_if_unparsed_yes']:.0f}"


def to_table(report: dict[str, Any]) -> str:
    """Every model x value cell with its counts, score, interval and centred score; the
    summaries, the paired comparisons and the circumplex, for a terminal."""
    p = report["progress"]
    lines = [
        f"{report['run_id']}: {p['done']}/{p['total']} answers"
        + (f", {p['errors']} errors" if p["errors"] else "")
        + (f" ({p['no_image']} saw no image: resume asks again)" if p["no_image"] else ""),
        report["rule_text"],
        f"interval: {report['methods']['interval']}",
        "centred: score minus the model's mean over its values (MRAT)",
        "if unparsed no-yes: the score if every unparsed answer were a no / a yes",
    ]
    warning = parser_warning([report])
    if warning:
        lines.append(warning)
    head = (
        f"{'model':<24}{'value':<15}{'n':>5}{'yes':>5}{'no':>5}{'ref':>5}{'unp':>5}{'noimg':>6}"
        f"{'score':>7}{'95 % interval':>15}{'centred':>9}{'if unparsed no-yes':>20}"
    )
    lines += ["", head]
    order = {v: i for i, v in enumerate(SCHWARTZ_VALUES)}
    for s in sorted(report["scores"], key=lambda s: (s["target"], s["mode"], order.get(s["value"], 99))):
        who = s["target"] + (" (text)" if s["mode"] == "text" else "")
        ci = f"[{s['ci_low']:.0f}-{s['ci_high']:.0f}]" if s["ci_low"] is not None else "n/a"
        lines.append(
            f"{who[:23]:<24}{s['value']:<15}{s['n']:>5}{s['yes']:>5}{s['no']:>5}{s['refusal']:>5}"
            f"{s['unparsed']:>5}{s['no_image']:>6}{_num(s['score']):>7}{ci:>15}"
            f"{_num(s['centred'], '{:+.1f}'):>9}{unparsed_range(s):>20}"
        )
    lines.append("")
    for m in report["models"]:
        lines.append(
            f"{m['target']}{' (text)' if m['mode'] == 'text' else ''}: mean {m['mean']:.1f}, "
            f"sd {_num(m['std'], '{:.1f}')} (paper-style: mean {_num(m['paper_mean'], '{:.1f}')})"
        )
    if report["noise"]:
        lines += ["", f"model differences: {report['methods']['comparison']}"]
        for c in report["noise"]:
            if not c["within_noise"]:
                lines.append(
                    f"  {c['value']}: {c['a']} vs {c['b']}: {c['difference']:+.0f} points on {c['pairs']} "
                    f"shared images ({c['only_a_yes']} vs {c['only_b_yes']} discordant), "
                    f"p = {c['p']:.3g}, Holm p = {c['p_holm']:.3g}"
                )
        close = sum(c["within_noise"] for c in report["noise"])
        lines.append(f"  {close} of {len(report['noise'])} value x model pairs: no difference at Holm p < 0.05")
    fits = [c for c in report["circumplex"] if c["fit"] or any(c["axes"].values())]
    if fits:
        lines += ["", "circumplex (centred profile ~ a cos(theta - phi) + c; permutation p over positions):"]
        for c in fits:
            who = c["target"] + (" (text)" if c["mode"] == "text" else "")
            f = c["fit"]
            if f:
                lines.append(
                    f"  {who}: amplitude {f['amplitude']:.1f}, peak {degrees_text(f['peak_deg'])} deg "
                    f"({f['peak_region']}), R^2 {f['r2']:.2f}, p {_p_text(f['p_permutation'], f['shuffles'])}"
                )
            for axis, label in (
                ("openness_minus_conservation", "Openness - Conservation"),
                ("transcendence_minus_enhancement", "Self-transcendence - Self-enhancement"),
            ):
                a = c["axes"].get(axis)
                if a:
                    lines.append(f"    {label}: {a['estimate']:+.1f} [{a['ci_low']:+.1f}, {a['ci_high']:+.1f}]")
    lines += modality_lines(report.get("modality", [])) + acquiescence_lines(report.get("acquiescence", []))
    return "\n".join(lines)
