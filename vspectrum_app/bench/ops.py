"""The benchmark's jobs as data: a new run (or its estimate, ``dry_run``) and a resume.
``bench.cli`` builds its options from these classes and ``gui.jobs`` starts them (core.operations)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from vspectrum_app.core.operations import Operation, argument, option
from vspectrum_app.library.ops import ClipOptions


@dataclass(frozen=True, kw_only=True)
class Run(Operation):
    command: ClassVar[tuple[str, ...]] = ("bench", "run")
    targets: tuple[str, ...] = option("--model", repeat=True, default=(), metavar="[PROVIDER:]MODEL",
                                      help="a model to evaluate (repeatable): PROVIDER:MODEL, or a bare model name "
                                           "at --provider")
    provider: str | None = option("--provider", help="the provider of bare --model names")
    values: tuple[str, ...] | None = option("--values", nargs="+", metavar="VALUE",
                                            help="values to evaluate (default: all ten)")
    keyword_set: str | None = option("--keyword-set", metavar="SET", help="keyword set name, hash or JSON file")
    k: int = option("--k", default=5, help="images per keyword (paper: 5)")
    repeats: int = option("--repeats", default=1, help="answers sampled per image")
    temperature: float | None = option("--temperature")
    max_tokens: int = option("--max-tokens", default=300)
    seed: int = option("--seed", default=0, help="bootstrap seed (and the API's seed where supported)")
    describe_with: str | None = option("--describe-with", metavar="PROVIDER:MODEL",
                                       help="modality comparison: this model describes each image; the evaluated "
                                            "models also answer from the description alone")
    text_models: tuple[str, ...] = option("--text-model", repeat=True, default=(), metavar="PROVIDER:MODEL",
                                          help="a text-only model answering from descriptions (needs "
                                               "--describe-with)")
    prompts: Path | None = option("--prompts", metavar="JSON",
                                  help="edited prompt texts (keys: like, why, describe, text_only with {description} "
                                       "and {question}, reversed)")
    fresh: bool = option("--fresh", default=False, help="do not reuse answers cached by earlier runs")
    dry_run: bool = option("--dry-run", default=False, help="print calls, tokens, cost and time; send nothing")
    acquiescence_probe: float = option("--acquiescence-probe", default=0.0, metavar="FRACTION",
                                       help="yes-bias probe: also ask the reversed question (prompts key "
                                            "'reversed') about this share of each value's images")
    strict: bool = option("--strict", default=False,
                          help="refuse the run when any keyword retrieves fewer than --k images")
    clip: ClipOptions = ClipOptions()


@dataclass(frozen=True, kw_only=True)
class Resume(Operation):
    command: ClassVar[tuple[str, ...]] = ("bench", "resume")
    run_id: str = argument()
