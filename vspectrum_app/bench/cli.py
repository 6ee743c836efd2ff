"""``vspectrum bench ...``: preference runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from vspectrum_app.core.command import CommandContext
from vspectrum_app.bench import ops, research_cli
from vspectrum_app.core.operations import add_parser

if TYPE_CHECKING:
    from vspectrum_app.bench.progress import RunOutcome


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_bench(sub)


# -- bench --------------------------------------------------------------------------------


def _register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="the preference benchmark: run, resume, report")
    cmds = p.add_subparsers(dest="bench_command", metavar="COMMAND")
    c = add_parser(cmds, ops.Run, help="ask models the paper's questions about each value's images")
    c.set_defaults(func=cmd_bench_run)

    c = add_parser(cmds, ops.Resume, help="continue an interrupted run: nothing finished is sent again")
    c.set_defaults(func=cmd_bench_resume)

    c = cmds.add_parser("report", help="scores with intervals, the paper's tables")
    c.add_argument("run_id")
    c.add_argument("--format", choices=("table", "csv", "json", "latex"), default="table")
    c.add_argument(
        "--paper-style",
        action="store_true",
        help="score with the authors' rule: an answer containing 'yes' is a yes, everything else a no",
    )
    c.add_argument(
        "--comparisons",
        action="store_true",
        help="the paired model comparisons (exact McNemar, Holm) instead of the scores",
    )
    research_cli.report_options(c)
    c.add_argument(
        "--variants",
        action="store_true",
        help="prompt-wording robustness: per wording the scores, per value the range and a verdict, agreement",
    )
    c.set_defaults(func=cmd_bench_report)

    c = cmds.add_parser("reclassify", help="re-derive every answer's class with the current parser; list changes")
    c.add_argument("run_id")
    c.add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_bench_reclassify)
    c = cmds.add_parser("export", help="every call behind a run's answers, for audit (CSV or JSONL)")
    c.add_argument("run_id")
    c.add_argument(
        "--answers",
        type=Path,
        required=True,
        metavar="FILE",
        help="where to write: .csv or .jsonl (prompt texts, image, raw response, class, parser version, "
        "tokens, latency, provider, model, parameters)",
    )
    c.set_defaults(func=cmd_bench_export)

    c = cmds.add_parser("list", help="runs in this workspace")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_bench_list)

    c = cmds.add_parser("delete", help="delete a run and its answers (the answer cache is kept)")
    c.add_argument("run_id")
    c.set_defaults(func=cmd_bench_delete)
    research_cli.register(cmds)  # paper, figure, compare


def cmd_bench_delete(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.bench.store import RunStore

    n = RunStore(ctx.workspace()).delete_run(args.run_id)
    print(f"run {args.run_id} deleted ({n} items)")
    return 0


def cmd_bench_run(args: argparse.Namespace, ctx: CommandContext) -> int:
    params = ctx.params(ops.Run, args)
    outcome = ops.run(params, ctx.workspace(), ctx.reporter)
    return 0 if outcome is None else _print_outcome(ctx, params, outcome)


def cmd_bench_resume(args: argparse.Namespace, ctx: CommandContext) -> int:
    params = ctx.params(ops.Resume, args)
    outcome = ops.run(params, ctx.workspace(), ctx.reporter)
    return 0 if outcome is None else _print_outcome(ctx, params, outcome)


def _print_outcome(ctx: CommandContext, params: ops.Run | ops.Resume, outcome: RunOutcome) -> int:
    from vspectrum_app.bench.report import run_report, to_table

    if ctx.result(params, outcome):  # the window's job: the panes read the run from the workspace
        return 0 if outcome.status == "done" else 1
    run_id = outcome.run_id
    for problem in outcome.problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{outcome.sent} calls sent, {outcome.cached} answered from the workspace", file=sys.stderr)
    if outcome.status != "done":
        print(
            f"run {run_id} is {outcome.status} with {outcome.errors} items left: "
            f"'vspectrum bench resume {run_id}' continues it",
            file=sys.stderr,
        )
    print(to_table(run_report(ctx.workspace(), run_id)))
    return 0 if outcome.status == "done" else 1


def cmd_bench_report(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.bench.report import comparisons_csv, run_report, to_csv, to_table

    if args.variants:
        return _report_variants(args, ctx)
    report = run_report(ctx.workspace(), args.run_id, paper_style=args.paper_style)
    if research_cli.report_extra(args, ctx, report):  # --against-paper, --format latex
        return 0
    if args.format == "json":
        ctx.print_json(report["noise"] if args.comparisons else report)
    elif args.format == "csv":
        sys.stdout.write(comparisons_csv(report) if args.comparisons else to_csv(report))
    else:
        print(to_table(report))
    return 0


def _report_variants(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.bench import robustness

    report = robustness.variant_report(ctx.workspace(), args.run_id, paper_style=args.paper_style)
    if args.format == "json":
        ctx.print_json(report)
    elif args.format == "csv":
        sys.stdout.write(robustness.to_csv(report))
    else:
        print(robustness.to_table(report))
    return 0


def cmd_bench_reclassify(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.bench.parsing import PARSER_VERSION
    from vspectrum_app.bench.store import RunStore

    store = RunStore(ctx.workspace())
    before = store.manifest(args.run_id).get("parser_version", 1)
    changes = store.reclassify(args.run_id, write=not args.dry_run)
    if ctx.json:
        ctx.print_json({"run_id": args.run_id, "from": before, "to": PARSER_VERSION, "changes": changes})
        return 0
    for c in changes:
        answer = (c["answer"] or "").replace("\n", " ")
        print(f"item {c['item_id']} {c['target']} {c['value']}: {c['old']} -> {c['new']}  {answer[:70]!r}")
    done = "would change" if args.dry_run else "changed"
    print(
        f"{args.run_id}: parser version {before} -> {PARSER_VERSION}, {len(changes)} classes {done}"
        + (
            "; answers that saw no image are now errors: 'vspectrum bench resume' asks again"
            if any(c["new"] == "no_image" for c in changes) and not args.dry_run
            else ""
        ),
        file=sys.stderr,
    )
    return 0


def cmd_bench_export(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.bench.trace import ExportError, export_answers
    from vspectrum_app.core.errors import UserError

    try:
        n = export_answers(ctx.workspace(), args.run_id, args.answers)
    except (ExportError, OSError) as exc:
        raise UserError(f"cannot export: {exc}") from None
    print(f"{n} calls written to {args.answers}", file=sys.stderr)
    return 0


def cmd_bench_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.bench.store import RunStore

    runs = RunStore(ctx.workspace()).runs()
    if ctx.json:
        ctx.print_json(runs)
        return 0
    for r in runs:
        print(
            f"{r['id']}  {r['status']:<9} {r['done']}/{r['total']}  {', '.join(r['targets'])}"
            + (f"  ({r['error']})" if r["error"] else "")
        )
    return 0
