"""What the benches read out of a rule."""

from __future__ import annotations


def terms_of(rule) -> list[str]:
    """Every string of a rule's match condition (its terms, vetoes included), in order."""
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(rule.match.model_dump())
    return found
