"""``vspectrum persona ...``: persona library, sessions on a feed, counterfactual replay, reports."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("persona", help="persona sessions: a VLM role-plays a persona while scrolling a feed")
    cmds = p.add_subparsers(dest="persona_command", metavar="COMMAND")

    c = cmds.add_parser("list", help="the persona library")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_list)

    c = cmds.add_parser("import-personas", help="import Persona-Chat text, a JSON file, or a plain list")
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(func=cmd_import)

    c = cmds.add_parser("sessions", help="persona sessions in this workspace")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_sessions)

    c = cmds.add_parser("report", help="the paper's Tables 3-8 figures for one or more sessions")
    c.add_argument("sessions", nargs="+", metavar="SESSION")
    c.add_argument("--format", choices=("table", "csv", "json"), default="table")
    c.set_defaults(func=cmd_report)


def cmd_list(args, ctx) -> int:
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


def cmd_import(args, ctx) -> int:
    from vspectrum_app.persona.personas import PersonaLibrary

    lib = PersonaLibrary(ctx.workspace())
    for path in args.files:
        added = lib.import_file(path)
        print(f"{path}: {len(added)} personas added" + (f" ({', '.join(p.name for p in added[:5])}"
                                                      f"{', ...' if len(added) > 5 else ''})" if added else ""))
    return 0


def cmd_sessions(args, ctx) -> int:
    from vspectrum_app.persona.store import SessionStore

    sessions = SessionStore(ctx.workspace()).list()
    if ctx.json:
        ctx.print_json(sessions)
        return 0
    for s in sessions:
        who = f"{s['provider']}:{s['model']}" if s["model"] else s["strategy"]
        print(f"{s['id']}  {s['status']:<9} {s['steps']}/{s['total_steps']}  {s['persona']} / {who} / "
              f"{s['strategy']} / {s['platform']}" + (f"  (replay of {s['replay_of']})" if s["replay_of"] else ""))
    return 0


REPORT_COLUMNS = ("session_id", "persona", "provider", "model", "platform", "strategy", "trials_done", "steps",
                  "first_rate", "last_rate", "change", "i_avg", "i_avg_ci95", "undefined_trials", "watch_rate")


def cmd_report(args, ctx) -> int:
    from vspectrum_app.persona.report import session_report

    ws = ctx.workspace()
    reports = [session_report(ws, s) for s in args.sessions]
    if args.format == "json":
        ctx.print_json(reports)
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(REPORT_COLUMNS)
        for r in reports:
            writer.writerow([r.get(c) for c in REPORT_COLUMNS])
    else:
        for r in reports:
            print(format_report(r))
    return 0


def format_report(r: dict) -> str:
    def pct(v):
        return "n/a" if v is None else f"{v:.1f}"

    who = f"{r['provider']}:{r['model']}" if r["model"] else r["strategy"]
    lines = [f"{r['session_id']}: {r['persona']} / {who} / {r['strategy']} / {r['platform']}",
             f"  trials {r['trials_done']}/{r['trials']}, {r['steps']} videos; decisions {r['decisions']}",
             f"  related content (yes) first {r['window']}: {pct(r['first_rate'])}%   last {r['window']}: "
             f"{pct(r['last_rate'])}%   change: {pct(r['change'])}%",
             f"  I_avg: {pct(r['i_avg'])}%" + (f"  (95% CI {r['i_avg_ci95'][0]:.1f} to {r['i_avg_ci95'][1]:.1f})"
                                              if r["i_avg_ci95"] else "")]
    if r["undefined_trials"]:
        lines.append(f"  trials with no yes in the first {r['window']} (left out of I_avg): {r['undefined_trials']}")
    if "served_related" in r:
        s = r["served_related"]
        lines.append(f"  served on-persona content (simulator ground truth): {pct(s['first_rate'])}% -> "
                     f"{pct(s['last_rate'])}%")
    if "learnt_profile" in r:
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(r["learnt_profile"].items())[:5])
        lines.append(f"  recommender learnt: {top}; intended: {', '.join(r['intended']['values'] + r['intended']['topics'])}")
    return "\n".join(lines)
