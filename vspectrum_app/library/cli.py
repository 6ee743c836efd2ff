"""``vspectrum library ...``: import, index, search and describe the screenshot library."""

from __future__ import annotations

import argparse
from pathlib import Path

from vspectrum_app.core.command import CommandContext
from vspectrum_app.core.operations import add_arguments, add_parser
from vspectrum_app.core.wire import to_wire
from vspectrum_app.library import ops


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lib = sub.add_parser("library", help="import, index and search screenshots")
    cmds = lib.add_subparsers(dest="library_command", metavar="COMMAND")

    p = add_parser(cmds, ops.Import, help="import screenshot files or folders")
    p.set_defaults(func=cmd_import)

    p = add_parser(cmds, ops.Index, help="embed new screenshots with CLIP and update the search index")
    p.set_defaults(func=cmd_index)

    p = cmds.add_parser("search", help="nearest screenshots to a keyword, or a value's keyword set")
    p.add_argument("query", nargs="?", help="keyword or phrase")
    p.add_argument("--value", help="search with this Schwartz value's keywords (k images per keyword)")
    p.add_argument(
        "--keyword-set", metavar="SET", help="keyword set name, hash or JSON file (default: the shipped set)"
    )
    p.add_argument("-k", type=int, default=5, help="images per query / per keyword (default 5, as in the paper)")
    p.add_argument(
        "--platform", action="append", metavar="NAME", help="only screenshots from this platform (repeat for several)"
    )
    p.add_argument("--json", action="store_true")
    add_clip_arguments(p)
    add_backend_argument(p)
    p.set_defaults(func=cmd_search)

    p = add_parser(cmds, ops.Stats, help="counts per platform and month, and coverage per value")
    p.set_defaults(func=cmd_stats)

    p = add_parser(cmds, ops.Model, help="load the CLIP model (downloading its weights on first use) and describe it")
    p.set_defaults(func=cmd_model)

    p = cmds.add_parser("repair", help="rebuild a lost or damaged catalog from the stored image files")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_repair)

    p = cmds.add_parser("keywords", help="list keyword sets, or add one from a JSON file")
    p.add_argument("--add", type=Path, metavar="FILE", help="store this keyword set in the workspace")
    p.add_argument("--show", metavar="SET", help="print one set's keywords")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_keywords)


def cmd_repair(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.core.settings import default_workspace
    from vspectrum_app.library.repair import repair_catalog

    root = Path(args.workspace) if args.workspace else default_workspace()
    report = repair_catalog(root, ctx.reporter)
    if ctx.json:
        ctx.print_json(
            {
                "recovered": report.recovered,
                "already": report.already,
                "moved_aside": report.moved_aside,
                "reindexed": report.reindexed,
                "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
            }
        )
    else:
        if report.reindexed:
            print(f"damaged indexes rebuilt ({'; '.join(report.reindexed[:3])}); nothing was lost")
        print(
            f"{report.recovered} images recovered into the catalog, {report.already} already there, "
            f"{len(report.skipped)} unreadable; run `vspectrum library index` to recompute their embeddings"
        )
    return 0


def cmd_import(args: argparse.Namespace, ctx: CommandContext) -> int:
    params = ctx.params(ops.Import, args)
    report = ops.run(params, ctx.workspace(), ctx.reporter)
    ctx.show(
        params,
        report,
        lambda: f"{report.added} added, {report.duplicates} already in the library, {len(report.skipped)} skipped",
    )
    return 0 if report.added or report.duplicates or not report.skipped else 1


def add_clip_arguments(parser: argparse.ArgumentParser) -> None:
    """The CLIP model options every command that embeds shares (default: the Settings' model)."""
    add_arguments(parser.add_argument_group(ops.ClipOptions.group_title), ops.ClipOptions)


def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    add_arguments(parser, ops.BackendOptions)


def cmd_index(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.encoders.precision import describe_record

    params = ctx.params(ops.Index, args)
    report = ops.run(params, ctx.workspace(), ctx.reporter)
    ctx.show(
        params,
        report,
        lambda: f"{report.embedded} images embedded ({report.model_key}), {report.failed} failed"
        + (f", {report.repaired} index entries repaired" if report.repaired else "")
        + (f"; embedded with {describe_record(report.encoder)}" if report.encoder else ""),
    )
    return 0 if not report.failed else 1


def cmd_search(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.core.errors import UserError
    from vspectrum_app.library import keywords
    from vspectrum_app.library.search import Searcher

    if not args.query and not args.value:
        raise UserError("give a keyword to search for, or --value VALUE")
    ws = ctx.workspace()
    backend = ctx.params(ops.BackendOptions, args)
    searcher = Searcher(ws, ctx.params(ops.ClipOptions, args).spec(), backend=backend.backend, device=backend.device)
    if args.value:
        ks = keywords.get_set(ws, args.keyword_set)
        found = searcher.retrieve_value(args.value, ks, k=args.k, platforms=args.platform)
        hits = searcher.retrieval_hits(found)
        rows = [{"keyword": r.keyword, "rank": r.rank, **hits[r.image_id].as_dict()} for r in found]
    else:
        rows = [h.as_dict() for h in searcher.search(args.query, args.k, platforms=args.platform)]
    if ctx.json:
        ctx.print_json(rows)
        return 0
    for row in rows:
        where = str(ws.image_path(row["sha256"], row["ext"]))
        prefix = f"{row['keyword']:<22} #{row['rank']} " if "keyword" in row else ""
        print(
            f"{prefix}{row['similarity']:.3f}  {row.get('platform') or '-':<9} {row.get('post_date') or '-':<10} "
            f"{row.get('video_url') or row.get('source_name') or ''}  {where}"
        )
    if not rows:
        print("no results (is the library indexed?)")
    return 0


def cmd_stats(args: argparse.Namespace, ctx: CommandContext) -> int:
    params = ctx.params(ops.Stats, args)
    stats = ops.run(params, ctx.workspace(), ctx.reporter)
    if ctx.result(params, stats):
        return 0
    if ctx.json:
        ctx.print_json(to_wire(stats))
        return 0
    print(f"{stats.images} screenshots ({stats.flagged} flagged)")
    print("per platform: " + ", ".join(f"{k} {v}" for k, v in stats.per_platform.items()))
    print("per month:    " + ", ".join(f"{k} {v}" for k, v in stats.per_month.items()))
    if (c := stats.coverage) is not None:
        how = (
            f"within radius {c.radius}"
            if c.radius is not None
            else f"at cosine >= {c.threshold or 0:.3f} (this model's top 1% of screenshot-keyword pairs)"
        )
        print(f"coverage {how} ({c.keyword_set}):")
        for value, v in c.values.items():
            print(f"  {value:<15} {v.images:>7}  {100 * v.fraction:5.1f}%")
    return 0


def cmd_model(args: argparse.Namespace, ctx: CommandContext) -> int:
    params = ctx.params(ops.Model, args)
    info = ops.describe_model(params, ctx.reporter)
    ctx.show(
        params,
        info,
        lambda: f"CLIP {info.model} ready: {info.dim}-dimensional embeddings (key {info.model_key}), on {info.backend}",
    )
    return 0


def cmd_keywords(args: argparse.Namespace, ctx: CommandContext) -> int:
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
