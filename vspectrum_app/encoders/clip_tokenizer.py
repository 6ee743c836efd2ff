"""CLIP's byte-level BPE tokeniser without torch or open_clip (for the ONNX backend).

The same algorithm and vocabulary file as open_clip's ``SimpleTokenizer`` with its default
``lower`` cleaning (ftfy fix, HTML unescape twice, whitespace collapse, lower case), returning
a numpy int64 array instead of a torch tensor. The export checks token for token against
open_clip before a model is ever served by this class (``onnx_export``), so a model whose
tokeniser differs falls back to torch instead of being embedded wrongly.
"""

from __future__ import annotations

import gzip
import html
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

SPECIAL = ("<start_of_text>", "<end_of_text>")
N_MERGES = 49152 - 256 - 2  # open_clip reads lines 1 .. 48894 of the merges file


@lru_cache(maxsize=1)
def _bytes_to_unicode() -> dict[int, str]:
    """Map every byte to a printable character, so BPE never sees whitespace or controls."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


# Printable ASCII, tab and newline, no "&": text every step of ftfy.fix_text leaves as it is
# (mojibake, entities, ligatures, wide or curly characters, controls, \r all need something else)
_PLAIN = re.compile(r"[\t\n\x20-\x25\x27-\x7e]*")


def _clean(text: str) -> str:
    if not _PLAIN.fullmatch(text):  # importing ftfy is 0.1 s of a cold search, which plain text skips
        try:  # ftfy repairs mojibake; plain text passes unchanged, so the lean bundle may omit it
            import ftfy

            text = ftfy.fix_text(text)
        except ImportError:
            pass
    text = html.unescape(html.unescape(text)).strip()
    return " ".join(text.split()).strip().lower()


_WORDS = "|".join(SPECIAL) + r"""|'s|'t|'re|'ve|'m|'ll|'d|"""
# Cleaned ASCII text (most keywords) needs no Unicode classes: its letters (\p{L}) are
# [a-zA-Z], its numbers (\p{N}) [0-9], and its one whitespace is the space (``_clean``
# collapsed the rest), so ``re`` splits it exactly as open_clip's ``regex`` pattern does,
# and a cold search skips importing ``regex`` (0.02 s).
_ASCII_WORDS = re.compile(_WORDS + r"[a-zA-Z]+|[0-9]|[^\sa-zA-Z0-9]+", re.IGNORECASE)


@lru_cache(maxsize=1)
def _unicode_words() -> Callable[[str], list[str]]:
    import regex

    return regex.compile(_WORDS + r"[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", regex.IGNORECASE).findall


def words(cleaned: str) -> list[str]:
    """``cleaned`` (``_clean``'s output) split as open_clip splits it before BPE."""
    return _ASCII_WORDS.findall(cleaned) if cleaned.isascii() else _unicode_words()(cleaned)


CACHE_FORMAT = "vspectrum-bpe-merges 1"


def read_merges(vocab_path: Path, cache: bool = False) -> list[str]:
    """The merges open_clip reads (lines 1 .. ``N_MERGES`` of the gzipped vocabulary), each
    normalised to "first second" (one space).

    The file holds 262k lines, of which the tokeniser uses 49k: decompressing and splitting
    them all was most of the tokeniser's start in a cold search. So, with ``cache`` (a folder
    of the app's own, such as a model's export), the used lines are kept once, uncompressed,
    beside the file (``<vocab>.merges``, headed by the source's size and mtime); a cache that
    does not match its source is made again, one that cannot be written is done without."""
    path = Path(vocab_path)
    st = path.stat()
    header = f"{CACHE_FORMAT} {st.st_size} {st.st_mtime_ns} {N_MERGES}"
    saved = path.with_name(path.name + ".merges")
    if cache:
        try:
            first, _, rest = saved.read_text(encoding="utf-8").partition("\n")
            if first == header:
                return rest.split("\n")
        except (OSError, UnicodeDecodeError):
            pass
    lines = gzip.open(path).read().decode("utf-8").split("\n")[1 : N_MERGES + 1]
    merges = [" ".join(m.split()) for m in lines]  # what tuple(m.split()) made of a line before
    if cache:
        _save(saved, "\n".join([header, *merges]))
    return merges


def _save(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a read-only folder: the vocabulary is parsed each time
        tmp.unlink(missing_ok=True)


class ClipTokenizer:
    def __init__(self, vocab_path: Path, context_length: int = 77, cache: bool = False):
        # each merge as "first second": pairs looked up by that string (tokens hold no spaces)
        merges = read_merges(vocab_path, cache)
        byte_chars = list(_bytes_to_unicode().values())
        vocab = byte_chars + [c + "</w>" for c in byte_chars] + [m.replace(" ", "") for m in merges] + list(SPECIAL)
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.ranks = dict(zip(merges, range(len(merges))))
        self.sot, self.eot = self.encoder[SPECIAL[0]], self.encoder[SPECIAL[1]]
        self.context_length = context_length
        self._cache = {t: t for t in SPECIAL}

    def _bpe(self, token: str) -> str:
        if token in self._cache:
            return self._cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = {(a, b) for a, b in zip(word, word[1:])}
            best = min(pairs, key=lambda p: self.ranks.get(f"{p[0]} {p[1]}", float("inf")))
            if f"{best[0]} {best[1]}" not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):  # merge every occurrence of the best pair, left to right
                if i < len(word) - 1 and word[i] == best[0] and word[i + 1] == best[1]:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
        out = " ".join(word)
        self._cache[token] = out
        return out

    def encode(self, text: str) -> list[int]:
        byte_map = _bytes_to_unicode()
        ids: list[int] = []
        for token in words(_clean(text)):
            token = "".join(byte_map[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(token).split(" "))
        return ids

    def __call__(self, texts: str | list[str]) -> np.ndarray:
        """Token ids, shape (n, context_length): start, text, end, zero padding; truncated
        texts keep the end token last, as open_clip does."""
        if isinstance(texts, str):
            texts = [texts]
        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot, *self.encode(text), self.eot]
            if len(ids) > self.context_length:
                ids = ids[: self.context_length]
                ids[-1] = self.eot
            out[row, : len(ids)] = ids
        return out
