"""The paper's three questions (Section 4.1), verbatim by default; runs record the exact text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vspectrum_app.core.schema import Anything, Custom, Obj, Str, check, read_json
from vspectrum_app.core.templates import MAX_PROMPT_CHARS, check_template

Q_LIKE = "Do you like the content of this image? Please include yes or no in your answer; just respond in one word."
Q_WHY = "Why do you like or dislike this picture?"
Q_DESCRIBE = "Describe this image in English briefly."
# Modality comparison (Section 6 / Appendix E): the text-only model gets the description and
# then the "like" question itself ({question}), so an edited question changes both arms.
TEXT_ONLY = "Here is a description of an image:\n\n{description}\n\n{question}"
# The acquiescence probe: the "like" question reversed. A model that answers on content says
# yes to exactly one of the two; one that agrees with anything says yes to both.
Q_REVERSED = (
    "Do you dislike the content of this image? Please include yes or no in your answer; just respond in one word."
)


@dataclass(frozen=True)
class PromptSet:
    like: str = Q_LIKE
    why: str = Q_WHY
    describe: str = Q_DESCRIBE
    text_only: str = TEXT_ONLY
    reversed: str = Q_REVERSED

    @property
    def hash(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: object, source: str = "prompts") -> "PromptSet":
        return cls(**check_prompts(doc, source))

    def text_question(self, description: str, question: str | None = None) -> str:
        """The text-only arm's first message: the description, then ``question`` (default:
        the "like" question). Runs recorded before {question} existed kept the question
        inside text_only: their template is filled in as it was."""
        if "{question}" not in self.text_only:
            return self.text_only.format(description=description)
        return self.text_only.format(description=description, question=question or self.like)


# -- checking edited prompts (before a run is created: a bad prompt must not leave a run that
# fails on every resume) ------------------------------------------------------------------------


class PromptError(Exception):
    pass


def _text_only(text: str) -> str:
    # {question} is the run's own "like" question (one source of truth for both arms); runs
    # recorded before it existed have only {description}, with the question written out.
    return check_template(text, ("description", "question"), ("description",))


_TEXT = Str(non_empty=True, max_len=MAX_PROMPT_CHARS)
PROMPTS_SCHEMA = Obj(
    {"like": _TEXT, "why": _TEXT, "describe": _TEXT, "reversed": _TEXT, "text_only": Custom(Anything(), _text_only)}
)


def check_prompts(doc: object, source: str = "prompts") -> dict[str, Any]:
    """The prompt texts in ``doc`` (a subset of like, why, describe, text_only, reversed),
    checked; a wrong one is ``PromptError`` naming it. Only text_only is a template."""
    prompts: dict[str, Any] = check(doc, PROMPTS_SCHEMA, source, PromptError)
    return prompts


def load_prompts(path: Path) -> PromptSet:
    """A ``--prompts`` file: a JSON object of edited prompt texts. A new text_only must put
    the "like" question in its place ({question}): one question for both arms."""
    prompts = PromptSet.from_json(read_json(path, Anything(), PromptError), Path(path).name)
    if "{question}" not in prompts.text_only:
        raise PromptError(
            f"{Path(path).name}: field 'text_only' must contain {{description}} and {{question}} "
            "(the like question goes there)"
        )
    return prompts
