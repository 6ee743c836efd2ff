"""``vspectrum annotate ...``: create task sets, move answers between machines, report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from vspectrum_app.annotate import ops
from vspectrum_app.core.command import CommandContext
from vspectrum_app.core.operations import add_parser

if TYPE_CHECKING:
    from vspectrum_app.annotate.session import AnnotationSession
    from vspectrum_app.core.workspace import Workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("annotate", help="human validation: task sets, answers, agreement")
    cmds = p.add_subparsers(dest="annotate_command", metavar="COMMAND")
    c = add_parser(cmds, ops.Create, help="sample a task set from the library")
    c.set_defaults(func=cmd_create)
    c = cmds.add_parser("next", help="the next question for an annotator (resumes where they stopped)")
    _walk_arguments(c)
    c.set_defaults(func=cmd_next)
    c = cmds.add_parser("answer", help="answer the next question (or --item/--question), then show the next")
    _walk_arguments(c)
    c.add_argument("answer", choices=("yes", "no", "not_sure"))
    c.add_argument("--item", type=int, metavar="ITEM_ID", help="the item answered (default: the next one)")
    c.add_argument(
        "--question",
        choices=("screenshot", "video", "representative"),
        help="the question answered (default: the item's next one)",
    )
    c.add_argument("--comment", default="")
    c.set_defaults(func=cmd_answer)
    c = cmds.add_parser("undo", help="retract the annotator's latest answer in the set")
    _walk_arguments(c)
    c.set_defaults(func=cmd_undo)
    c = cmds.add_parser("review", help="the annotator's answers in their order (change one with 'answer --item')")
    _walk_arguments(c)
    c.set_defaults(func=cmd_review)
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


def cmd_create(args: argparse.Namespace, ctx: CommandContext) -> int:
    params = ctx.params(ops.Create, args)
    made = ops.run(params, ctx.workspace())
    ctx.show(params, made, lambda: f"task set {made.set_id} ({made.name}): {made.items} items")
    return 0


def _walk_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("set")
    c.add_argument("--annotator", required=True, help="your name (each annotator has their own order)")
    c.add_argument("--json", action="store_true")


def _session(args: argparse.Namespace, ctx: CommandContext, review: bool = False) -> AnnotationSession:
    from vspectrum_app.annotate.session import AnnotationSession
    from vspectrum_app.annotate.store import AnnotationStore

    return AnnotationSession(AnnotationStore(ctx.workspace()), args.set, args.annotator, review=review)


def _image_file(ws: Workspace, sha256: str) -> str | None:
    from vspectrum_app.library import catalog

    found = catalog.image_by_sha(ws, sha256)
    return str(found.path(ws)) if found else None


def _print_next(session: AnnotationSession, ctx: CommandContext) -> None:
    """The next open question with what the annotator needs to answer it (nothing left: done)."""
    step = session.next_open()
    if step is None:
        if ctx.json:
            ctx.print_json({"done": True, "progress": session.progress_text()})
        else:
            print(session.progress_text())
        return
    item = step.item
    shown = {
        "done": False,
        "item_id": item["id"],
        "question": step.question,
        "text": step.text,
        "value": item["value"] or None,
        "image": _image_file(ctx.workspace(), item["image_sha256"]),
        "video_url": item.get("video_url") if step.question != "screenshot" else None,
        "progress": session.progress_text(),
    }
    if ctx.json:
        ctx.print_json(shown)
        return
    print(f"item {item['id']}, {step.question}: {step.text}")
    print(f"  image: {shown['image'] or 'not in this workspace'}")
    if shown["video_url"]:
        print(f"  video: {shown['video_url']}")
    print(f"  {shown['progress']}")
    print(
        f"answer with: vspectrum annotate answer {session.name!r} yes|no|not_sure --annotator {session.annotator!r} "
        f"--item {item['id']} --question {step.question}"
    )


def cmd_next(args: argparse.Namespace, ctx: CommandContext) -> int:
    _print_next(_session(args, ctx), ctx)
    return 0


def cmd_answer(args: argparse.Namespace, ctx: CommandContext) -> int:
    session = _session(args, ctx)
    session.answer(args.answer, comment=args.comment.strip(), item_id=args.item, question=args.question)
    if not ctx.json:
        print(f"recorded {args.answer}")
    _print_next(session, ctx)
    return 0


def cmd_undo(args: argparse.Namespace, ctx: CommandContext) -> int:
    session = _session(args, ctx)
    undone = session.undo()
    if ctx.json:
        ctx.print_json({"undone": undone})
    else:
        print(
            f"retracted {undone['answer']} on item {undone['item_id']} ({undone['question']})"
            if undone
            else "nothing to undo"
        )
    return 0


def cmd_review(args: argparse.Namespace, ctx: CommandContext) -> int:
    """The review walk of the pane, as a list: every answered question in the annotator's order."""
    session = _session(args, ctx, review=True)
    rows = []
    for position in range(len(session.order)):
        session.position = position
        step = session.current()
        assert step is not None  # a position within the order has its step
        rows.append(
            {
                "item_id": step.item["id"],
                "question": step.question,
                "value": step.item["value"] or None,
                "answer": step.answer,
            }
        )
    if ctx.json:
        ctx.print_json(rows)
        return 0
    for n, r in enumerate(rows, start=1):
        print(
            f"{n:>4}. item {r['item_id']}, {r['question']}{' (' + r['value'] + ')' if r['value'] else ''}: "
            f"{r['answer'].replace('_', ' ')}"
        )
    print(
        f"{len(rows)} answers; change one with: vspectrum annotate answer {session.name!r} yes|no|not_sure "
        f"--annotator {session.annotator!r} --item ID --question QUESTION"
        if rows
        else "no answers to review yet"
    )
    return 0


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.annotate.store import AnnotationStore

    sets = AnnotationStore(ctx.workspace()).sets()
    if ctx.json:
        ctx.print_json(sets)
    for s in sets if not ctx.json else []:
        print(f"{s['id']}  {s['name']}  {s['kind']}, {s['items']} items, {s['raters']} raters each")
    return 0


def cmd_export(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.annotate.exchange import export_answers

    n = export_answers(ctx.workspace(), args.set, args.annotator, args.out)
    print(f"{n} answers written to {args.out}")
    return 0


def cmd_import(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.annotate.exchange import import_answers, read_export

    for path in args.files:  # every file checked before any is merged
        read_export(path)
    for path in args.files:
        r = import_answers(ctx.workspace(), path)
        print(f"{path}: {r.describe()}")
    return 0


def cmd_report(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.annotate.report import set_report

    report = set_report(ctx.workspace(), args.set, run_id=args.run)
    if ctx.json:
        ctx.print_json(report)
        return 0
    print(
        f"{report['set']['name']} ({report['set']['kind']}), annotators: {', '.join(report['annotators']) or 'none yet'}"
    )
    questions = [q for q in ("screenshot", "video", "representative") if q in report["overall"]]
    for q in questions:
        print(f"\n{q}: % yes / no / not sure, Fleiss' kappa, Krippendorff's alpha (items, raters)")
        for row in report["groups"] + [report["overall"]]:
            s = row.get(q)
            if s:
                print(
                    f"  {row['group']:<15} {s['pct_yes']:6.1f} {s['pct_no']:6.1f} {s['pct_not_sure']:6.1f}   "
                    f"{_fmt(s['fleiss_kappa'])}  {_fmt(s['krippendorff_alpha'])}  ({s['items']}, {s['raters']})"
                )
    if report["disagreements"]:
        print(f"\n{len(report['disagreements'])} items with disagreement (see --json for the list)")
    for row in report.get("filtered_scores", []):
        print(
            f"{row['target']} {row['value']}: {_fmt(row['score'])} on {row['n']} -> "
            f"{_fmt(row['score_filtered'])} on {row['n_filtered']} agreed screenshots"
        )
    return 0


def _fmt(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:5.3f}" if abs(x) <= 1 else f"{x:5.1f}"
