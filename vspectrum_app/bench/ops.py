"""The benchmark's jobs as data: a new run (or its estimate, ``dry_run``) and a resume.
``bench.cli`` builds its options from these classes, ``gui.jobs`` starts them (core.operations),
and ``run`` does them in this process (what the CLI's handlers call)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from vspectrum_app.bench.progress import RunOutcome
from vspectrum_app.core import events
from vspectrum_app.core.operations import Operation, argument, option
from vspectrum_app.library.ops import ClipOptions

if TYPE_CHECKING:
    from vspectrum_app.bench.runner import RunEngine
    from vspectrum_app.providers.refs import ModelRef
    from vspectrum_app.core.jobs import Reporter
    from vspectrum_app.core.workspace import Workspace
    from vspectrum_app.providers.config import ProviderStore


# what a run's execution sends as it goes (a dry run: only its Estimate)
RUN_EVENTS: tuple[type[events.Event], ...] = (
    events.Estimate,
    events.RunCreated,
    events.Answer,
    events.RunStatus,
    events.Waiting,
    events.BatchState,
    events.ItemError,
)


@dataclass(frozen=True, kw_only=True)
class Run(Operation):
    command: ClassVar[tuple[str, ...]] = ("bench", "run")
    result_type: ClassVar[type[RunOutcome]] = RunOutcome  # none for a dry run
    event_types: ClassVar[tuple[type[events.Event], ...]] = RUN_EVENTS
    targets: tuple[str, ...] = option(
        "--model",
        repeat=True,
        default=(),
        metavar="[PROVIDER:]MODEL",
        help="a model to evaluate (repeatable): PROVIDER:MODEL, or a bare model name at --provider",
    )
    provider: str | None = option("--provider", help="the provider of bare --model names")
    values: tuple[str, ...] | None = option(
        "--values", nargs="+", metavar="VALUE", help="values to evaluate (default: all ten)"
    )
    keyword_set: str | None = option("--keyword-set", metavar="SET", help="keyword set name, hash or JSON file")
    k: int = option("--k", default=5, help="images per keyword (paper: 5)")
    repeats: int = option("--repeats", default=1, help="answers sampled per image")
    temperature: float | None = option("--temperature")
    max_tokens: int = option("--max-tokens", default=300)
    seed: int = option("--seed", default=0, help="bootstrap seed (and the API's seed where supported)")
    describe_with: str | None = option(
        "--describe-with",
        metavar="PROVIDER:MODEL",
        help="modality comparison: this model describes each image; the evaluated "
        "models also answer from the description alone",
    )
    text_models: tuple[str, ...] = option(
        "--text-model",
        repeat=True,
        default=(),
        metavar="PROVIDER:MODEL",
        help="a text-only model answering from descriptions (needs --describe-with)",
    )
    prompts: Path | None = option(
        "--prompts",
        metavar="JSON",
        help="edited prompt texts (keys: like, why, describe, text_only with {description} and {question}, reversed)",
    )
    prompt_variants: str | None = option(
        "--prompt-variants",
        metavar="FILE|builtin",
        help="wordings of the like question, each item asked under each: a JSON list of {name, like}, "
        "or 'builtin' (the paper's, paraphrases, translations); report with 'bench report RUN --variants'",
    )
    fresh: bool = option("--fresh", default=False, help="do not reuse answers cached by earlier runs")
    dry_run: bool = option("--dry-run", default=False, help="print calls, tokens, cost and time; send nothing")
    acquiescence_probe: float = option(
        "--acquiescence-probe",
        default=0.0,
        metavar="FRACTION",
        help="yes-bias probe: also ask the reversed question (prompts key "
        "'reversed') about this share of each value's images",
    )
    strict: bool = option(
        "--strict", default=False, help="refuse the run when any keyword retrieves fewer than --k images"
    )
    batch: bool = option(
        "--batch",
        default=False,
        help="send OpenAI and Anthropic requests through their batch APIs: half price, answers within 24 h",
    )
    clip: ClipOptions = ClipOptions()


@dataclass(frozen=True, kw_only=True)
class Resume(Operation):
    command: ClassVar[tuple[str, ...]] = ("bench", "resume")
    result_type: ClassVar[type[RunOutcome]] = RunOutcome
    event_types: ClassVar[tuple[type[events.Event], ...]] = RUN_EVENTS
    run_id: str = argument()


def run(params: Run | Resume, ws: Workspace, reporter: Reporter) -> RunOutcome | None:
    """Do the operation in this process: plan, estimate and (unless ``dry_run``) create and
    execute a new run; or resume one. Returns how the execution ended (None for a dry run)."""
    from vspectrum_app.bench.runner import execute_run

    run_id = params.run_id if isinstance(params, Resume) else _create(params, ws, reporter)
    return None if run_id is None else execute_run(ws, run_id, reporter, engine=_engine(ws, run_id))


def _engine(ws: Workspace, run_id: str) -> type[RunEngine] | None:
    """A ``--batch`` run (new or resumed) sends through the batch APIs; others live."""
    from vspectrum_app.bench.store import RunNotFoundError, RunStore

    try:
        batch = RunStore(ws).manifest(run_id).get("batch")
    except RunNotFoundError:
        return None  # execute_run says it in its words
    if not batch:
        return None
    from vspectrum_app.bench.batch_run import BatchRunEngine

    return BatchRunEngine


def _create(params: Run, ws: Workspace, reporter: Reporter) -> str | None:
    """Plan the run and announce its estimate; create it unless ``dry_run`` (then None)."""
    from vspectrum_app.bench.plan import RunRequest, build_manifest, estimate, plan_items, shortfall
    from vspectrum_app.bench.prompts import PromptSet, load_prompts
    from vspectrum_app.bench.store import RunStore
    from vspectrum_app.bench.variants import load_wordings
    from vspectrum_app.core.errors import UserError
    from vspectrum_app.core.values import SCHWARTZ_VALUES
    from vspectrum_app.library import keywords
    from vspectrum_app.library.search import Searcher
    from vspectrum_app.providers.clients import Params
    from vspectrum_app.providers.config import ProviderStore
    from vspectrum_app.providers.refs import ModelRef

    providers = ProviderStore()
    targets = _targets(params.targets, params.provider, providers)
    for t in targets + [ModelRef.parse(t) for t in params.text_models]:
        providers.get(t.provider)  # unknown provider: one clear error before any work
    prompts = load_prompts(params.prompts) if params.prompts else PromptSet()  # checked before anything is created
    wordings = load_wordings(params.prompt_variants) if params.prompt_variants else []
    request = RunRequest(
        targets=targets,
        keyword_set=keywords.get_set(ws, params.keyword_set),
        values=list(params.values or SCHWARTZ_VALUES),
        k=params.k,
        repeats=params.repeats,
        params=Params(
            temperature=params.temperature,
            max_tokens=params.max_tokens,
            seed=params.seed if params.temperature is not None else None,
        ),
        prompts=prompts,
        describe_with=ModelRef.parse(params.describe_with) if params.describe_with else None,
        text_models=[ModelRef.parse(t) for t in params.text_models],
        fresh=params.fresh,
        seed=params.seed,
        acquiescence_probe=params.acquiescence_probe,
        wordings=wordings,
        batch=params.batch,
    )
    searcher = Searcher(ws, params.clip.spec())
    items = plan_items(searcher, request)
    est = estimate(items, request, providers, ws)
    reporter.log(est.describe())
    short = shortfall(est.retrieval, request.k)
    if params.dry_run:
        reporter.emit(
            "estimate",
            headline=est.headline(),
            cost=est.cost,
            found=est.found,
            calls=est.calls,
            input_tokens=est.input_tokens,
            output_tokens=est.output_tokens,
            cost_usd=est.cost_usd,
            seconds=est.seconds,
            items=len(items),
            per_provider=est.per_provider,
            retrieval=est.retrieval,
            k=request.k,
            shortfall=short,
            batch=est.batch,
        )
    if short and params.strict:
        raise UserError(
            f"--strict: {len(short)} value(s) got fewer than {request.k} images for some keywords "
            f"({', '.join(short)}); nothing was sent"
        )
    if params.dry_run:
        return None
    run_id = RunStore(ws).create_run(build_manifest(request, searcher, items, providers), items)
    reporter.emit("run_created", run_id=run_id, items=len(items))
    reporter.log(f"run {run_id}: {len(items)} items")
    return run_id


def _targets(texts: tuple[str, ...], provider: str | None, providers: ProviderStore) -> list[ModelRef]:
    """``--model`` values as references (providers.refs.parse_refs; with ``--provider``, a value
    is PROVIDER:MODEL only when it starts with a configured provider's name, since names may
    hold ':' themselves, Ollama's ``llama3:8b``)."""
    from vspectrum_app.providers.refs import parse_refs

    return parse_refs(texts, provider, {p.name for p in providers.all()} if provider else ())
