"""``vspectrum persona ...``: persona library, sessions on a feed, counterfactual replay, reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vspectrum_app.core.command import CommandContext
from vspectrum_app.core import csvfile
from vspectrum_app.core.operations import add_parser
from vspectrum_app.core.protocol import CAPTURE_AT_S
from vspectrum_app.persona import ops


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("persona", help="persona sessions: a VLM role-plays a persona while scrolling a feed")
    cmds = p.add_subparsers(dest="persona_command", metavar="COMMAND")

    c = cmds.add_parser("list", help="the persona library")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_list)

    c = cmds.add_parser("import-personas", help="import Persona-Chat text, a JSON file, or a plain list")
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(func=cmd_import)

    c = add_parser(
        cmds,
        ops.Run,
        help="new sessions: each persona x model role-plays on a feed (or a control policy)",
        description="Each persona with each model (or the control policy) scrolls the feed for "
        f"TRIALS x SCROLLS videos: capture {CAPTURE_AT_S:g} s in, ask, watch on yes, scroll on no.",
    )
    c.set_defaults(func=cmd_run)

    c = add_parser(cmds, ops.Resume, help="go on with unfinished sessions (nothing finished is redone)")
    c.set_defaults(func=cmd_resume)

    c = add_parser(
        cmds,
        ops.Replay,
        help="counterfactual replay: show a recorded feed to another model or persona",
        description="What would model B (or persona P) have watched on session A's feed? The "
        "recorded screenshots are asked again offline; the feed does not react.",
    )
    c.set_defaults(func=cmd_replay)

    c = cmds.add_parser("add", help="add a persona, or edit one (--replace OLD_NAME)")
    c.add_argument("name")
    c.add_argument("--statement", action="append", required=True, help="a first-person statement (repeat, 4-5)")
    c.add_argument("--value", action="append", default=[], help="a Schwartz value it should pull the feed towards")
    c.add_argument("--topic", action="append", default=[], help="a content topic it should pull the feed towards")
    c.add_argument("--tag", action="append", default=[])
    c.add_argument("--replace", metavar="OLD_NAME", help="edit this persona (its new name may differ)")
    c.set_defaults(func=cmd_add)

    c = cmds.add_parser("delete", help="delete a persona of this workspace (shipped ones stay)")
    c.add_argument("name")
    c.set_defaults(func=cmd_delete)

    c = cmds.add_parser("sessions", help="persona sessions in this workspace")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_sessions)

    c = cmds.add_parser("export", help="a session's model calls as a file: one row per call, with its decision")
    c.add_argument("session", metavar="SESSION")
    c.add_argument("--calls", type=Path, required=True, metavar="FILE", help="the file: .csv or .jsonl")
    c.set_defaults(func=cmd_export)

    c = cmds.add_parser("report", help="the paper's Tables 3-8 figures for one or more sessions")
    c.add_argument("sessions", nargs="+", metavar="SESSION")
    c.add_argument("--format", choices=("table", "csv", "json"), default="table")
    c.add_argument(
        "--tables",
        action="store_true",
        help="one table per platform x strategy, a row per model (the paper's Tables 3-8)",
    )
    c.set_defaults(func=cmd_report)


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.persona.personas import PersonaLibrary

    personas = PersonaLibrary(ctx.workspace()).all()
    if ctx.json:
        ctx.print_json([{**p.to_json(), "id": p.id, "builtin": p.builtin} for p in personas])
        return 0
    for p in personas:
        pulls = ", ".join(p.values + p.topics)
        print(f"{p.name}{'  [shipped]' if p.builtin else ''}")
        for n, s in enumerate(p.statements, 1):
            print(f"    {n}. {s}")
        if pulls:
            print(f"    pulls towards: {pulls}")
    return 0


def cmd_import(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.persona.personas import PersonaLibrary

    lib = PersonaLibrary(ctx.workspace())
    for path in args.files:
        added = lib.import_file(path)
        print(
            f"{path}: {len(added)} personas added"
            + (f" ({', '.join(p.name for p in added[:5])}{', ...' if len(added) > 5 else ''})" if added else "")
        )
    return 0


def cmd_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.persona.personas import Persona, PersonaLibrary

    persona = Persona.from_json(
        {
            "name": args.name,
            "statements": args.statement,
            "values": args.value,
            "topics": args.topic,
            "tags": args.tag,
            "source": "vspectrum persona add",
        }
    )
    PersonaLibrary(ctx.workspace()).save(persona, replace_name=args.replace)
    print(f"persona {persona.name} {'updated' if args.replace else 'added'}")
    return 0


def cmd_delete(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.persona.personas import PersonaLibrary

    PersonaLibrary(ctx.workspace()).delete(args.name)
    print(f"persona {args.name} deleted")
    return 0


def cmd_run(args: argparse.Namespace, ctx: CommandContext) -> int:
    _print_result(ctx.params(ops.Run, args), ctx)
    return 0


def cmd_resume(args: argparse.Namespace, ctx: CommandContext) -> int:
    _print_result(ctx.params(ops.Resume, args), ctx)
    return 0


def cmd_replay(args: argparse.Namespace, ctx: CommandContext) -> int:
    _print_result(ctx.params(ops.Replay, args), ctx)
    return 0


def _print_result(params: ops.Run | ops.Resume | ops.Replay, ctx: CommandContext) -> None:
    from vspectrum_app.persona.report import format_report, session_report

    sessions = ops.run(params, ctx.workspace(), ctx.reporter)
    if ctx.args.events:  # the window's job: the sessions and their summaries
        ctx.result(params, ops.ran(ctx.workspace(), sessions))
        return
    reports = [session_report(ctx.workspace(), s) for s in sessions]
    if ctx.json:
        ctx.print_json(reports)
    else:
        for r in reports:
            print(format_report(r))


def cmd_export(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.persona.calls import export_calls

    n = export_calls(ctx.workspace(), args.session, args.calls)
    print(f"{n} calls of session {args.session} written to {args.calls}")
    return 0


def cmd_sessions(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.persona.store import SessionStore

    sessions = SessionStore(ctx.workspace()).list()
    if ctx.json:
        ctx.print_json(sessions)
        return 0
    for s in sessions:
        who = f"{s['provider']}:{s['model']}" if s["model"] else s["strategy"]
        print(
            f"{s['id']}  {s['status']:<9} {s['steps']}/{s['total_steps']}  {s['persona']} / {who} / "
            f"{s['strategy']} / {s['platform']}" + (f"  (replay of {s['replay_of']})" if s["replay_of"] else "")
        )
    return 0


REPORT_COLUMNS = (
    "session_id",
    "persona",
    "provider",
    "model",
    "platform",
    "strategy",
    "trials_done",
    "steps",
    "first_rate",
    "last_rate",
    "change",
    "change_p",
    "i_avg",
    "i_avg_ci95",
    "undefined_trials",
    "watch_rate",
    "control_session",
    "control_i_avg",
    "minus_control",
    "minus_control_ci95",
)


def cmd_report(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.persona.report import format_report, session_report

    ws = ctx.workspace()
    reports = [session_report(ws, s) for s in args.sessions]
    if args.tables:
        return _print_tables(reports, args.format, ctx)
    if args.format == "json":
        ctx.print_json(reports)
    elif args.format == "csv":
        csvfile.write_rows(sys.stdout, REPORT_COLUMNS, ([r.get(c) for c in REPORT_COLUMNS] for r in reports))
    else:
        for r in reports:
            print(format_report(r))
    return 0


TABLE_COLUMNS = (
    "model",
    "persona",
    "trials",
    "first_rate",
    "last_rate",
    "change",
    "change_p",
    "i_avg",
    "i_avg_ci95",
    "undefined_trials",
    "incomplete_trials",
    "control_i_avg",
    "minus_control",
    "minus_control_ci95",
)


def _print_tables(reports: list[dict[str, Any]], fmt: str, ctx: CommandContext) -> int:
    from vspectrum_app.persona.report import alignment_tables

    tables = alignment_tables(reports)
    if fmt == "json":
        ctx.print_json(tables)
        return 0
    if fmt == "csv":
        csvfile.write_rows(
            sys.stdout,
            ("table",) + TABLE_COLUMNS,
            ([t["title"]] + [row[c] for c in TABLE_COLUMNS] for t in tables for row in t["rows"]),
        )
        return 0
    for table in tables:
        n = table["rows"][0]["window"]
        print(f"\n{table['title']}")
        print(
            f"  {'model':<34} {'persona':<24} {'first ' + str(n):>9} {'last ' + str(n):>9} {'change':>8} "
            f"{'p':>8} {'I_avg':>8} {'- control':>10}"
        )
        for row in table["rows"]:
            print(
                f"  {row['model'][:34]:<34} {row['persona'][:24]:<24} {_num(row['first_rate']):>9} "
                f"{_num(row['last_rate']):>9} {_num(row['change']):>8} {row.get('change_p_text') or _num(row['change_p'], 3):>8} "
                f"{_num(row['i_avg']):>8} {_num(row['minus_control']):>10}"
            )
    return 0


def _num(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"
