"""Parse the models' structured persona answers (Simple and ISQ) without guessing.

Models answer with JSON, Python-style single-quoted dicts, code fences, prose around the
dict, or numbers as words. Each field is parsed on its own; a field that cannot be read
is recorded in ``problems`` and left ``None``. A decision is only taken when every field it
depends on was read: otherwise the answer counts as *unparsed*, never as a guessed yes/no.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from vspectrum_app.core.answer_classes import yes_no

ISQ_NUMERIC = ("visual_appeal", "curiosity_stimulation", "emotional_engagement", "value_expectation")
ISQ_YES_NO = ("preference_alignment", "action_desire")

_WORD_NUMBERS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten".split())}
_RANGE = re.compile(r"^\d+(?:\.\d+)?\s*(?:-|–|—|to|or|/(?!\s*10\b))\s*\d")
_FENCE = re.compile(r"```(?:[a-zA-Z]+)?\s*(.*?)```", re.DOTALL)
_KEY_VALUE = re.compile(
    r"""["']?(?P<key>[A-Za-z_]+)["']?\s*[:=]\s*(?P<value>"[^"]*"|'(?:[^'\\]|\\.|'(?=[A-Za-z]))*'|[^,{}\n]+)"""
)


@dataclass
class SimpleAnswer:
    decision: str | None  # "yes" | "no" | None (unparsed)
    reason: str | None
    trait_num: int | None
    problems: list[str] = field(default_factory=list)


@dataclass
class IsqAnswer:
    fields: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(self.fields.get(k) is not None for k in ISQ_NUMERIC + ISQ_YES_NO)


def parse_simple(text: str) -> SimpleAnswer:
    raw, problems = extract_mapping(text)
    decision = decision_of(raw.get("decision"))
    if decision is None:
        problems.append(f"decision not yes/no: {raw.get('decision')!r}" if "decision" in raw else "no decision")
    trait, trait_problem = _trait(raw.get("trait_num"))
    if trait_problem:
        problems.append(trait_problem)
    reason = raw.get("reason")
    return SimpleAnswer(decision, str(reason) if reason is not None else None, trait, problems)


def parse_isq(text: str, max_trait: int | None = None) -> IsqAnswer:
    raw, problems = extract_mapping(text)
    fields: dict[str, Any] = {}
    for key in ISQ_NUMERIC:
        value = _number(raw.get(key))
        if value is None or not 1 <= value <= 10:
            problems.append(f"{key}: {'missing' if key not in raw else repr(raw[key])} is not a number from 1 to 10")
            value = None
        fields[key] = value
    for key in ISQ_YES_NO:
        fields[key] = decision_of(raw.get(key))
        if fields[key] is None:
            problems.append(f"{key}: {'missing' if key not in raw else repr(raw[key])} is not yes/no")
    trait, trait_problem = _trait(raw.get("trait_num"), max_trait)
    if trait_problem:
        problems.append(trait_problem)
    fields["trait_num"] = trait
    return IsqAnswer(fields, problems)


def extract_mapping(text: str) -> tuple[dict[str, Any], list[str]]:
    """The answer's key/value pairs, however the model wrapped them, and what went wrong."""
    problems: list[str] = []
    if not text or not text.strip():
        return {}, ["empty answer"]
    fenced = _FENCE.findall(text)
    candidates = [c for block in fenced for c in _braced(block)] + _braced(text)
    for candidate in candidates:
        for loader in (json.loads, ast.literal_eval):
            try:
                value = loader(candidate)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if isinstance(value, dict):
                return {str(k).strip().lower(): v for k, v in value.items()}, problems
    # Not a well-formed dict: read 'key': value pairs (unbalanced quotes, trailing prose...).
    pairs: dict[str, Any] = {}
    for m in _KEY_VALUE.finditer(text):
        pairs.setdefault(m.group("key").lower(), _unquote(m.group("value")))
    if pairs:
        problems.append("answer was not a well-formed dict; read its key/value pairs")
        return pairs, problems
    return {}, ["no structured answer found"]


def _braced(text: str) -> list[str]:
    """Every balanced {...} span, outermost first (quotes respected)."""
    spans, depth, start, quote = [], 0, None, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                # an apostrophe inside a word ("i've") does not close a single-quoted string
                if not (quote == "'" and i + 1 < len(text) and text[i + 1].isalpha() and text[i - 1].isalpha()):
                    quote = None
        elif ch in "'\"" and depth:
            quote = ch
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def decision_of(value: Any) -> str | None:
    """A yes/no field as "yes", "no" or None, read by the app's one answer classifier
    (``core.answer_classes``, the benchmark's too): "not sure", "maybe", "不确定" are None,
    never a guessed no. A JSON boolean is its own answer; numbers and other types are None."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, str):
        return None
    return yes_no(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return _finite(value)
    text = str(value).strip().lower()
    if _RANGE.match(text):
        return None  # "8-9", "7 to 8": the model gave no single score; recorded, never silently 8
    match = re.match(r"^(\d+(?:\.\d+)?)\s*(?:/\s*10|out of 10)?\b", text)
    if match:
        return _finite(match.group(1))
    word = re.match(r"^([a-z]+)", text)
    if word and word.group(1) in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[word.group(1)])
    return None


def _finite(value: Any) -> float | None:
    """A model's number as a float; None for what no scale holds (10**400, inf, nan)."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _trait(value: Any, max_trait: int | None = None) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    text = str(value).strip().lower()
    if text in ("", "na", "n/a", "none", "null", "nan") or text.startswith("na "):
        return None, None
    number = _number(re.sub(r"^(?:trait|personality|statement|#)\s*", "", text))
    if number is None or number != int(number):
        return None, f"trait_num {value!r} is not an index"
    if number < 1 or (max_trait is not None and number > max_trait):
        return None, f"trait_num {int(number)} is out of range"
    return int(number), None
