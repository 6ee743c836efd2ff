"""``vspectrum bench paper | figure | compare`` and the report's ``--against-paper`` and
``--format latex``: the research commands beside the run commands of ``bench/cli.py``, which
only registers them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

FIGURE_KINDS = ("radar", "bars", "compare", "paper", "variants")


def register(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    c = cmds.add_parser("paper", help="the paper's published tables (arXiv 2411.11479): 1, 3-8, 9, 10")
    c.add_argument("--table", type=int, metavar="N", help="one table (default: all of them)")
    c.add_argument("--format", choices=("table", "csv", "json"), default="table")
    c.set_defaults(func=cmd_paper)

    c = cmds.add_parser("figure", help="a figure of a run for a paper: PDF, SVG or PNG at a column's width")
    c.add_argument("run_id")
    c.add_argument("--out", type=Path, required=True, metavar="FILE", help="FILE.pdf, FILE.svg or FILE.png")
    c.add_argument("--kind", choices=FIGURE_KINDS, default="radar")
    c.add_argument("--against-paper", metavar="MODEL", help="the published profile for --kind compare and paper")
    c.add_argument("--table", type=int, choices=(1, 10), default=1, dest="paper_table")
    c.add_argument("--target", help="the run's model (default: its only one)")
    c.add_argument("--paper-style", action="store_true", help="score with the authors' rule")
    c.set_defaults(func=cmd_figure)

    c = cmds.add_parser("compare", help="two runs paired by image, per value (model drift): exact McNemar, Holm")
    c.add_argument("run_a")
    c.add_argument("run_b")
    c.add_argument("--target", help="run A's model (default: its only one)")
    c.add_argument("--target-b", help="run B's model (default: run A's, else its only one)")
    c.add_argument("--mode", choices=("vlm", "text"), default="vlm")
    c.add_argument("--paper-style", action="store_true", help="score with the authors' rule")
    c.add_argument("--format", choices=("table", "csv", "json"), default="table")
    c.set_defaults(func=cmd_compare)


def report_options(c: argparse.ArgumentParser) -> None:
    """The report's options for a comparison with the paper."""
    c.add_argument("--against-paper", metavar="MODEL", help="compare with a published profile (Table 1 or 10 row)")
    c.add_argument("--table", type=int, choices=(1, 10), default=1, dest="paper_table", help="the paper's table")
    c.add_argument("--target", help="the run's model to compare (default: its only one)")
    c.add_argument("--mode", choices=("vlm", "text"), default="vlm", help="the run's answers with the image, or text")


def report_extra(args: argparse.Namespace, ctx: Any, report: dict[str, Any]) -> bool:
    """Print the paper comparison or the LaTeX table when asked; True when done so."""
    from vspectrum_app.bench import latex, paper

    cmp = None
    if args.against_paper:
        cmp = paper.compare(report, args.against_paper, args.paper_table, args.target, args.mode)
    if args.format == "latex":
        sys.stdout.write(latex.report_latex(report, comparison=cmp, comparisons_only=args.comparisons))
        return True
    if cmp is None:
        return False
    if args.format == "json":
        ctx.print_json(cmp)
    elif args.format == "csv":
        sys.stdout.write(paper.comparison_csv(cmp))
    else:
        print(paper.comparison_text(cmp))
    return True


def cmd_paper(args: argparse.Namespace, ctx: Any) -> int:
    from vspectrum_app.bench import paper

    docs = [paper.load(args.table)] if args.table is not None else [paper.load(n) for n in paper.TABLES]
    if args.format == "json":
        ctx.print_json(docs[0] if args.table is not None else docs)
    elif args.format == "csv":
        sys.stdout.write(paper.tables_csv(docs))
    else:
        print("\n\n".join(paper.table_text(d) for d in docs))
    return 0


def cmd_figure(args: argparse.Namespace, ctx: Any) -> int:
    from vspectrum_app.bench.figures import write_figure
    from vspectrum_app.core.errors import UserError

    try:
        write_figure(
            ctx.workspace(),
            args.run_id,
            args.out,
            kind=args.kind,
            model=args.against_paper,
            table=args.paper_table,
            target=args.target,
            paper_style=args.paper_style,
        )
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"{args.kind} figure written to {args.out}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace, ctx: Any) -> int:
    from vspectrum_app.bench.drift import compare_runs, drift_csv, drift_text

    d = compare_runs(
        ctx.workspace(), args.run_a, args.run_b, args.target, args.target_b, args.mode, paper_style=args.paper_style
    )
    if args.format == "json":
        ctx.print_json(d)
    elif args.format == "csv":
        sys.stdout.write(drift_csv(d))
    else:
        print(drift_text(d))
    return 0
