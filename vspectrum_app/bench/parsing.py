"""Answer 1 ("do you like ...?") to yes / no / refusal / unparsed / no_image (protocol.md section 3).

Rules, in order:
0. The model says it got no image ("I cannot see any image", "no image was attached", "the
   image failed to load"): ``no_image``, a pipeline failure to resume, never a refusal.
1. The answer opens with a yes-word or a no-word ("Yes.", "**No.**", "Oui", "是"), after an
   optional interjection ("Sorry, no."), and the first sentence has no word of the other
   polarity: that answer. ("Yes and no": unparsed.)
2. A negated yes-word ("not sure", "not yes") or a hedge ("maybe", "unsure", "I guess") in the
   first sentence: unparsed (the answer commits to neither).
3. The model declines ("I'm sorry, I can't assist", "As an AI I don't have preferences",
   "I'm an AI and cannot have preferences", "As a language model, ..."): refusal.
4. Exactly one polarity appears as a whole word anywhere ("I don't have personal
   preferences, but yes"): that answer.
5. Anything else ("Subjective", "Inconclusive", "eyes"): unparsed.

Words are matched whole, so "eyes" is not a yes (the authors' prototype, which tested for
the substring "yes", counted it as one: ``paper_style`` reproduces that rule). CJK answers
have no spaces: a run of CJK characters is cut into the longest known answer words, so
"不是" is one no-word, not "不" + "是".

``PARSER_VERSION`` changes whenever a rule changes a class; each run records the version that
classified it, and ``vspectrum bench reclassify`` re-derives old runs' classes.
"""

from __future__ import annotations

import re

from vspectrum_app.core.answer_words import HEDGE, NO_WORDS, YES_WORDS
from vspectrum_app.core.answer_words import REFUSAL as _REFUSAL
from vspectrum_app.core.answer_words import negated_yes as _negated_yes
from vspectrum_app.core.answer_words import words as _words

PARSER_VERSION = 2

_INTERJECTIONS = {"sorry", "well", "hmm", "um", "uh", "honestly", "ok", "okay", "oh"}
NO_IMAGE_PATTERNS = [
    r"\b(can ?not|can'?t|could ?not|couldn'?t|unable to|don'?t|do not|didn'?t) (see|view|access|open|load|find)"
    r" (any|an|the|this|that|your)? ?(image|picture|photo|attachment)",
    r"\bno (image|picture|photo|attachment)s? (was |were |is |has been )?(attached|provided|included|uploaded|shared|visible)",
    r"\b(image|picture|photo|attachment) (failed to load|did ?n[o']t load|could ?n[o']t be loaded|is(n'?t| not) (visible|attached|loading))",
    r"\bthere (is|was) no (image|picture|photo|attachment)",
    r"\b(haven'?t|have not|did ?n[o']t) (received|receive|get) (an?|any|the) (image|picture|photo)",
]
_NO_IMAGE = re.compile("|".join(NO_IMAGE_PATTERNS), re.IGNORECASE)
CLASSES = ("yes", "no", "refusal", "unparsed", "no_image")
SCORED = ("yes", "no")


def classify_answer(text: str | None, refused_by_api: bool = False) -> str:
    if refused_by_api:
        return "refusal"
    if not text or not text.strip():
        return "unparsed"
    cleaned = re.sub(r"[*_#`>\"“”]+", " ", text).strip()
    if looks_like_no_image(cleaned):
        return "no_image"
    words = _words(cleaned)
    if not words:
        return "unparsed"
    sentence = re.split(r"(?<=[.!?。！？])\s|\n", cleaned, maxsplit=1)[0]
    first_sentence = _words(sentence)
    start = next((i for i, w in enumerate(first_sentence) if w not in _INTERJECTIONS), len(first_sentence))
    head = first_sentence[start] if start < len(first_sentence) else words[0]
    # a hedge qualifies the answer only near it ("Yes, maybe"), not in a later explanation
    hedged = bool(HEDGE.search(" ".join(first_sentence[: start + 5])))
    if (head in YES_WORDS or head in NO_WORDS) and not hedged:
        polarity = "yes" if head in YES_WORDS else "no"
        other = NO_WORDS if polarity == "yes" else YES_WORDS
        return "unparsed" if any(w in other for w in first_sentence[start + 1 :]) else polarity
    if _negated_yes(first_sentence) or HEDGE.search(sentence):
        return "unparsed"
    has_yes, has_no = any(w in YES_WORDS for w in words), any(w in NO_WORDS for w in words)
    if _REFUSAL.search(cleaned):
        if has_yes != has_no and re.search(r"\b(but|however)\b", cleaned, re.IGNORECASE):
            return "yes" if has_yes else "no"  # a disclaimer, then an answer
        return "refusal"
    if has_yes != has_no and not _negated_yes(words):
        return "yes" if has_yes else "no"
    return "unparsed"


def looks_like_no_image(text: str | None) -> bool:
    """The model says it received no image: the pipeline failed, the model did not answer."""
    return bool(text and _NO_IMAGE.search(text))


def paper_style(text: str | None) -> str:
    """The authors' prototype rule: 'yes' anywhere in the answer is a yes, all else a no."""
    return "yes" if text and "yes" in text.lower() else "no"
