"""The rule language: pydantic models that refuse unknown keys (exported to rules/schema.json).

    id: rocket-attack
    title: Rocket, missile or drone attack
    severity: high
    tags: [attack]
    match:
      all:
        - any: [صاروخ, قذيفة, rocket, mortar]
        - any: [قاعدة, مطار, base, airport]
      none: [مناورات, exercise]
    places: [iraq]
    escalate: {window: 24h, threshold: 3, by: place, severity: critical}
    notify: [iraq-desk]
    cooldown: 1h

A term is a word or a phrase (several words in order); it is analysed like article text, so
one written form also matches its inflected and cliticised forms.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from rasd.durations import Duration
from rasd.models import ArticleField, Severity

# Words that stand for a kind of token rather than a word. One class for now: a year, which
# near a withdrawal or an attack word marks a recalled event ("since the 2021 withdrawal").
WORD_CLASSES = {"<year>": "a year in four digits, 1800 to 2099"}


def _has_a_word(term: str) -> str:
    from rasd.text import analyse

    for word in term.split():
        if word.startswith("<") and word.endswith(">") and word not in WORD_CLASSES:
            close = difflib.get_close_matches(word, WORD_CLASSES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(f"{k} ({v})" for k, v in WORD_CLASSES.items())
            raise ValueError(f"unknown word class {word!r}{hint} (known: {known})")
    if not analyse(term, as_term=True):
        raise ValueError(f"{term!r} has no letters or digits to match")
    return term


Term = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_has_a_word),
]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Veto(Strict):
    """Vetoes with their own reach, among a ``near``'s ``unless``: ``{terms: [<year>], within: 8}``
    is a year up to 8 tokens from the window, however far the other vetoes reach."""

    terms: tuple[Term, ...] = Field(min_length=1)
    within: int = Field(ge=0, le=50, description="How many tokens around the window it reaches.")


class Near(Strict):
    """Terms that must occur within ``within`` tokens of each other, in one field, and none of
    ``unless`` within ``unless_within`` tokens of them.

    Each entry is a term or a list of alternative terms. One entry alone is a term with a veto
    close to it: ``{terms: [[missile]], unless: [test, drill]}`` is a missile that is not one
    being tested, even when the article mentions a drill elsewhere (``none`` would veto that).
    An ``unless`` item may be a group with its own reach (``Veto``).
    """

    terms: tuple[Term | tuple[Term, ...], ...] = Field(min_length=1, max_length=8)
    within: int = Field(5, ge=1, le=50)
    unless: tuple[Term | Veto, ...] = Field(
        default=(), description="Vetoes: the window does not count when one is this close."
    )
    unless_within: int = Field(
        3, ge=0, le=50, description="How many tokens before or after the window a veto reaches."
    )

    @model_validator(mode="after")
    def _something_to_find(self) -> Near:
        if len(self.terms) == 1 and not self.unless:
            raise ValueError("'near' with one entry needs 'unless' (else write it in 'any')")
        return self


def _item_kind(value: Any) -> str:
    return "group" if isinstance(value, dict | Condition) else "term"


class Condition(Strict):
    """All of its keys must hold: ``all`` items, one of ``any``, none of ``none``, ``near``."""

    any: tuple[Item, ...] | None = Field(default=None, min_length=1)
    all: tuple[Item, ...] | None = Field(default=None, min_length=1)
    none: tuple[Item, ...] | None = Field(default=None, min_length=1)
    near: Near | None = None

    @model_validator(mode="after")
    def _needs_a_positive_part(self) -> Condition:
        if self.any is None and self.all is None and self.near is None:
            raise ValueError(
                "a condition needs 'any', 'all' or 'near' ('none' alone matches nothing)"
            )
        return self


Item = Annotated[
    Annotated[Term, Tag("term")] | Annotated[Condition, Tag("group")],
    Discriminator(_item_kind),
]
Condition.model_rebuild()


class Escalate(Strict):
    """Raise one alert of ``severity`` when ``threshold`` matches share a place in ``window``."""

    window: Duration
    threshold: int = Field(ge=2, le=10_000)
    by: Literal["place"] = "place"
    severity: Severity = Severity.critical


class RuleSpec(Strict):
    """One rule as written in YAML."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: str = ""
    enabled: bool = True
    severity: Severity = Severity.medium
    tags: tuple[Name, ...] = ()
    match: Condition
    fields: tuple[ArticleField, ...] = Field(default=("title", "summary"), min_length=1)
    lang: tuple[Name, ...] | None = Field(
        default=None, description="Only articles in these languages (ar, en, ...)."
    )
    outlets: tuple[str, ...] | None = Field(default=None, description="Only these outlets.")
    places: tuple[Name, ...] | None = Field(
        default=None,
        description="Only when one of these gazetteer places (or a place in it) is found.",
    )
    notify: tuple[Name, ...] = Field(default=(), description="Receiver names.")
    cooldown: Duration | None = None
    escalate: Escalate | None = None

    @field_validator("places")
    @classmethod
    def _known_places(cls, places: tuple[str, ...] | None) -> tuple[str, ...] | None:
        from rasd.rules.gazetteer import default_gazetteer

        known = default_gazetteer().ids
        for place in places or ():
            if place not in known:
                hint = difflib.get_close_matches(place, known, n=1)
                suffix = f"; did you mean {hint[0]!r}?" if hint else ""
                raise ValueError(f"unknown place {place!r}{suffix}")
        return places

    def content_hash(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


class Rule(RuleSpec):
    """A validated rule with where it came from and a stable hash of its content."""

    source: str = ""
    version: str = ""

    @classmethod
    def from_spec(cls, spec: RuleSpec, source: str) -> Rule:
        return cls.model_construct(**dict(spec), source=source, version=spec.content_hash())


def json_schema() -> dict[str, Any]:
    """The schema editors use for rule files (one rule, or a list of rules)."""
    one = RuleSpec.model_json_schema(ref_template="#/$defs/{model}")
    defs = one.pop("$defs", {})
    defs["Rule"] = one
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "rasd rule file",
        "oneOf": [
            {"$ref": "#/$defs/Rule"},
            {"type": "array", "items": {"$ref": "#/$defs/Rule"}, "minItems": 1},
        ],
        "$defs": defs,
    }
