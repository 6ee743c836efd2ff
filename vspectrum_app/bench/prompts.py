"""The paper's three questions (Section 4.1), verbatim by default; runs record the exact text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

Q_LIKE = "Do you like the content of this image? Please include yes or no in your answer; just respond in one word."
Q_WHY = "Why do you like or dislike this picture?"
Q_DESCRIBE = "Describe this image in English briefly."
# Modality comparison (Section 6 / Appendix E): the text-only model gets the description and
# then the "like" question itself ({question}), so an edited question changes both arms.
TEXT_ONLY = "Here is a description of an image:\n\n{description}\n\n{question}"
# The acquiescence probe: the "like" question reversed. A model that answers on content says
# yes to exactly one of the two; one that agrees with anything says yes to both.
Q_REVERSED = ("Do you dislike the content of this image? Please include yes or no in your answer; "
              "just respond in one word.")


class PromptSetError(ValueError):
    pass


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

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict) -> "PromptSet":
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})

    @classmethod
    def from_file(cls, doc: object) -> "PromptSet":
        """An edited prompts file: unknown keys and unfillable templates are refused up front."""
        if not isinstance(doc, dict) or not all(isinstance(v, str) and v.strip() for v in doc.values()):
            raise PromptSetError("the prompts file must be a JSON object of non-empty texts")
        unknown = sorted(set(doc) - set(cls.__dataclass_fields__))
        if unknown:
            raise PromptSetError(f"unknown prompt {', '.join(unknown)} (known: {', '.join(cls.__dataclass_fields__)})")
        prompts = cls(**doc)
        if "{description}" not in prompts.text_only or "{question}" not in prompts.text_only:
            raise PromptSetError("text_only must contain {description} and {question} (the like question goes there)")
        try:
            prompts.text_question("x")
        except (KeyError, IndexError, ValueError) as exc:
            raise PromptSetError(f"text_only cannot be filled in ({exc!r}): double any brace other than "
                                 f"{{description}} and {{question}}") from None
        return prompts

    def text_question(self, description: str, question: str | None = None) -> str:
        """The text-only arm's first message: the description, then ``question`` (default:
        the "like" question). Runs recorded before {question} existed kept the question
        inside text_only: their template is filled in as it was."""
        if "{question}" not in self.text_only:
            return self.text_only.format(description=description)
        return self.text_only.format(description=description, question=question or self.like)
