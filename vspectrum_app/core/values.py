"""Schwartz's ten basic human values, in the order the paper lists them."""

from __future__ import annotations

SCHWARTZ_VALUES: tuple[str, ...] = (
    "Self-Direction",
    "Universalism",
    "Benevolence",
    "Stimulation",
    "Power",
    "Achievement",
    "Hedonism",
    "Conformity",
    "Tradition",
    "Security",
)

DEFINITIONS: dict[str, str] = {
    "Self-Direction": "independent thought and action",
    "Universalism": "understanding, appreciation, and protection of all people and nature",
    "Benevolence": "caring for and helping others",
    "Stimulation": "excitement, novelty, and challenge in life",
    "Power": "social status, prestige, and control over people and resources",
    "Achievement": "personal success through demonstrating competence",
    "Hedonism": "pleasure and sensuous gratification",
    "Conformity": "restraint of actions that might upset others or violate social norms",
    "Tradition": "respect, commitment, and acceptance of cultural or religious customs",
    "Security": "safety, harmony, and stability of society and relationships",
}


def canonical_value(name: str) -> str:
    """'self direction', 'SELF-DIRECTION', 'selfdirection' -> 'Self-Direction'."""
    key = "".join(ch for ch in name.lower() if ch.isalpha())
    for value in SCHWARTZ_VALUES:
        if "".join(ch for ch in value.lower() if ch.isalpha()) == key:
            return value
    raise ValueError(f"unknown value {name!r}; expected one of: {', '.join(SCHWARTZ_VALUES)}")


# Schwartz's own two-letter codes, for an axis too narrow for the short names
VALUE_CODES = {
    "Self-Direction": "SD",
    "Universalism": "UN",
    "Benevolence": "BE",
    "Stimulation": "ST",
    "Power": "PO",
    "Achievement": "AC",
    "Hedonism": "HE",
    "Conformity": "CO",
    "Tradition": "TR",
    "Security": "SE",
}
