"""``vspectrum persona ...``: persona library, sessions on a feed, counterfactual replay, reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vspectrum_app.core import csvfile


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("persona", help="persona sessions: a VLM role-plays a persona while scrolling a feed")
    cmds = p.add_subparsers(dest="persona_command", metavar="COMMAND")

    c = cmds.add_parser("list", help="the persona library")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_list)

    c = cmds.add_parser("import-personas", help="import Persona-Chat text, a JSON file, or a plain list")
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(func=cmd_import)

    c = cmds.add_parser("run", help="new sessions: each persona x model role-plays on a feed (or a control policy)",
                        description="Each persona with each model (or the control policy) scrolls the feed for "
                                    "TRIALS x SCROLLS videos: capture 2 s in, ask, watch on yes, scroll on no.")
    c.add_argument("--persona", action="append", required=True, metavar="NAME",
                   help="a persona from `persona list` (repeat for several)")
    c.add_argument("--provider", help="provider for bare --model names (see `vspectrum providers list`)")
    c.add_argument("--model", action="append", default=[], metavar="[PROVIDER:]MODEL",
                   help="model to role-play (repeat for several)")
    c.add_argument("--strategy", choices=("simple", "isq", "control"), default="simple",
                   help="simple (yes/no), isq (the seven questions) or control (random watch/skip, no model)")
    c.add_argument("--control-rate", type=float, help="control: probability of watching (default 0.2)")
    c.add_argument("--match", metavar="SESSION", help="control: use this session's watch rate")
    c.add_argument("--platform", choices=("sim", "tiktok", "youtube", "instagram"), default="sim")
    c.add_argument("--skin", choices=("tiktok", "youtube", "instagram"), default="tiktok",
                   help="the simulator's layout")
    c.add_argument("--trials", type=int, default=10, help="trials, each on a fresh feed profile (default 10)")
    c.add_argument("--scrolls", type=int, default=100, help="videos per trial (default 100)")
    c.add_argument("--window", type=int, default=50, help="n of 'first/last n videos' (default 50)")
    c.add_argument("--watch", type=float, default=45.0, dest="watch_s", help="seconds watched on a yes (default 45)")
    c.add_argument("--capture-at", type=float, default=2.0, dest="capture_at_s",
                   help="screenshot this many seconds into each video (default 2)")
    c.add_argument("--threshold", type=float, default=60.0, help="ISQ: watch when S%% exceeds this (default 60)")
    c.add_argument("--temperature", type=float)
    c.add_argument("--seed", type=int, default=0, help="trial t's feed uses seed SEED*1000+t")
    c.add_argument("--prompt-file", type=Path, help="a prompt template instead of the paper's ({traits}, {max_trait})")
    sim = c.add_argument_group("simulator")
    sim.add_argument("--speed", type=float, default=10.0, help="virtual clock speed (default 10)")
    sim.add_argument("--images", metavar="DIR", help="serve this folder (sub-folders are topics), not the workspace")
    _add_run_options(c)
    c.set_defaults(func=cmd_run)

    c = cmds.add_parser("resume", help="go on with unfinished sessions (nothing finished is redone)")
    c.add_argument("sessions", nargs="+", metavar="SESSION")
    _add_run_options(c)
    c.set_defaults(func=cmd_resume)

    c = cmds.add_parser("replay", help="counterfactual replay: show a recorded feed to another model or persona",
                        description="What would model B (or persona P) have watched on session A's feed? The "
                                    "recorded screenshots are asked again offline; the feed does not react.")
    c.add_argument("source", metavar="SESSION")
    c.add_argument("--persona", help="another persona (default: the session's)")
    c.add_argument("--provider")
    c.add_argument("--model", metavar="[PROVIDER:]MODEL", help="another model (default: the session's)")
    c.add_argument("--strategy", choices=("simple", "isq"))
    c.add_argument("--prompt-file", type=Path)
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

    c = cmds.add_parser("report", help="the paper's Tables 3-8 figures for one or more sessions")
    c.add_argument("sessions", nargs="+", metavar="SESSION")
    c.add_argument("--format", choices=("table", "csv", "json"), default="table")
    c.add_argument("--tables", action="store_true",
                   help="one table per platform x strategy, a row per model (the paper's Tables 3-8)")
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


def cmd_add(args, ctx) -> int:
    from vspectrum_app.persona.personas import Persona, PersonaLibrary

    persona = Persona.from_json({"name": args.name, "statements": args.statement, "values": args.value,
                                 "topics": args.topic, "tags": args.tag, "source": "vspectrum persona add"})
    PersonaLibrary(ctx.workspace()).save(persona, replace_name=args.replace)
    print(f"persona {persona.name} {'updated' if args.replace else 'added'}")
    return 0


def cmd_delete(args, ctx) -> int:
    from vspectrum_app.persona.personas import PersonaLibrary

    PersonaLibrary(ctx.workspace()).delete(args.name)
    print(f"persona {args.name} deleted")
    return 0


def _add_run_options(c) -> None:
    c.add_argument("--headless", action="store_true", default=None,
                   help="no visible window (default: visible when there is a display)")
    c.add_argument("--browser", metavar="PATH", help="Chromium/Chrome/Edge executable (default: Settings, then found)")
    c.add_argument("--sim-url", help="a running simulator (default: one is started for the run)")
    c.add_argument("--start-url", help="real platforms: start from this page instead of the platform's feed")
    c.add_argument("--wall-timeout", type=float,
                   help="seconds to wait for you at a login wall (default 300 watched, 0 headless)")


def _run_options(args):
    from vspectrum_app.core.settings import Settings
    from vspectrum_app.crawl import browser as browsers
    from vspectrum_app.persona.runner import RunOptions

    headless = (not browsers.has_display()) if args.headless is None else args.headless
    wall = args.wall_timeout if args.wall_timeout is not None else (0.0 if headless else 300.0)
    return RunOptions(headless=headless, browser=args.browser or Settings.load().get("browser_executable"),
                      sim_url=args.sim_url, start_url=args.start_url, wall_timeout_s=wall)


def _templates(path: Path | None, strategy: str):
    from vspectrum_app.persona.prompts import PromptTemplates, load_template

    if path is None:
        return PromptTemplates()
    text = load_template(path)
    return PromptTemplates(**{strategy: text}) if strategy in ("simple", "isq") else PromptTemplates()


def _models(refs: list[str], default_provider: str | None) -> list[tuple[str, str]]:
    from vspectrum_app.cli import UserError

    out = []
    for ref in refs:
        provider, sep, model = ref.partition(":")
        if default_provider:  # bare names; a ':' stays part of the name (Ollama tags)
            out.append((default_provider, ref))
        elif sep:
            out.append((provider, model))
        else:
            raise UserError(f"--model {ref}: say its provider with --provider, or write PROVIDER:MODEL")
    return out


def cmd_run(args, ctx) -> int:
    from vspectrum_app.cli import UserError
    from vspectrum_app.persona.personas import PersonaLibrary
    from vspectrum_app.persona.runner import new_session, watch_rate

    ws = ctx.workspace()
    library = PersonaLibrary(ws)
    personas = [library.get(name) for name in args.persona]
    models: list[tuple[str | None, str | None]] = list(_models(args.model, args.provider))
    if args.strategy == "control":
        if models:
            raise UserError("the control policy uses no model: leave out --model")
        rate = watch_rate(ws, args.match) if args.match else (0.2 if args.control_rate is None else args.control_rate)
        if not 0 <= rate <= 1:
            raise UserError("--control-rate must be between 0 and 1")
        models = [(None, None)]
    elif not models:
        raise UserError("say which model role-plays: --model PROVIDER:MODEL (or --strategy control)")
    else:
        rate = 0.2
    settings = dict(platform=args.platform, skin=args.skin, trials=args.trials, scrolls=args.scrolls,
                    window=args.window, watch_s=args.watch_s, capture_at_s=args.capture_at_s,
                    threshold=args.threshold, temperature=args.temperature, seed=args.seed, control_rate=rate,
                    time_scale=args.speed)
    templates = _templates(args.prompt_file, args.strategy)
    sessions = [new_session(ws, persona, args.strategy, provider=provider, model=model, templates=templates,
                            images=args.images, **settings)
                for persona in personas for provider, model in models]
    return _execute(sessions, args, ctx)


def cmd_resume(args, ctx) -> int:
    from vspectrum_app.persona.store import SessionStore

    store = SessionStore(ctx.workspace())
    for s in args.sessions:
        store.config(s)  # an unknown id fails before anything starts
    return _execute(args.sessions, args, ctx)


def cmd_replay(args, ctx) -> int:
    from vspectrum_app.persona.personas import PersonaLibrary
    from vspectrum_app.persona.runner import RunOptions, execute, new_replay
    from vspectrum_app.persona.store import SessionStore

    ws = ctx.workspace()
    persona = PersonaLibrary(ws).get(args.persona) if args.persona else None
    provider, model = (list[tuple[str | None, str | None]](_models([args.model] if args.model else [], args.provider))
                       or [(None, None)])[0]
    strategy = args.strategy or SessionStore(ws).config(args.source).strategy
    session = new_replay(ws, args.source, persona=persona, strategy=args.strategy, provider=provider, model=model,
                         templates=_templates(args.prompt_file, strategy) if args.prompt_file else None)
    ctx.reporter.emit("persona_session", session_id=session, index=1, count=1, replay_of=args.source)
    ctx.reporter.log(f"replay {session} of {args.source}")
    execute(ws, session, ctx.reporter, RunOptions())
    _print_result([session], ctx)
    return 0


def _execute(sessions: list[str], args, ctx) -> int:
    from vspectrum_app.persona.runner import execute

    ws = ctx.workspace()
    options = _run_options(args)
    for n, session in enumerate(sessions, 1):
        ctx.reporter.emit("persona_session", session_id=session, index=n, count=len(sessions))
        ctx.reporter.log(f"session {session} ({n}/{len(sessions)})")
        execute(ws, session, ctx.reporter, options)
    _print_result(sessions, ctx)
    return 0


def _print_result(sessions: list[str], ctx) -> None:
    from vspectrum_app.persona.report import session_report

    reports = [session_report(ctx.workspace(), s) for s in sessions]
    if ctx.json or ctx.args.events:
        ctx.print_json(reports)
    else:
        for r in reports:
            print(format_report(r))


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
                  "first_rate", "last_rate", "change", "change_p", "i_avg", "i_avg_ci95", "undefined_trials", "watch_rate",
                  "control_session", "control_i_avg", "minus_control", "minus_control_ci95")


def cmd_report(args, ctx) -> int:
    from vspectrum_app.persona.report import session_report

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


TABLE_COLUMNS = ("model", "persona", "trials", "first_rate", "last_rate", "change", "change_p", "i_avg",
                 "i_avg_ci95", "undefined_trials", "incomplete_trials", "control_i_avg", "minus_control",
                 "minus_control_ci95")


def _print_tables(reports: list[dict[str, Any]], fmt: str, ctx) -> int:
    from vspectrum_app.persona.report import alignment_tables

    tables = alignment_tables(reports)
    if fmt == "json":
        ctx.print_json(tables)
        return 0
    if fmt == "csv":
        csvfile.write_rows(sys.stdout, ("table",) + TABLE_COLUMNS,
                           ([t["title"]] + [row[c] for c in TABLE_COLUMNS] for t in tables for row in t["rows"]))
        return 0
    for table in tables:
        n = table["rows"][0]["window"]
        print(f"\n{table['title']}")
        print(f"  {'model':<34} {'persona':<24} {'first ' + str(n):>9} {'last ' + str(n):>9} {'change':>8} "
              f"{'p':>6} {'I_avg':>8} {'- control':>10}")
        for row in table["rows"]:
            print(f"  {row['model'][:34]:<34} {row['persona'][:24]:<24} {_num(row['first_rate']):>9} "
                  f"{_num(row['last_rate']):>9} {_num(row['change']):>8} {_num(row['change_p'], 3):>6} "
                  f"{_num(row['i_avg']):>8} {_num(row['minus_control']):>10}")
    return 0


def _num(v, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def format_report(r: dict[str, Any]) -> str:
    def pct(v):
        return "n/a" if v is None else f"{v:.1f}%"

    who = f"{r['provider']}:{r['model']}" if r["model"] else r["strategy"]
    lines = [f"{r['session_id']}: {r['persona']} / {who} / {r['strategy']} / {r['platform']}",
             f"  trials {r['trials_done']}/{r['trials']}, {r['steps']} videos; decisions {r['decisions']}",
             f"  related content (yes) first {r['window']}: {pct(r['first_rate'])}   last {r['window']}: "
             f"{pct(r['last_rate'])}   change: {pct(r['change'])}"
             + (f" (permutation p = {r['change_p']:.3f})" if r.get("change_p") is not None else ""),
             f"  I_avg: {pct(r['i_avg'])}" + (f"  (95% CI {r['i_avg_ci95'][0]:.1f} to {r['i_avg_ci95'][1]:.1f})"
                                              if r["i_avg_ci95"] else "")]
    if r["undefined_trials"]:
        lines.append(f"  trials with no yes in the first {r['window']} (left out of I_avg): {r['undefined_trials']}")
    from vspectrum_app.persona.report import control_lines

    lines += control_lines(r)
    if "served_related" in r:
        s = r["served_related"]
        lines.append(f"  served on-persona content (simulator ground truth): {pct(s['first_rate'])} -> "
                     f"{pct(s['last_rate'])}")
    if "learnt_profile" in r:
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(r["learnt_profile"].items())[:5])
        ranks = r.get("intended_rank", {})
        intended = ", ".join(f"{w} (rank {ranks[w]} of {len(r['learnt_profile'])})" if w in ranks else w
                             for w in r["intended"]["values"] + r["intended"]["topics"])
        lines.append(f"  recommender learnt: {top}; intended: {intended}")
    return "\n".join(lines)
