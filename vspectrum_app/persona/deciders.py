"""Deciders turn a screenshot into watch / scroll: a VLM in a persona, or a control policy."""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import Any, Callable

from vspectrum_app.core.answer_words import looks_like_refusal
from vspectrum_app.persona.agent import Decision
from vspectrum_app.persona.metrics import DEFAULT_THRESHOLD, isq_decision, isq_score
from vspectrum_app.persona.parsing import parse_isq, parse_simple
from vspectrum_app.providers.errors import ContentRefused

AskFn = Callable[[bytes, str], str]  # (screenshot, prompt) -> the model's raw text answer


class ModelDecider:
    """Asks a model through ``ask``; parses by strategy. Unreadable answers are 'unparsed'
    (and scroll on, like a no) and refusals 'refusal': both are counted, never guessed."""

    def __init__(
        self,
        ask: AskFn,
        strategy: str,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        max_trait: int | None = None,
        is_refusal: Callable[[str], bool] | None = None,
    ):
        if strategy not in ("simple", "isq"):
            raise ValueError(f"unknown strategy {strategy!r}")
        self.ask, self.strategy, self.threshold, self.max_trait = ask, strategy, threshold, max_trait
        self.is_refusal = is_refusal or looks_like_refusal

    def decide(self, image: bytes, prompt: str) -> Decision:
        try:
            raw = self.ask(image, prompt)
        except ContentRefused as exc:  # flagged by the API: no text to parse
            return Decision(decision="refusal", raw_answer=str(exc), parsed={"refused_by_api": True}, call=self._call())
        if self.strategy == "simple":
            answer = parse_simple(raw)
            decision, score, parsed = answer.decision, None, asdict(answer)
        else:
            isq = parse_isq(raw, self.max_trait)
            score = isq_score(isq)
            decision, parsed = isq_decision(score, self.threshold), asdict(isq)
        if decision is None:
            decision = "refusal" if self.is_refusal(raw) else "unparsed"
        return Decision(decision=decision, raw_answer=raw, parsed=parsed, score=score, call=self._call())

    def _call(self) -> dict[str, Any] | None:
        """The call behind the answer, when the asker keeps one (persona.asker.ModelAsker does)."""
        call: dict[str, Any] | None = getattr(self.ask, "last_call", None)
        return call


class ControlDecider:
    """The baseline the paper lacks: watch at random with a fixed rate, seeded. Run it on the
    same platform with the persona session's watch rate to see what the recommender does
    with no preference at all."""

    def __init__(self, rate: float, seed: int = 0):
        if not 0 <= rate <= 1:
            raise ValueError("control watch rate must be between 0 and 1")
        self.rate = rate
        self._rng = random.Random(seed)

    def decide(self, image: bytes, prompt: str) -> Decision:
        yes = self._rng.random() < self.rate
        return Decision(decision="yes" if yes else "no", parsed={"policy": "random", "rate": self.rate})
