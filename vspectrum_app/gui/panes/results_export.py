"""The Results pane's "Export for a paper..." button: the files the CLI writes, from what the
pane shows. A figure is ``bench figure``'s (matplotlib, PDF/SVG/PNG), a table is ``bench
report --format latex``'s, JSON is ``bench report --format json``'s (on the Paper tab the
comparison, as ``--against-paper``; on the Drift tab ``bench compare``'s). Written on the
pane's worker: matplotlib's first import takes a moment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vspectrum_app.gui.panes.results import ResultsPane

FILTERS = "PDF figure (*.pdf);;SVG figure (*.svg);;PNG figure (*.png);;LaTeX table (*.tex);;JSON (*.json)"
SUFFIXES = (".pdf", ".svg", ".png", ".tex", ".json")


def what_to_write(pane: ResultsPane) -> dict[str, Any]:
    """What the current tab would export: the figure kind, the report, the comparison shown."""
    tab = pane.tabs.currentWidget()
    on_paper = tab is pane.paper_view
    cmp = pane.paper_view.comparison if on_paper else None
    report = pane.reports[0]
    if cmp is not None:
        report = next(r for r in pane.reports if r["run_id"] == cmp["run_id"])
    kind = "bars" if tab is pane.value_means else "radar"
    if on_paper:
        kind = "paper" if pane.paper_view.views.currentWidget() is pane.paper_view.radar else "compare"
    drift = pane.drift_view.result if tab is pane.drift_view else None
    every = list(pane.reports) if len(pane.reports) > 1 else report
    return {"kind": kind, "report": report, "comparison": cmp, "drift": drift, "reports": every}


def write(job: dict[str, Any], path: str) -> str:
    """Write ``path`` by its suffix (on any thread: ``job`` is ``what_to_write``'s, read on
    the GUI thread); returns what was written, in words. Raises OSError or UserError."""
    from vspectrum_app.core.errors import UserError

    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError(f"{Path(path).name}: choose .pdf, .svg, .png, .tex or .json")
    report, cmp = job["report"], job["comparison"]
    if suffix == ".json":
        data = job["drift"] or cmp or job["reports"]
        Path(path).write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
        return "JSON"
    if suffix == ".tex":
        from vspectrum_app.bench.latex import report_latex

        Path(path).write_text(report_latex(report, comparison=cmp), encoding="utf-8")
        return f"LaTeX table of {report['run_id']}"
    from vspectrum_app.bench import figures

    if cmp is not None:
        table, key = cmp["published"]["table"], cmp["published"]["key"]
        fig = figures.build(report, job["kind"], key, table, cmp["target"])
    else:
        fig = figures.build(report, job["kind"])
    figures.save(fig, Path(path))
    return f"{job['kind']} figure of {report['run_id']}"
