"""The paper's three questions (Section 4.1), verbatim by default; runs record the exact text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

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
    def from_json(cls, doc: dict) -> "PromptSet":
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})
