"""Planning a run: which model answers which image for which value, the manifest that makes
the run auditable and re-runnable, and the estimate of calls, tokens, cost and time: the one
the CLI's dry run prints and the Benchmark pane shows. It counts the distinct requests the run
will send (``bench.requests``, the runner's own count): an image that several keywords or
values retrieve is asked once, and answers already in the workspace's call log are not sent."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vspectrum_app import __version__
from vspectrum_app.bench.prompts import PromptSet
from vspectrum_app.bench.variants import DEFAULT as DEFAULT_VARIANT
from vspectrum_app.bench.variants import Wording
from vspectrum_app.core.jobs import format_duration
from vspectrum_app.core.values import SCHWARTZ_VALUES, canonical_value
from vspectrum_app.providers.refs import ModelRef, split_label
from vspectrum_app.library import catalog
from vspectrum_app.library.keywords import KeywordSet
from vspectrum_app.bench.requests import PROBE as PROBE  # where the other modules look for it
from vspectrum_app.bench.requests import plan_requests
from vspectrum_app.providers.clients import IMAGE_TOKENS, Params
from vspectrum_app.providers.config import ProviderStore
from vspectrum_app.providers.batch import supports_batch
from vspectrum_app.providers.prices import BATCH_PRICE_FACTOR, batch_price, format_cost, price_for
from vspectrum_app.providers.prices import load_table as load_prices
from vspectrum_app.providers.service import LATENCY_GUESS_S
from vspectrum_app.providers.service import seconds_at_limits

if TYPE_CHECKING:
    from vspectrum_app.library.search import Retrieval, Searcher
    from vspectrum_app.core.workspace import Workspace

# Rough token counts for estimates (an image: providers.clients.IMAGE_TOKENS).
QUESTION_TOKENS = 30
ANSWER_TOKENS = {1: 3, 2: 80, 3: 80}
# Tokens of each kind of turn (protocol.md section 3): (input, output).
_A1, _A2, _A3, _Q = ANSWER_TOKENS[1], ANSWER_TOKENS[2], ANSWER_TOKENS[3], QUESTION_TOKENS
TURN_TOKENS = {
    "like": (IMAGE_TOKENS + _Q, _A1),
    "why": (IMAGE_TOKENS + 2 * _Q + _A1, _A2),
    "describe": (IMAGE_TOKENS + 3 * _Q + _A1 + _A2, _A3),
    "probe": (IMAGE_TOKENS + _Q, _A1),
    "description": (IMAGE_TOKENS + _Q, _A3),
    "text1": (_A3 + _Q, _A1),
    "text2": (_A3 + 2 * _Q + _A1, _A2),
}


class PlanError(Exception):
    pass


@dataclass
class RunRequest:
    targets: list[ModelRef]
    keyword_set: KeywordSet
    values: list[str] = field(default_factory=lambda: list(SCHWARTZ_VALUES))
    k: int = 5
    repeats: int = 1
    params: Params = field(default_factory=Params)
    prompts: PromptSet = field(default_factory=PromptSet)
    describe_with: ModelRef | None = None  # modality comparison: model A describes each image
    text_models: list[ModelRef] = field(default_factory=list)  # text-only models answering from descriptions
    fresh: bool = False  # do not reuse answers cached by earlier runs
    seed: int = 0
    acquiescence_probe: float = 0.0  # share of each value's images also asked the reversed question
    wordings: list[Wording] = field(default_factory=list)  # --prompt-variants; none: the run's own like question
    batch: bool = False  # OpenAI and Anthropic requests go out in batches (bench.batch_run), at batch prices


@dataclass
class Estimate:
    calls: int  # requests the run will send
    input_tokens: int
    output_tokens: int
    cost_usd: float  # of the priced models (``unpriced`` are not in it)
    seconds: float
    per_provider: dict[str, dict[str, Any]]
    unpriced: list[str] = field(default_factory=list)  # PROVIDER:MODEL with no known price (not in the cost)
    retrieval: dict[str, dict[str, int]] = field(default_factory=dict)  # value -> keyword -> images found
    k: int = 5
    wordings: int = 1  # of the like question: every image and text item is asked under each
    items: int = 0
    found: int = 0  # requests answered already in the workspace: not sent
    batch: bool = False  # priced at the batch discount (providers.prices.BATCH_PRICE_FACTOR)

    @property
    def cost(self) -> str:
        """The cost in the app's one wording (providers.prices.format_cost)."""
        return format_cost(self.cost_usd, self.unpriced, estimate=True)

    def headline(self) -> str:
        """The estimate in one sentence: what the CLI prints first and the Benchmark pane shows."""
        found = f", {self.found} more already answered in the workspace" if self.found else ""
        per = " per wording" if self.wordings > 1 else ""
        return (
            f"{self.items} items: {self.calls} calls to send (each image asked once{per}{found}); "
            f"~{self.input_tokens:,} input and ~{self.output_tokens:,} output tokens; {self.cost}; "
            f"~{format_duration(self.seconds)} at the configured limits"
        ) + (batch_sentence(self.per_provider) if self.batch else "")

    def describe(self) -> str:
        lines = [self.headline()]
        if self.wordings > 1:
            lines.append(f"  {self.wordings} wordings of the like question: each item is asked under each")
        for name, p in self.per_provider.items():
            lines.append(
                f"  {name}: {int(p['calls'])} calls at {p['limit']}, {p['cost']}, ~{format_duration(p['seconds'])}"
            )
        return "\n".join(lines + retrieval_lines(self.retrieval, self.k))


def batch_sentence(per_provider: dict[str, dict[str, Any]]) -> str:
    """What ``--batch`` changes, said in the estimate's sentence."""
    batched = [name for name, p in per_provider.items() if p.get("batch")]
    live = [name for name in per_provider if name not in batched]
    text = "; in batches at batch prices ({}) with answers within 24 h per round".format(
        ", ".join(f"{BATCH_PRICE_FACTOR[per_provider[n]['kind']]:.0%} of live at {n}" for n in batched)
        if batched
        else "no provider here has a batch API"
    )
    return text + (f"; live at {', '.join(live)} (no batch API)" if live and batched else "")


def retrieval_counts(items: list[dict[str, Any]], request: RunRequest) -> dict[str, dict[str, int]]:
    """Per value, per keyword (in the set's order, zeros included): the images it retrieved."""
    found: dict[tuple[str, str], set[int]] = {}
    for item in items:
        found.setdefault((item["value"], item["keyword"]), set()).add(item["image_id"])
    out = {}
    for value in request.values:
        value = canonical_value(value)
        out[value] = {kw: len(found.get((value, kw), ())) for kw in request.keyword_set.keywords(value)}
    return out


def shortfall(counts: dict[str, dict[str, int]], k: int) -> dict[str, dict[str, int]]:
    """The keywords that found fewer than k images, per value."""
    return {v: short for v, kws in counts.items() if (short := {kw: n for kw, n in kws.items() if n < k})}


def retrieval_lines(counts: dict[str, dict[str, int]], k: int) -> list[str]:
    """Per value, the items each keyword got, said before anything is sent."""
    if not counts:
        return []
    short = shortfall(counts, k)
    lines = [f"images per keyword (wanted {k} each):"]
    for value, kws in counts.items():
        got, wanted = sum(kws.values()), k * len(kws)
        lines.append(
            f"  {value}: {got}/{wanted} items"
            + (" SHORT" if value in short else "")
            + " - "
            + ", ".join(f"{kw} {n}" for kw, n in kws.items())
        )
    if short:
        lines.append(
            f"{len(short)} value(s) have fewer than {k} images for some keywords: import more screenshots, "
            f"or run with fewer (--k); --strict refuses such a run"
        )
    return lines


def plan_items(searcher: Searcher, request: RunRequest) -> list[dict[str, Any]]:
    """One item per (answering model, mode, retrieved image, repeat, wording): the image and
    text arms are asked under every wording, the acquiescence probe (its own question) under
    the first one only."""
    if not request.targets and not request.text_models:
        raise PlanError("no model to run: give --model PROVIDER:MODEL, or --provider NAME --model MODEL")
    if request.text_models and request.describe_with is None:
        raise PlanError("text-only models need --describe-with PROVIDER:MODEL to describe the images")
    retrievals = []
    for value in request.values:
        retrievals += searcher.retrieve_value(canonical_value(value), request.keyword_set, request.k)
    if not retrievals:
        raise PlanError("no images retrieved: import screenshots and build the index first")
    shas = {i: f.sha256 for i, f in catalog.image_files(searcher.ws, [r.image_id for r in retrievals]).items()}
    if not 0 <= request.acquiescence_probe <= 1:
        raise PlanError("--acquiescence-probe is a fraction of each value's images, between 0 and 1")
    arms = [(t, "vlm", retrievals) for t in request.targets]
    if request.describe_with:
        arms += [(t, "text", retrievals) for t in request.targets + request.text_models]
    if request.acquiescence_probe:
        arms += [
            (t, PROBE, probe_sample(retrievals, request.acquiescence_probe, request.seed)) for t in request.targets
        ]
    names = [w.name for w in request.wordings] or [DEFAULT_VARIANT]
    items = []
    for target, mode, chosen in arms:
        for variant in names[:1] if mode == PROBE else names:
            for r in chosen:
                for repeat in range(request.repeats):
                    items.append(
                        {
                            "target": target.label,
                            "mode": mode,
                            "value": r.value,
                            "keyword": r.keyword,
                            "rank": r.rank,
                            "image_id": r.image_id,
                            "image_sha256": shas[r.image_id],
                            "repeat": repeat,
                            "variant": variant,
                        }
                    )
    return items


def probe_sample(retrievals: list[Retrieval], fraction: float, seed: int) -> list[Retrieval]:
    """The acquiescence probe's sample: per value, ceil(fraction x its items), drawn at random
    (seeded by the run's seed and the value, so a re-run draws the same ones)."""
    by_value: dict[str, list[Retrieval]] = {}
    for r in retrievals:
        by_value.setdefault(r.value, []).append(r)
    chosen = []
    for value, rs in by_value.items():
        rng = random.Random(f"{seed}:{value}")
        chosen += sorted(rng.sample(rs, math.ceil(fraction * len(rs))), key=rs.index)
    return chosen


def build_manifest(
    request: RunRequest, searcher: Searcher, items: list[dict[str, Any]], providers: ProviderStore
) -> dict[str, Any]:
    targets = request.targets + request.text_models + ([request.describe_with] if request.describe_with else [])
    provider_info = {}
    for t in targets:
        p = providers.get(t.provider)
        provider_info[t.provider] = {"kind": p.kind, "base_url": p.shown_base_url}
    return {
        "app_version": __version__,
        "targets": [t.label for t in request.targets],
        "text_models": [t.label for t in request.text_models],
        "describe_with": request.describe_with.label if request.describe_with else None,
        "targets_label": [t.label for t in request.targets + request.text_models],
        "providers": provider_info,
        "values": [canonical_value(v) for v in request.values],
        "k": request.k,
        "repeats": request.repeats,
        "seed": request.seed,
        "fresh": request.fresh,
        "acquiescence_probe": request.acquiescence_probe,
        "batch": request.batch,
        "params": request.params.to_json(),
        "prompts": request.prompts.to_json(),
        "prompts_hash": request.prompts.hash,
        **({"variants": [w.to_json() for w in request.wordings]} if request.wordings else {}),
        "keyword_set": {
            "id": request.keyword_set.id,
            "hash": request.keyword_set.hash,
            "content": request.keyword_set.to_json(),
        },
        "clip": {"model_key": searcher.model_key, "spec": searcher.spec.to_json()},
        "index_hash": index_hash(searcher.ws, searcher.model_key),
        "images": sorted({i["image_sha256"] for i in items}),
        "retrieval": retrieval_counts(items, request),
        "shortfall": shortfall(retrieval_counts(items, request), request.k),
        "items": len(items),
    }


def index_hash(ws: Workspace, model_key: str) -> str:
    """SHA-256 of the sorted (image id, image sha256) pairs the model's index holds, under its
    model key. Vectors follow from the images and the model, so this names the searchable
    content; the HNSW file's bytes would not do: they change with insertion order and repairs."""
    digest = hashlib.sha256(model_key.encode())
    for image_id, sha in catalog.embedded_images(ws, model_key):
        digest.update(f"\n{image_id} {sha}".encode())
    return digest.hexdigest()


def estimate(
    items: list[dict[str, Any]], request: RunRequest, providers: ProviderStore, ws: Workspace | None = None
) -> Estimate:
    """Calls, tokens, cost and time of running ``items``; with ``ws``, answers already in its
    call log are counted as found, not sent (a ``--fresh`` run finds none)."""
    from vspectrum_app.bench.store import RunStore

    store = RunStore(ws) if ws is not None else None
    planned = plan_requests(
        items,
        prompts=request.prompts,
        params=request.params,
        configs=providers.get,
        describe_with=request.describe_with.label if request.describe_with else None,
        nonce="fresh" if request.fresh else "",
        cached=store.cached if store is not None and not request.fresh else None,
        wordings={w.name: w.like for w in request.wordings},
    )
    per: dict[str, dict[str, Any]] = {}
    table, unpriced = load_prices(), set()
    for (target, kind), calls in planned.send.items():
        provider, model = split_label(target)
        tin, tout = (calls * n for n in TURN_TOKENS[kind])
        p = per.setdefault(provider, {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0})
        p["calls"] += calls
        p["input_tokens"] += tin
        p["output_tokens"] += tout
        cfg = providers.get(provider)
        price = price_for(cfg, model, table)  # per model: one provider serves several
        if getattr(request, "batch", False) and supports_batch(cfg):
            price = batch_price(price, cfg.kind)
            p.update(batch=True, kind=cfg.kind)
        if price is None:
            unpriced.add(target)
        else:
            p["cost_usd"] += (tin * price.input_per_mtok + tout * price.output_per_mtok) / 1e6
    total_cost = total_seconds = 0.0
    for name, p in per.items():
        cfg = providers.get(name)
        latency = (store.mean_latency(name) if store is not None else None) or LATENCY_GUESS_S
        p["seconds"] = seconds_at_limits(p["calls"], cfg.requests_per_minute, cfg.concurrency, latency)
        p["limit"] = f"{cfg.requests_per_minute}/min"
        p["cost"] = format_cost(p["cost_usd"], {t for t in unpriced if t.startswith(name + ":")}, estimate=True)
        total_cost += p["cost_usd"]
        total_seconds = max(total_seconds, p["seconds"])  # providers run in parallel
    return Estimate(
        calls=planned.calls,
        input_tokens=int(sum(p["input_tokens"] for p in per.values())),
        output_tokens=int(sum(p["output_tokens"] for p in per.values())),
        cost_usd=total_cost,
        seconds=total_seconds,
        per_provider=per,
        unpriced=sorted(unpriced),
        retrieval=retrieval_counts(items, request),
        k=request.k,
        wordings=len(request.wordings) or 1,
        items=len(items),
        found=sum(planned.found.values()),
        batch=getattr(request, "batch", False),
    )
