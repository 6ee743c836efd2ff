"""Agreement statistics for annotators: the code lives in ``core.agreement``, shared with the
benchmark's prompt-wording robustness (wordings as raters)."""

from vspectrum_app.core.agreement import category_counts, fleiss_kappa, krippendorff_alpha_nominal

__all__ = ["category_counts", "fleiss_kappa", "krippendorff_alpha_nominal"]
