"""Outside text (a file name, an address) shown so that nothing in it can pass for other text:
control and format characters (a newline that would start a forged ``error:`` line, a
right-to-left override that would show ``gpj.exe`` as ``exe.jpg``) written as ``\\uXXXX``."""

from __future__ import annotations

import unicodedata

_HIDDEN = ("Cc", "Cf", "Zl", "Zp")


def visible(text: str) -> str:
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN else ch for ch in text)
