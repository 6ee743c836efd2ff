"""Answer 1 ("do you like ...?") to yes / no / refusal / unparsed (protocol.md section 3).

Rules, in order:
1. The answer opens with a yes-word or a no-word ("Yes.", "**No.**", "Oui", "是") and the
   first sentence has no word of the other polarity: that answer. ("Yes and no": unparsed.)
2. The model declines ("I'm sorry, I can't assist", "As an AI I don't have preferences"):
   refusal.
3. Exactly one polarity appears as a whole word anywhere ("I don't have personal
   preferences, but yes"): that answer.
4. Anything else ("Subjective", "Inconclusive", "eyes"): unparsed.

Words are matched whole, so "eyes" is not a yes (the authors' prototype, which tested for
the substring "yes", counted it as one: ``paper_style`` reproduces that rule).
"""

from __future__ import annotations

import re
import unicodedata

YES_WORDS = {"yes", "yeah", "yep", "yup", "sure", "si", "sí", "oui", "ja", "sim", "da", "да", "是", "是的", "对",
             "好", "はい", "네", "예", "evet", "tak", "jah"}
NO_WORDS = {"no", "nope", "nah", "non", "nein", "não", "nao", "нет", "不", "不是", "否", "不喜欢", "いいえ",
            "아니요", "아니오", "hayır", "nie", "ei"}
REFUSAL_PATTERNS = [
    r"\b(i'?m|i am) sorry\b", r"^sorry\b", r"\bi (can ?not|can'?t|won'?t|am unable to|'m unable to)\b",
    r"\bunable to (assist|help|provide|answer)\b", r"\bas an ai\b",
    r"\bi (don'?t|do not) have (personal )?(preferences|feelings|opinions|likes)\b",
    r"\bnot able to (assist|help|provide)\b",
]
_REFUSAL = re.compile("|".join(REFUSAL_PATTERNS), re.IGNORECASE)
CLASSES = ("yes", "no", "refusal", "unparsed")


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text.lower())
    # CJK answers have no spaces: treat each run of CJK characters as a word, and each
    # known CJK answer inside it too.
    words = re.findall(r"[\w']+", text)
    out = []
    for w in words:
        out.append(w)
        if re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", w):
            out += [cjk for cjk in (YES_WORDS | NO_WORDS) if cjk in w and not cjk.isascii()]
    return out


def classify_answer(text: str | None, refused_by_api: bool = False) -> str:
    if refused_by_api:
        return "refusal"
    if not text or not text.strip():
        return "unparsed"
    cleaned = re.sub(r"[*_#`>\"“”]+", " ", text).strip()
    words = _words(cleaned)
    if not words:
        return "unparsed"
    first_sentence = _words(re.split(r"(?<=[.!?。！？])\s|\n", cleaned, maxsplit=1)[0])
    head = words[0]
    if head in YES_WORDS or head in NO_WORDS:
        polarity = "yes" if head in YES_WORDS else "no"
        other = NO_WORDS if polarity == "yes" else YES_WORDS
        return "unparsed" if any(w in other for w in first_sentence[1:]) else polarity
    if _REFUSAL.search(cleaned):
        has_yes, has_no = any(w in YES_WORDS for w in words), any(w in NO_WORDS for w in words)
        if has_yes != has_no and re.search(r"\b(but|however)\b", cleaned, re.IGNORECASE):
            return "yes" if has_yes else "no"  # a disclaimer, then an answer
        return "refusal"
    has_yes, has_no = any(w in YES_WORDS for w in words), any(w in NO_WORDS for w in words)
    if has_yes != has_no:
        return "yes" if has_yes else "no"
    return "unparsed"


def looks_like_refusal(text: str | None) -> bool:
    """A declining answer ("I'm sorry, I can't ..."), for answers no other rule reads."""
    return bool(text and _REFUSAL.search(text))


def paper_style(text: str | None) -> str:
    """The authors' prototype rule: 'yes' anywhere in the answer is a yes, all else a no."""
    return "yes" if text and "yes" in text.lower() else "no"
