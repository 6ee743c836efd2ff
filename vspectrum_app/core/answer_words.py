"""The words of a model's answer that both the benchmark and the persona runs read: yes- and
no-words in the languages models answer in, negations and hedges, and the sentences of a model
that declines. Whole words only; a CJK run (no spaces) is cut into the longest known words.

The benchmark's answer classes follow from these lists (``bench/parsing.py``): a change here
that changes a class needs a new ``bench.parsing.PARSER_VERSION``.
"""

from __future__ import annotations

import re
import unicodedata

YES_WORDS = {
    "yes",
    "yeah",
    "yep",
    "yup",
    "sure",
    "si",
    "sí",
    "sì",
    "oui",
    "ja",
    "sim",
    "da",
    "да",
    "是",
    "是的",
    "对",
    "好",
    "喜欢",
    "はい",
    "네",
    "예",
    "evet",
    "tak",
    "jah",
}
NO_WORDS = {
    "no",
    "nope",
    "nah",
    "non",
    "nein",
    "não",
    "nao",
    "нет",
    "不",
    "不是",
    "不好",
    "不对",
    "否",
    "不喜欢",
    "いいえ",
    "아니요",
    "아니오",
    "hayır",
    "nie",
    "ei",
}
_CJK_WORDS = sorted(
    (w for w in YES_WORDS | NO_WORDS if not w.isascii() and re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", w)),
    key=len,
    reverse=True,
)
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
NEGATORS = {"not", "never", "hardly"}
HEDGE = re.compile(
    r"\b(maybe|perhaps|possibly|unsure|uncertain|not (really )?sure|i guess|kind of|sort of|"
    r"hard to say|can'?t decide|it depends|depends)\b",
    re.IGNORECASE,
)
REFUSAL_PATTERNS = [
    r"\b(i'?m|i am) sorry\b",
    r"^sorry\b",
    r"\bi (can ?not|can'?t|won'?t|am unable to|'m unable to)\b",
    r"\bunable to (assist|help|provide|answer)\b",
    r"\bas an? (ai|artificial intelligence|(large )?language model)\b",
    r"\b(i'?m|i am) (just )?an? (ai|artificial intelligence|(large )?language model)\b",
    r"\bi (don'?t|do not) have (personal )?(preferences|feelings|opinions|likes)\b",
    r"\bi (don'?t|do not) have the (ability|capacity) to\b",
    r"\b(can ?not|can'?t|do not|don'?t) have (personal )?(preferences|feelings|opinions|likes)\b",
    r"\bnot able to (assist|help|provide)\b",
]
REFUSAL = re.compile("|".join(REFUSAL_PATTERNS), re.IGNORECASE)


def words(text: str) -> list[str]:
    """The lower-cased whole words of ``text``, CJK runs cut into known answer words."""
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


def negated_yes(words: list[str]) -> bool:
    return any(
        w in YES_WORDS and i and (words[i - 1] in NEGATORS or words[i - 1].endswith("n't")) for i, w in enumerate(words)
    )


def looks_like_refusal(text: str | None) -> bool:
    """A declining answer ("I'm sorry, I can't ..."), for answers no other rule reads."""
    return bool(text and REFUSAL.search(text))


def is_hedged(text: str) -> bool:
    """A negated yes ("not sure") or a hedge ("maybe"): commits to neither answer."""
    return bool(HEDGE.search(text)) or negated_yes(words(text))
