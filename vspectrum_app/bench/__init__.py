"""The preference benchmark (paper Section 4): runs, answer parsing, scores, reports."""
