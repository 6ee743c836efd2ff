"""Kept for the modules that import the refusal test from here; the words, phrases and rules
now live in ``core.answer_classes`` (the one answer classifier)."""

from vspectrum_app.core.answer_classes import looks_like_refusal

__all__ = ["looks_like_refusal"]
