"""``vspectrum annotate ...``: create task sets, move answers between machines, report."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from vspectrum_app.library.cli import add_clip_arguments

    p = sub.add_parser("annotate", help="human validation: task sets, answers, agreement")
    cmds = p.add_subparsers(dest="annotate_command", metavar="COMMAND")
    c = cmds.add_parser("create", help="sample a task set from the library")
    c.add_argument("name")
    c.add_argument("--kind", choices=("value", "representativeness"), default="value")
    c.add_argument("--values", nargs="+", metavar="VALUE", help="values to sample (default: all ten)")
    c.add_argument("--per-value", type=int, default=50, help="items per value (representativeness: items in all)")
    c.add_argument("--k", type=int, default=5, help="images per keyword retrieved before sampling")
    c.add_argument("--keyword-set", metavar="SET")
    c.add_argument("--raters", type=int, default=3, help="annotators required per item")
    c.add_argument("--seed", type=int, default=0)
    add_clip_arguments(c)
    c.set_defaults(func=cmd_create)
    c = cmds.add_parser("list", help="task sets in this workspace")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_list)
    c = cmds.add_parser("export", help="write an annotator's answers (with history) to a file")
    c.add_argument("set")
    c.add_argument("--annotator", help="only this annotator (default: everyone)")
    c.add_argument("--out", type=Path, required=True)
    c.set_defaults(func=cmd_export)
    c = cmds.add_parser("import", help="merge exported answers into this workspace")
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(func=cmd_import)
    c = cmds.add_parser("report", help="Table 9 percentages, agreement, disagreements, filtered scores")
    c.add_argument("set")
    c.add_argument("--run", metavar="RUN_ID", help="also recompute this benchmark run on the agreed screenshots")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_report)


def cmd_create(args, ctx) -> int:
    from vspectrum_app.annotate.sampling import create_representativeness_set, create_value_set_by_retrieval
    from vspectrum_app.annotate.store import AnnotationStore
    from vspectrum_app.library.cli import clip_spec_from_args

    ws = ctx.workspace()
    if args.kind == "representativeness":
        set_id = create_representativeness_set(ws, args.name, size=args.per_value, raters=args.raters, seed=args.seed)
    else:
        set_id = create_value_set_by_retrieval(ws, args.name, clip_spec_from_args(args), keyword_set=args.keyword_set,
                                               k=args.k, values=args.values, per_value=args.per_value,
                                               raters=args.raters, seed=args.seed)
    n = len(AnnotationStore(ws).items(set_id))
    print(f"task set {set_id} ({args.name}): {n} items")
    return 0


def cmd_list(args, ctx) -> int:
    from vspectrum_app.annotate.store import AnnotationStore

    sets = AnnotationStore(ctx.workspace()).sets()
    if ctx.json:
        ctx.print_json(sets)
    for s in sets if not ctx.json else []:
        print(f"{s['id']}  {s['name']}  {s['kind']}, {s['items']} items, {s['raters']} raters each")
    return 0


def cmd_export(args, ctx) -> int:
    from vspectrum_app.annotate.exchange import export_answers

    n = export_answers(ctx.workspace(), args.set, args.annotator, args.out)
    print(f"{n} answers written to {args.out}")
    return 0


def cmd_import(args, ctx) -> int:
    from vspectrum_app.annotate.exchange import import_answers, read_export

    for path in args.files:  # every file checked before any is merged
        read_export(path)
    for path in args.files:
        r = import_answers(ctx.workspace(), path)
        print(f"{path}: {r.describe()}")
    return 0


def cmd_report(args, ctx) -> int:
    from vspectrum_app.annotate.report import set_report

    report = set_report(ctx.workspace(), args.set, run_id=args.run)
    if ctx.json:
        ctx.print_json(report)
        return 0
    print(f"{report['set']['name']} ({report['set']['kind']}), annotators: {', '.join(report['annotators']) or 'none yet'}")
    questions = [q for q in ("screenshot", "video", "representative") if q in report["overall"]]
    for q in questions:
        print(f"\n{q}: % yes / no / not sure, Fleiss' kappa, Krippendorff's alpha (items, raters)")
        for row in report["groups"] + [report["overall"]]:
            s = row.get(q)
            if s:
                print(f"  {row['group']:<15} {s['pct_yes']:6.1f} {s['pct_no']:6.1f} {s['pct_not_sure']:6.1f}   "
                      f"{_fmt(s['fleiss_kappa'])}  {_fmt(s['krippendorff_alpha'])}  ({s['items']}, {s['raters']})")
    if report["disagreements"]:
        print(f"\n{len(report['disagreements'])} items with disagreement (see --json for the list)")
    for row in report.get("filtered_scores", []):
        print(f"{row['target']} {row['value']}: {_fmt(row['score'])} on {row['n']} -> "
              f"{_fmt(row['score_filtered'])} on {row['n_filtered']} agreed screenshots")
    return 0


def _fmt(x) -> str:
    return "  n/a" if x is None else f"{x:5.3f}" if abs(x) <= 1 else f"{x:5.1f}"
