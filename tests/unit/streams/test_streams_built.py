"""advance builds its Story, Window and Alert objects without validating their validated parts
again (stories._built): each must be the object pydantic builds from the same fields."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from rasd.codec import constructible, encode
from rasd.models import Alert, Match, Severity, StoryArticle, TermHit
from rasd.streams import stories
from rasd.streams.similarity import signature
from rasd.streams.stories import Candidate, Limits, RuleState, Window, advance

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
LIMITS = Limits(window=timedelta(hours=3), threshold=0.2, max_open=20, max_articles=3)
WORDS = [f"word{i:02d}" for i in range(40)]


@dataclass(frozen=True)
class Escalation:
    window: timedelta = timedelta(hours=1)
    threshold: int = 2
    severity: Severity = Severity.critical


@dataclass(frozen=True)
class Rule:
    id: str = "r"
    title: str = "A rule"
    escalate: Escalation | None = Escalation()
    notify: tuple[str, ...] = ("slack",)
    cooldown: timedelta | None = timedelta(minutes=10)


def stream(seed: int, n: int) -> list[Candidate]:
    rng = random.Random(seed)
    topics = [rng.sample(WORDS, 10) for _ in range(15)]
    out = []
    for i in range(n):
        words = rng.sample(rng.choice(topics), rng.randint(3, 8))
        terms = tuple(
            TermHit(term=w, field="title", start=0, end=len(w), text=w) for w in words[:2]
        )
        out.append(
            Candidate(
                match=Match(
                    article_id=f"a{i}",
                    rule_id="r",
                    rule_version="v1",
                    severity=rng.choice(list(Severity)),
                    places=rng.choice([("iraq",), ("iraq", "kirkuk"), ("syria",), ()]),
                    tags=tuple(rng.sample(["x", "y", "z"], rng.randint(0, 2))),
                    terms=terms,
                ),
                article=StoryArticle(
                    article_id=f"a{i}",
                    outlet=rng.choice("abc"),
                    title=rng.choice(["", f"title {i}"]),
                    lang=rng.choice(["ar", "en", None]),
                    summary=" ".join(words),
                ),
                seen_at=T0 + timedelta(minutes=7 * i),
                signature=signature(words),
                numbers=rng.sample(["12", "40"], rng.randint(0, 1)),
            )
        )
    return out


def validated(model: type[BaseModel], built: BaseModel) -> BaseModel:
    """What pydantic builds from the fields ``built`` says were given."""
    return model(**{name: built.__dict__[name] for name in built.__pydantic_fields_set__})


def assert_same(model: type[BaseModel], built: BaseModel) -> None:
    expected = validated(model, built)
    assert type(built) is model
    assert built == expected
    assert list(built.__dict__) == list(expected.__dict__)  # the field order, which JSON keeps
    assert {n: type(v) for n, v in built.__dict__.items()} == {
        n: type(v) for n, v in expected.__dict__.items()
    }
    assert built.__pydantic_fields_set__ == expected.__pydantic_fields_set__
    assert built.__pydantic_extra__ == expected.__pydantic_extra__
    assert built.__pydantic_private__ == expected.__pydantic_private__
    assert encode(built) == expected.model_dump_json().encode()


def test_every_object_advance_builds_is_the_one_pydantic_builds(monkeypatch):
    built_here = stories._built
    seen: dict[str, int] = {}

    def checked(model, values, given):
        built = built_here(model, values, given)
        assert_same(model, built)  # as built, before advance changes it
        kind = model.__name__ + (f" {built.kind}" if model is Alert else "")
        seen[kind] = seen.get(kind, 0) + 1
        return built

    monkeypatch.setattr(stories, "_built", checked)
    for rule in (Rule(), Rule(notify=(), cooldown=None), None):
        state = RuleState(rule_id="r")
        for c in stream(3, 120):
            state, revisions = advance(state, c, rule, LIMITS)
            for revision in revisions:  # and as returned, with the story's changes
                assert_same(Alert, revision.alert)
    assert set(seen) == {"Story", "Window", "Alert match", "Alert escalation"}
    assert min(seen.values()) > 10, seen


def test_a_model_with_a_validator_of_its_own_is_validated():
    class Checked(Window):
        @field_validator("place")
        @classmethod
        def lower(cls, value: str) -> str:
            return value.lower()

    assert not constructible(Checked)
    values = {"place": "IRAQ", "start": T0, "size": 60.0, "stories": [], "alerted": False}
    assert stories._built(Checked, values, frozenset({"place", "start", "size"})).place == "iraq"


def test_values_that_are_not_the_models_fields_in_order_are_validated():
    given = frozenset({"place", "start", "size"})
    reordered = {"start": T0, "place": "iraq", "size": 60.0, "stories": [], "alerted": False}
    built = stories._built(Window, reordered, given)
    assert list(built.__dict__) == list(Window.model_fields)  # pydantic's order
    missing = {"place": "iraq", "start": T0, "size": 60.0, "stories": []}
    assert list(stories._built(Window, missing, given).__dict__) == list(Window.model_fields)
    with pytest.raises(ValidationError):  # a value pydantic refuses is refused
        stories._built(Window, {**reordered, "size": "wide"}, given)


def test_a_negative_cooldown_is_refused_as_pydantic_refuses_it():
    candidate = stream(1, 1)[0]
    with pytest.raises(ValidationError):
        advance(RuleState(rule_id="r"), candidate, Rule(cooldown=timedelta(seconds=-5)), LIMITS)
