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
import unicodedata

PARSER_VERSION = 2

YES_WORDS = {"yes", "yeah", "yep", "yup", "sure", "si", "sí", "sì", "oui", "ja", "sim", "da", "да", "是", "是的",
             "对", "好", "喜欢", "はい", "네", "예", "evet", "tak", "jah"}
NO_WORDS = {"no", "nope", "nah", "non", "nein", "não", "nao", "нет", "不", "不是", "不好", "不对", "否", "不喜欢",
            "いいえ", "아니요", "아니오", "hayır", "nie", "ei"}
_CJK_WORDS = sorted((w for w in YES_WORDS | NO_WORDS if not w.isascii() and re.search(
    r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", w)), key=len, reverse=True)
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_INTERJECTIONS = {"sorry", "well", "hmm", "um", "uh", "honestly", "ok", "okay", "oh"}
NEGATORS = {"not", "never", "hardly"}
HEDGE = re.compile(r"\b(maybe|perhaps|possibly|unsure|uncertain|not (really )?sure|i guess|kind of|sort of|"
                   r"hard to say|can'?t decide|it depends|depends)\b", re.IGNORECASE)
REFUSAL_PATTERNS = [
    r"\b(i'?m|i am) sorry\b", r"^sorry\b", r"\bi (can ?not|can'?t|won'?t|am unable to|'m unable to)\b",
    r"\bunable to (assist|help|provide|answer)\b", r"\bas an? (ai|artificial intelligence|(large )?language model)\b",
    r"\b(i'?m|i am) (just )?an? (ai|artificial intelligence|(large )?language model)\b",
    r"\bi (don'?t|do not) have (personal )?(preferences|feelings|opinions|likes)\b",
    r"\bi (don'?t|do not) have the (ability|capacity) to\b",
    r"\b(can ?not|can'?t|do not|don'?t) have (personal )?(preferences|feelings|opinions|likes)\b",
    r"\bnot able to (assist|help|provide)\b",
]
_REFUSAL = re.compile("|".join(REFUSAL_PATTERNS), re.IGNORECASE)
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


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text.lower())
    out: list[str] = []
    for w in re.findall(r"[\w']+", text):
        out += _cjk_split(w) if _CJK.search(w) else [w]
    return out


def _cjk_split(run: str) -> list[str]:
    """Cut a CJK run into the longest known answer words (other characters are skipped)."""
    out, i = [], 0
    while i < len(run):
        word = next((w for w in _CJK_WORDS if run.startswith(w, i)), None)
        if word:
            out.append(word)
            i += len(word)
        else:
            i += 1
    return out or [run]


def _negated_yes(words: list[str]) -> bool:
    return any(w in YES_WORDS and i and (words[i - 1] in NEGATORS or words[i - 1].endswith("n't"))
               for i, w in enumerate(words))


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
    hedged = bool(HEDGE.search(" ".join(first_sentence[:start + 5])))
    if (head in YES_WORDS or head in NO_WORDS) and not hedged:
        polarity = "yes" if head in YES_WORDS else "no"
        other = NO_WORDS if polarity == "yes" else YES_WORDS
        return "unparsed" if any(w in other for w in first_sentence[start + 1:]) else polarity
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


def looks_like_refusal(text: str | None) -> bool:
    """A declining answer ("I'm sorry, I can't ..."), for answers no other rule reads."""
    return bool(text and _REFUSAL.search(text))


def looks_like_no_image(text: str | None) -> bool:
    """The model says it received no image: the pipeline failed, the model did not answer."""
    return bool(text and _NO_IMAGE.search(text))


def is_hedged(text: str) -> bool:
    """A negated yes ("not sure") or a hedge ("maybe"): commits to neither answer."""
    return bool(HEDGE.search(text)) or _negated_yes(_words(text))


def paper_style(text: str | None) -> str:
    """The authors' prototype rule: 'yes' anywhere in the answer is a yes, all else a no."""
    return "yes" if text and "yes" in text.lower() else "no"
