"""``vspectrum bench ...``: preference runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vspectrum_app.bench.plan import Target


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_bench(sub)


# -- bench --------------------------------------------------------------------------------

def _register_bench(sub) -> None:
    from vspectrum_app.library.cli import add_clip_arguments

    p = sub.add_parser("bench", help="the preference benchmark: run, resume, report")
    cmds = p.add_subparsers(dest="bench_command", metavar="COMMAND")
    c = cmds.add_parser("run", help="ask models the paper's questions about each value's images")
    c.add_argument("--model", dest="targets", action="append", default=[], metavar="[PROVIDER:]MODEL",
                   help="a model to evaluate (repeatable): PROVIDER:MODEL, or a bare model name at --provider")
    c.add_argument("--provider", help="the provider of bare --model names")
    c.add_argument("--values", nargs="+", metavar="VALUE", help="values to evaluate (default: all ten)")
    c.add_argument("--keyword-set", metavar="SET", help="keyword set name, hash or JSON file")
    c.add_argument("--k", type=int, default=5, help="images per keyword (paper: 5)")
    c.add_argument("--repeats", type=int, default=1, help="answers sampled per image")
    c.add_argument("--temperature", type=float)
    c.add_argument("--max-tokens", type=int, default=300)
    c.add_argument("--seed", type=int, default=0, help="bootstrap seed (and the API's seed where supported)")
    c.add_argument("--describe-with", metavar="PROVIDER:MODEL",
                   help="modality comparison: this model describes each image; the evaluated models also answer "
                        "from the description alone")
    c.add_argument("--text-model", dest="text_models", action="append", default=[], metavar="PROVIDER:MODEL",
                   help="a text-only model answering from descriptions (needs --describe-with)")
    c.add_argument("--prompts", type=Path, metavar="JSON", help="edited prompt texts (keys: like, why, describe, text_only with {description} "
                        "and {question}, reversed)")
    c.add_argument("--fresh", action="store_true", help="do not reuse answers cached by earlier runs")
    c.add_argument("--dry-run", action="store_true", help="print calls, tokens, cost and time; send nothing")
    c.add_argument("--acquiescence-probe", type=float, default=0.0, metavar="FRACTION",
                   help="yes-bias probe: also ask the reversed question (prompts key 'reversed') about this share "
                        "of each value's images")
    c.add_argument("--strict", action="store_true",
                   help="refuse the run when any keyword retrieves fewer than --k images")
    add_clip_arguments(c)
    c.set_defaults(func=cmd_bench_run)

    c = cmds.add_parser("resume", help="continue an interrupted run: nothing finished is sent again")
    c.add_argument("run_id")
    c.set_defaults(func=cmd_bench_resume)

    c = cmds.add_parser("report", help="scores with intervals, the paper's tables")
    c.add_argument("run_id")
    c.add_argument("--format", choices=("table", "csv", "json"), default="table")
    c.add_argument("--paper-style", action="store_true",
                   help="score with the authors' rule: an answer containing 'yes' is a yes, everything else a no")
    c.add_argument("--comparisons", action="store_true",
                   help="the paired model comparisons (exact McNemar, Holm) instead of the scores")
    c.set_defaults(func=cmd_bench_report)

    c = cmds.add_parser("reclassify", help="re-derive every answer's class with the current parser; list changes")
    c.add_argument("run_id")
    c.add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_bench_reclassify)
    c = cmds.add_parser("export", help="every call behind a run's answers, for audit (CSV or JSONL)")
    c.add_argument("run_id")
    c.add_argument("--answers", type=Path, required=True, metavar="FILE",
                   help="where to write: .csv or .jsonl (prompt texts, image, raw response, class, parser version, "
                        "tokens, latency, provider, model, parameters)")
    c.set_defaults(func=cmd_bench_export)

    c = cmds.add_parser("list", help="runs in this workspace")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_bench_list)

    c = cmds.add_parser("delete", help="delete a run and its answers (the answer cache is kept)")
    c.add_argument("run_id")
    c.set_defaults(func=cmd_bench_delete)


def cmd_bench_delete(args, ctx) -> int:
    from vspectrum_app.bench.store import RunStore

    n = RunStore(ctx.workspace()).delete_run(args.run_id)
    print(f"run {args.run_id} deleted ({n} items)")
    return 0


def cmd_bench_run(args, ctx) -> int:
    from vspectrum_app.bench.plan import RunRequest, Target, build_manifest, estimate, plan_items, shortfall
    from vspectrum_app.bench.prompts import PromptSet, load_prompts
    from vspectrum_app.bench.store import RunStore
    from vspectrum_app.cli import UserError
    from vspectrum_app.core.values import SCHWARTZ_VALUES
    from vspectrum_app.library import keywords
    from vspectrum_app.library.cli import clip_spec_from_args
    from vspectrum_app.library.search import Searcher
    from vspectrum_app.providers.clients import Params
    from vspectrum_app.providers.config import ProviderStore

    ws = ctx.workspace()
    providers = ProviderStore()
    targets = _targets(args.targets, args.provider, providers)
    for t in targets + [Target.parse(t) for t in args.text_models]:
        providers.get(t.provider)  # unknown provider: one clear error before any work
    prompts = load_prompts(args.prompts) if args.prompts else PromptSet()  # checked before anything is created
    request = RunRequest(targets=targets, keyword_set=keywords.get_set(ws, args.keyword_set),
                         values=args.values or list(SCHWARTZ_VALUES), k=args.k, repeats=args.repeats,
                         params=Params(temperature=args.temperature, max_tokens=args.max_tokens,
                                       seed=args.seed if args.temperature is not None else None),
                         prompts=prompts,
                         describe_with=Target.parse(args.describe_with) if args.describe_with else None,
                         text_models=[Target.parse(t) for t in args.text_models], fresh=args.fresh, seed=args.seed,
                         acquiescence_probe=args.acquiescence_probe)
    searcher = Searcher(ws, clip_spec_from_args(args))
    items = plan_items(searcher, request)
    est = estimate(items, request, providers)
    print(est.describe(), file=sys.stderr)
    short = shortfall(est.retrieval, request.k)
    if args.dry_run and ctx.args.events:
        ctx.reporter.emit("estimate", calls=est.calls, input_tokens=est.input_tokens,
                          output_tokens=est.output_tokens, cost_usd=est.cost_usd, seconds=est.seconds,
                          items=len(items), per_provider=est.per_provider, retrieval=est.retrieval, k=request.k,
                          shortfall=short)
    if short and args.strict:
        raise UserError(f"--strict: {len(short)} value(s) got fewer than {request.k} images for some keywords "
                        f"({', '.join(short)}); nothing was sent")
    if args.dry_run:
        return 0
    run_id = RunStore(ws).create_run(build_manifest(request, searcher, items, providers), items)
    ctx.reporter.emit("run_created", run_id=run_id, items=len(items))
    print(f"run {run_id}: {len(items)} items", file=sys.stderr)
    return _execute(ctx, run_id)


def _targets(texts: list[str], provider: str | None, providers) -> list[Target]:
    """``--model`` values as targets. With ``--provider`` a value is a model name there, since
    names may hold ':' themselves (Ollama's ``llama3:8b``), unless it starts with a configured
    provider's name and ':'; without it, every value must be PROVIDER:MODEL."""
    from vspectrum_app.bench.plan import PlanError, Target

    if provider is None:
        return [Target.parse(t) for t in texts]
    if not texts:
        raise PlanError(f"--provider {provider} needs at least one --model MODEL")
    known = {p.name for p in providers.all()}
    return [Target.parse(t) if t.partition(":")[0] in known and ":" in t else Target(provider, t) for t in texts]


def cmd_bench_resume(args, ctx) -> int:
    return _execute(ctx, args.run_id)


def _execute(ctx, run_id: str) -> int:
    from vspectrum_app.bench.report import run_report, to_table
    from vspectrum_app.bench.runner import execute_run

    ws = ctx.workspace()
    outcome = execute_run(ws, run_id, ctx.reporter)
    for problem in outcome.problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{outcome.sent} calls sent, {outcome.cached} answered from the workspace", file=sys.stderr)
    if outcome.status != "done":
        print(f"run {run_id} is {outcome.status} with {outcome.errors} items left: "
              f"'vspectrum bench resume {run_id}' continues it", file=sys.stderr)
    print(to_table(run_report(ws, run_id)))
    return 0 if outcome.status == "done" else 1


def cmd_bench_report(args, ctx) -> int:
    from vspectrum_app.bench.report import comparisons_csv, run_report, to_csv, to_table

    report = run_report(ctx.workspace(), args.run_id, paper_style=args.paper_style)
    if args.format == "json":
        ctx.print_json(report["noise"] if args.comparisons else report)
    elif args.format == "csv":
        sys.stdout.write(comparisons_csv(report) if args.comparisons else to_csv(report))
    else:
        print(to_table(report))
    return 0


def cmd_bench_reclassify(args, ctx) -> int:
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
    print(f"{args.run_id}: parser version {before} -> {PARSER_VERSION}, {len(changes)} classes {done}"
          + ("; answers that saw no image are now errors: 'vspectrum bench resume' asks again"
             if any(c["new"] == "no_image" for c in changes) and not args.dry_run else ""), file=sys.stderr)
    return 0
def cmd_bench_export(args, ctx) -> int:
    from vspectrum_app.bench.trace import ExportError, export_answers
    from vspectrum_app.cli import UserError

    try:
        n = export_answers(ctx.workspace(), args.run_id, args.answers)
    except (ExportError, OSError) as exc:
        raise UserError(f"cannot export: {exc}") from None
    print(f"{n} calls written to {args.answers}", file=sys.stderr)
    return 0


def cmd_bench_list(args, ctx) -> int:
    from vspectrum_app.bench.store import RunStore

    runs = RunStore(ctx.workspace()).runs()
    if ctx.json:
        ctx.print_json(runs)
        return 0
    for r in runs:
        print(f"{r['id']}  {r['status']:<9} {r['done']}/{r['total']}  {', '.join(r['targets'])}"
              + (f"  ({r['error']})" if r["error"] else ""))
    return 0
