"""Answer 1 ("do you like ...?") to yes / no / refusal / unparsed / no_image (protocol.md section 3).

The rules are the app's one answer classifier, ``core.answer_classes`` (docs/benchmark.md,
"Answers and scores", lists them with an example each); the persona runs read their
decisions with the same function, so one text has one class everywhere.

``PARSER_VERSION`` is the classifier's version: each run records the version that classified
it, and ``vspectrum bench reclassify`` re-derives old runs' classes with the current rules.
The authors' prototype rule ("yes" anywhere, as a substring, is a yes) is ``paper_style``.
"""

from __future__ import annotations

from vspectrum_app.core.answer_classes import CLASSES, VERSION, classify, looks_like_no_image

PARSER_VERSION = VERSION
SCORED = ("yes", "no")
__all__ = ["CLASSES", "PARSER_VERSION", "SCORED", "classify_answer", "looks_like_no_image", "paper_style"]


def classify_answer(text: str | None, refused_by_api: bool = False) -> str:
    """The class of answer 1 (``core.answer_classes.classify``)."""
    return classify(text, refused_by_api)


def paper_style(text: str | None) -> str:
    """The authors' prototype rule: 'yes' anywhere in the answer is a yes, all else a no."""
    return "yes" if text and "yes" in text.lower() else "no"
