"""``vspectrum library ...``: import, index, search and describe the screenshot library."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    lib = sub.add_parser("library", help="import, index and search screenshots")
    cmds = lib.add_subparsers(dest="library_command", metavar="COMMAND")

    p = cmds.add_parser("import", help="import screenshot files or folders")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--metadata", type=Path, metavar="CSV",
                   help="CSV with a file-name column and video link / platform / post date / any other columns")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_import)

    p = cmds.add_parser("keywords", help="list keyword sets, or add one from a JSON file")
    p.add_argument("--add", type=Path, metavar="FILE", help="store this keyword set in the workspace")
    p.add_argument("--show", metavar="SET", help="print one set's keywords")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_keywords)


def cmd_import(args, ctx) -> int:
    from vspectrum_app.library.importer import import_paths

    report = import_paths(ctx.workspace(), args.paths, args.metadata, ctx.reporter)
    if ctx.json:
        ctx.print_json(report.as_dict())
    else:
        print(f"{len(report.added)} added, {report.duplicates} already in the library, "
              f"{len(report.skipped)} skipped")
    return 0 if report.added or report.duplicates or not report.skipped else 1


def cmd_keywords(args, ctx) -> int:
    from vspectrum_app.library import keywords

    ws = ctx.workspace()
    if args.add:
        ks = keywords.add_set(ws, keywords.KeywordSet.from_file(args.add))
        print(f"added keyword set {ks.id}")
        return 0
    if args.show:
        ks = keywords.get_set(ws, args.show)
        if ctx.json:
            ctx.print_json({"id": ks.id, "hash": ks.hash, **ks.to_json()})
        else:
            for value, kws in ks.values.items():
                print(f"{value}: {', '.join(kws)}")
        return 0
    sets = keywords.list_sets(ws)
    if ctx.json:
        ctx.print_json([{"id": ks.id, "name": ks.name, "hash": ks.hash, "values": len(ks.values)} for ks in sets])
    else:
        for ks in sets:
            print(f"{ks.id}\t{len(ks.values)} values, {sum(map(len, ks.values.values()))} keywords")
    return 0
