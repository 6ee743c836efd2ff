"""Figures of a run for a paper (``vspectrum bench figure``): matplotlib (imported only here,
Agg backend), one journal column wide (3.5 in), fonts embedded as TrueType in PDF
(pdf.fonttype 42) and as outlines in SVG, every score with its 95 % interval. The numbers are
the report's (``run_report``) and the paper comparison's (``paper.compare``).

Kinds: ``radar`` (each model's profile in Schwartz's circle order, interval band), ``bars``
(grouped bars with interval whiskers), ``paper`` (the run's profile with a published one drawn
over it, both with intervals), ``compare`` (the difference run - paper per value with
Newcombe's interval; values that differ at Holm p < 0.05 filled), ``variants`` (one model's
profile under each wording of a run started with ``--prompt-variants``, from
``robustness.variant_report``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from vspectrum_app.bench import paper
from vspectrum_app.bench.circumplex import ORDER
from vspectrum_app.bench.report import run_report
from vspectrum_app.core.errors import UserError
from vspectrum_app.core.values import VALUE_CODES

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.projections.polar import PolarAxes

    from vspectrum_app.core.workspace import Workspace

KINDS = ("radar", "bars", "compare", "paper", "variants")
FORMATS = (".pdf", ".svg", ".png")
WIDTH_IN = 3.5  # one column of a two-column journal or ACL page
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
PAPER_COLOR = "#555555"
CODES = VALUE_CODES
ONE_WORDING = (
    "run {run_id} was asked under one wording; the variants figure compares the wordings of a run "
    "started with --prompt-variants: nothing written"
)

Cell = tuple[float | None, float | None, float | None]  # score, ci_low, ci_high


def _figure(width: float, height: float) -> Figure:
    """A figure outside pyplot (no global figure list, safe on a worker thread), saved by Agg."""
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams.update(
        {
            "pdf.fonttype": 42,  # TrueType, embedded: editable text that journals accept
            "ps.fonttype": 42,
            "svg.fonttype": "path",  # outlines: the SVG looks the same without the font
            "font.size": 7,
            "axes.titlesize": 7,
            "legend.fontsize": 6,
            "xtick.labelsize": 6,
            "ytick.labelsize": 6,
            "font.family": "DejaVu Sans",
        }
    )
    return Figure(figsize=(width, height))


def _profiles(report: dict[str, Any], mode: str = "vlm") -> dict[str, dict[str, Cell]]:
    out: dict[str, dict[str, Cell]] = {}
    for s in report["scores"]:
        if s["mode"] == mode:
            out.setdefault(s["target"], {})[s["value"]] = (s["score"], s["ci_low"], s["ci_high"])
    return out


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def radar(series: dict[str, tuple[dict[str, Cell], str]], title: str) -> Figure:
    """``series``: name -> (value -> cell, colour); spokes in Schwartz's circle order, a gap
    where a value has no score."""
    fig = _figure(WIDTH_IN, WIDTH_IN)
    ax = cast("PolarAxes", fig.add_subplot(projection="polar"))
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    angles = [2 * math.pi * i / len(ORDER) for i in range(len(ORDER))]
    closed = angles + angles[:1]
    for name, (cells, color) in series.items():
        score = [_nan(cells.get(v, (None,) * 3)[0]) for v in ORDER]
        low = [_nan(cells.get(v, (None,) * 3)[1]) for v in ORDER]
        high = [_nan(cells.get(v, (None,) * 3)[2]) for v in ORDER]
        ax.plot(closed, score + score[:1], color=color, linewidth=1.2, marker="o", markersize=2.5, label=name)
        ax.fill_between(closed, low + low[:1], high + high[:1], color=color, alpha=0.18, linewidth=0)
    ax.set_xticks(angles)
    ax.set_xticklabels(ORDER)
    for label, angle in zip(ax.get_xticklabels(), angles):
        side = math.sin(angle)  # clockwise from the top: right half positive
        label.set_horizontalalignment("left" if side > 0.1 else "right" if side < -0.1 else "center")
    ax.tick_params(axis="x", pad=1)
    ax.set_ylim(0, 100)
    ax.set_yticks([25, 50, 75, 100])
    ax.set_yticklabels(["25", "50", "75", "100"], color="#777777", fontsize=5)
    ax.set_rlabel_position(180 / len(ORDER))  # between the first two spokes, off every line
    ax.grid(color="#cccccc", linewidth=0.5)
    ax.set_title(title, pad=14)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(2, len(series)), frameon=False)
    fig.tight_layout()
    return fig


def bars(series: dict[str, tuple[dict[str, Cell], str]], title: str, ylabel: str = "score (95 % interval)") -> Figure:
    """Grouped bars per value (circle order, Schwartz's two-letter codes) with interval whiskers."""
    fig = _figure(WIDTH_IN, 2.4)
    ax = fig.add_subplot()
    k = max(len(series), 1)
    width = 0.8 / k
    for n, (name, (cells, color)) in enumerate(series.items()):
        xs, ys, lo, hi = [], [], [], []
        for i, v in enumerate(ORDER):
            s, a, b = cells.get(v, (None, None, None))
            if s is None:
                continue  # not measured: no bar, never a zero
            xs.append(i - 0.4 + width * (n + 0.5))
            ys.append(s)
            lo.append(s - a if a is not None else 0.0)
            hi.append(b - s if b is not None else 0.0)
        ax.bar(xs, ys, width=width * 0.9, color=color, label=name)
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="none", ecolor="#222222", elinewidth=0.6, capsize=1.2)
    ax.set_xticks(range(len(ORDER)))
    ax.set_xticklabels([CODES[v] for v in ORDER])
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(2, k), frameon=False)
    fig.tight_layout()
    return fig


def difference(cmp: dict[str, Any]) -> Figure:
    """Run - paper per value with Newcombe's 95 % interval; filled: Holm p < 0.05."""
    fig = _figure(WIDTH_IN, 2.4)
    ax = fig.add_subplot()
    rows = {r["value"]: r for r in cmp["values"]}
    for i, v in enumerate(ORDER):
        r = rows[v]
        if r["difference"] is None:
            continue
        d = r["difference"]
        ax.errorbar(
            [i],
            [d],
            yerr=[[d - r["diff_low"]], [r["diff_high"] - d]],
            fmt="o",
            color=COLORS[1] if r["differs"] else COLORS[0],
            markerfacecolor=COLORS[1] if r["differs"] else "white",
            markersize=3.5,
            elinewidth=0.8,
            capsize=1.5,
        )
    ax.axhline(0, color="#888888", linewidth=0.6)
    ax.set_xticks(range(len(ORDER)))
    ax.set_xticklabels([CODES[v] for v in ORDER])
    ax.set_ylabel("run - paper (points, 95 % CI)")
    rho = "n/a" if cmp["spearman"] is None else f"{cmp['spearman']:.2f}"
    ax.set_title(f"{cmp['target']} vs {cmp['published']['name']} ({cmp['source']}); Spearman {rho}")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def published_cells(cmp: dict[str, Any]) -> dict[str, Cell]:
    return {r["value"]: (r["paper"], r["paper_ci_low"], r["paper_ci_high"]) for r in cmp["values"]}


def run_cells(cmp: dict[str, Any]) -> dict[str, Cell]:
    return {r["value"]: (r["run"], r["run_ci_low"], r["run_ci_high"]) for r in cmp["values"]}


def _check(kind: str, model: str | None) -> None:
    if kind not in KINDS:
        raise UserError(f"unknown figure kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind in ("paper", "compare") and model is None:
        raise UserError(f"the {kind} figure compares with a published profile: name one with --against-paper MODEL")


def build(
    report: dict[str, Any], kind: str, model: str | None = None, table: int = 1, target: str | None = None
) -> Figure:
    """The figure of ``kind`` for a report (and a published model for ``paper``/``compare``)."""
    _check(kind, model)
    if kind in ("radar", "bars"):
        profiles = _profiles(report)
        if target is not None:
            profiles = {paper.run_target(report, target): profiles[target]}
        if not profiles:
            raise UserError(f"run {report['run_id']} has no scores to draw yet")
        series = {name: (cells, COLORS[n % len(COLORS)]) for n, (name, cells) in enumerate(profiles.items())}
        title = f"{report['run_id']}: scores, 95 % intervals"
        return radar(series, title) if kind == "radar" else bars(series, title)
    assert model is not None  # _check
    cmp = paper.compare(report, model, table, target)
    if kind == "compare":
        return difference(cmp)
    pub = cmp["published"]
    series = {
        cmp["target"]: (run_cells(cmp), COLORS[0]),
        f"{pub['name']} ({cmp['source']})": (published_cells(cmp), PAPER_COLOR),
    }
    return radar(series, "this run and the paper, 95 % intervals")


def variants(report: dict[str, Any], target: str | None = None) -> Figure:
    """Each wording's profile of one model (``robustness.variant_report``), as grouped bars with
    their intervals: the numbers ``bench report --variants`` prints."""
    if len(report["wordings"]) < 2:
        raise UserError(ONE_WORDING.format(run_id=report["run_id"]))
    target = paper.run_target(report, target)  # the only model, or the one named
    series: dict[str, tuple[dict[str, Cell], str]] = {}
    for n, w in enumerate(report["wordings"]):
        cells = {
            s["value"]: (s["score"], s["ci_low"], s["ci_high"])
            for s in report["scores"]
            if s["variant"] == w["name"] and s["target"] == target and s["mode"] == "vlm"
        }
        series[w["name"]] = (cells, COLORS[n % len(COLORS)])
    return bars(series, f"{target}: each wording, 95 % intervals")


def save(fig: Figure, out: Path) -> None:
    """Write by suffix: PDF, SVG or PNG at 300 dpi."""
    if Path(out).suffix.lower() not in FORMATS:
        raise UserError(f"{Path(out).name}: a figure is written as .pdf, .svg or .png")
    fig.savefig(out, dpi=300, bbox_inches="tight")


def write_figure(
    ws: Workspace,
    run_id: str,
    out: Path,
    kind: str = "radar",
    model: str | None = None,
    table: int = 1,
    target: str | None = None,
    paper_style: bool = False,
) -> None:
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise UserError(f"{out.name}: a figure is written as .pdf, .svg or .png, not {out.suffix or 'no suffix'}")
    _check(kind, model)  # before the report: a wrong request is refused at once
    if kind == "variants":
        from vspectrum_app.bench.robustness import variant_report

        save(variants(variant_report(ws, run_id, paper_style=paper_style), target), out)
        return
    report = run_report(ws, run_id, paper_style=paper_style)
    save(build(report, kind, model, table, target), out)
