"""The paper's three questions (Section 4.1), verbatim by default; runs record the exact text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from vspectrum_app.core.schema import Anything, Custom, Obj, Str, check, read_json
from vspectrum_app.core.templates import MAX_PROMPT_CHARS, check_template

Q_LIKE = "Do you like the content of this image? Please include yes or no in your answer; just respond in one word."
Q_WHY = "Why do you like or dislike this picture?"
Q_DESCRIBE = "Describe this image in English briefly."
# Modality comparison (Section 6 / Appendix E): the text-only model gets the description.
TEXT_ONLY = ("Here is a description of an image:\n\n{description}\n\n"
             "Do you like the content of this image? Please include yes or no in your answer; just respond in one word.")


@dataclass(frozen=True)
class PromptSet:
    like: str = Q_LIKE
    why: str = Q_WHY
    describe: str = Q_DESCRIBE
    text_only: str = TEXT_ONLY

    @property
    def hash(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: object, source: str = "prompts") -> "PromptSet":
        return cls(**check_prompts(doc, source))


# -- checking edited prompts (before a run is created: a bad prompt must not leave a run that
# fails on every resume) ------------------------------------------------------------------------

class PromptError(Exception):
    pass


def _text_only(text: str) -> str:
    return check_template(text, ("description",), ("description",))


PROMPTS_SCHEMA = Obj({"like": Str(non_empty=True, max_len=MAX_PROMPT_CHARS),
                      "why": Str(non_empty=True, max_len=MAX_PROMPT_CHARS),
                      "describe": Str(non_empty=True, max_len=MAX_PROMPT_CHARS),
                      "text_only": Custom(Anything(), _text_only)})


def check_prompts(doc: object, source: str = "prompts") -> dict:
    """The prompt texts in ``doc`` (a subset of like, why, describe, text_only), checked; a wrong
    one is ``PromptError`` naming it. Only text_only is a template (``{description}``)."""
    return check(doc, PROMPTS_SCHEMA, source, PromptError)


def load_prompts(path: Path) -> PromptSet:
    """A ``--prompts`` file: a JSON object of edited prompt texts."""
    return PromptSet.from_json(read_json(path, Anything(), PromptError), Path(path).name)
