"""Templates a user can edit (bench and persona prompts, the crawler's link template): one checker.

A template is Python ``str.format`` text, which is far more than a prompt needs: format
specs (``{traits:>300000000}`` pads to 300 MB), conversions and attribute or index access
(``{traits.__init__.__globals__}``) reach into the program. Only the documented field names
are allowed, bare; any other brace must be doubled. Prompts also have a size limit.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

MAX_PROMPT_CHARS = 20_000  # the paper's longest prompt (ISQ) is about 2,000 characters


class TemplateError(ValueError):
    """The template cannot be used; the message is one sentence for the user."""


def check_template(
    text: object,
    allowed: Iterable[str],
    required: Iterable[str] = (),
    max_chars: int = MAX_PROMPT_CHARS,
    what: str = "prompt",
) -> str:
    """``text`` if it is a usable template, else ``TemplateError`` naming the first problem
    (``what`` names the template in the message)."""
    allowed = tuple(allowed)
    if not isinstance(text, str):
        raise TemplateError(f"a {what} must be text, not {type(text).__name__}")
    if not text.strip():
        raise TemplateError(f"the {what} is empty")
    if len(text) > max_chars:
        raise TemplateError(f"the {what} has {len(text):,} characters; at most {max_chars:,} are allowed")
    hint = (
        f"use {', '.join('{' + a + '}' for a in allowed)} and double any other brace"
        if allowed
        else "double every brace ({{ and }})"
    )
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"the {what} cannot be filled in ({exc}): {hint}") from None
    used = set()
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            raise TemplateError(f"the {what} uses {{{name}}}, which is not a field: {hint}")
        if spec or conversion:
            raise TemplateError(
                f"the {what}'s {{{name}}} has a format spec or conversion "
                f"({'!' + conversion if conversion else ''}{':' + spec if spec else ''}): {hint}"
            )
        used.add(name)
    for name in required:
        if name not in used:
            raise TemplateError(f"the {what} must contain {{{name}}}")
    return text


def fill(text: str, allowed: Iterable[str], required: Iterable[str] = (), **values: object) -> str:
    """The template checked and filled in."""
    return check_template(text, allowed, required).format(**values)
