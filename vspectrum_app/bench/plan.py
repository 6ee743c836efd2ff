"""Planning a run: which model answers which image for which value, the manifest that makes
the run auditable and re-runnable, and the dry-run estimate of calls, tokens, cost and time."""

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
from vspectrum_app.library import catalog
from vspectrum_app.library.keywords import KeywordSet
from vspectrum_app.providers.clients import IMAGE_TOKENS, Params
from vspectrum_app.providers.config import ProviderStore
from vspectrum_app.providers.prices import load_table as load_prices
from vspectrum_app.providers.prices import price_for

if TYPE_CHECKING:
    from vspectrum_app.library.search import Retrieval, Searcher
    from vspectrum_app.core.workspace import Workspace

# Rough token counts for estimates (an image: providers.clients.IMAGE_TOKENS).
QUESTION_TOKENS = 30
ANSWER_TOKENS = {1: 3, 2: 80, 3: 80}
LATENCY_GUESS_S = 2.0
PROBE = "probe"  # item mode of the acquiescence probe: the reversed question, with the image


class PlanError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    provider: str
    model: str

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}"

    @classmethod
    def parse(cls, text: str) -> "Target":
        provider, sep, model = text.partition(":")
        if not sep or not provider or not model:
            raise PlanError(f"expected PROVIDER:MODEL (or a model name with --provider NAME), got {text!r}")
        return cls(provider, model)


@dataclass
class RunRequest:
    targets: list[Target]
    keyword_set: KeywordSet
    values: list[str] = field(default_factory=lambda: list(SCHWARTZ_VALUES))
    k: int = 5
    repeats: int = 1
    params: Params = field(default_factory=Params)
    prompts: PromptSet = field(default_factory=PromptSet)
    describe_with: Target | None = None  # modality comparison: model A describes each image
    text_models: list[Target] = field(default_factory=list)  # text-only models answering from descriptions
    fresh: bool = False  # do not reuse answers cached by earlier runs
    seed: int = 0
    acquiescence_probe: float = 0.0  # share of each value's images also asked the reversed question
    wordings: list[Wording] = field(default_factory=list)  # --prompt-variants; none: the run's own like question


@dataclass
class Estimate:
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    seconds: float
    per_provider: dict[str, dict[str, float]]
    unpriced: list[str] = field(default_factory=list)  # PROVIDER:MODEL with no known price (not in the cost)
    retrieval: dict[str, dict[str, int]] = field(default_factory=dict)  # value -> keyword -> images found
    k: int = 5
    wordings: int = 1  # of the like question: every image and text item is asked under each

    def describe(self) -> str:
        lines = [
            f"{self.calls} calls, ~{self.input_tokens:,} input and ~{self.output_tokens:,} output tokens, "
            f"~${self.cost_usd:.2f}, ~{format_duration(self.seconds)} at the configured limits "
            f"(an upper bound: answers cached by earlier runs are not sent)"
        ]
        if self.wordings > 1:
            lines.append(f"  {self.wordings} wordings of the like question: each item is asked under each")
        for name, p in self.per_provider.items():
            lines.append(f"  {name}: {int(p['calls'])} calls, ~${p['cost_usd']:.2f}, ~{format_duration(p['seconds'])}")
        if self.unpriced:
            lines.append(f"  no price known for {', '.join(self.unpriced)} (not in the cost): set it in Settings")
        return "\n".join(lines + retrieval_lines(self.retrieval, self.k))


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


def estimate(items: list[dict[str, Any]], request: RunRequest, providers: ProviderStore) -> Estimate:
    per: dict[str, dict[str, float]] = {}
    table, unpriced = load_prices(), set()

    def add(target: str, calls: int, tin: int, tout: int) -> None:
        provider, model = target.split(":", 1)
        p = per.setdefault(provider, {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0})
        p["calls"] += calls
        p["input_tokens"] += tin
        p["output_tokens"] += tout
        price = price_for(providers.get(provider), model, table)  # per model: one provider serves several
        if price is None:
            unpriced.add(target)
        else:
            p["cost_usd"] += (tin * price.input_per_mtok + tout * price.output_per_mtok) / 1e6

    described: set[str] = set()
    for item in items:
        if item["mode"] == PROBE:
            add(item["target"], 1, IMAGE_TOKENS + QUESTION_TOKENS, ANSWER_TOKENS[1])
        elif item["mode"] == "vlm":
            tin = sum(
                IMAGE_TOKENS + QUESTION_TOKENS * t + sum(ANSWER_TOKENS[j] for j in range(1, t)) for t in (1, 2, 3)
            )
            add(item["target"], 3, tin, sum(ANSWER_TOKENS.values()))
        else:
            add(
                item["target"],
                2,
                2 * (ANSWER_TOKENS[3] + QUESTION_TOKENS) + ANSWER_TOKENS[1],
                ANSWER_TOKENS[1] + ANSWER_TOKENS[2],
            )
            if request.describe_with and item["image_sha256"] not in described:
                described.add(item["image_sha256"])
                add(request.describe_with.label, 1, IMAGE_TOKENS + QUESTION_TOKENS, ANSWER_TOKENS[3])
    total_cost = total_seconds = 0.0
    for name, p in per.items():
        cfg = providers.get(name)
        rate = min(cfg.concurrency / LATENCY_GUESS_S, cfg.requests_per_minute / 60)
        p["seconds"] = p["calls"] / rate
        total_cost += p["cost_usd"]
        total_seconds = max(total_seconds, p["seconds"])  # providers run in parallel
    return Estimate(
        calls=int(sum(p["calls"] for p in per.values())),
        input_tokens=int(sum(p["input_tokens"] for p in per.values())),
        output_tokens=int(sum(p["output_tokens"] for p in per.values())),
        cost_usd=total_cost,
        seconds=total_seconds,
        per_provider=per,
        unpriced=sorted(unpriced),
        retrieval=retrieval_counts(items, request),
        k=request.k,
        wordings=len(request.wordings) or 1,
    )
