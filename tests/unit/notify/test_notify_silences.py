"""Silence matchers and states (the store is tested against Redis in integration)."""

from datetime import timedelta

import pytest
from notify_samples import CREATED, arabic_alert
from pydantic import ValidationError

from rasd.notify.silences import Silence, SilenceMatcher, silenced_by

M = SilenceMatcher.parse


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        ("rule=rocket-attack", True),
        ("rule!=rocket-attack", False),
        ("places=iraq", True),
        ("places!=syria", True),
        ("tags=~att.*", True),
        ("tags=~att", False),  # a regex matches the whole value
        ("title=~.*عين الأسد.*", True),
        ("severity!~(low|info)", True),
        ("key = rocket-attack:story-1", True),
    ],
)
def test_matchers(matcher, expected):
    assert M(matcher).matches(arabic_alert()) is expected


def test_bad_matchers_are_refused():
    for text in ("rule", "colour=red", "title=~(unclosed"):
        with pytest.raises(ValueError):
            M(text)


def silence(**changes):
    fields = dict(
        matchers=(M("rule=rocket-attack"), M("places=iraq")),
        starts_at=CREATED,
        ends_at=CREATED + timedelta(hours=1),
        comment="exercise at the base",
        author="sara",
    )
    fields.update(changes)
    return Silence(**fields)


def test_states_and_silenced_by():
    s = silence()
    assert s.state(CREATED - timedelta(seconds=1)) == "pending"
    assert s.state(CREATED) == "active"
    assert s.state(CREATED + timedelta(hours=1)) == "expired"
    assert silenced_by(arabic_alert(), [s], CREATED + timedelta(minutes=5)) == s
    assert silenced_by(arabic_alert(places=("syria",)), [s], CREATED) is None
    assert silenced_by(arabic_alert(), [s], CREATED + timedelta(hours=2)) is None


def test_a_silence_needs_matchers_an_end_not_before_its_start_and_a_reason():
    with pytest.raises(ValidationError):
        silence(matchers=())
    with pytest.raises(ValidationError):
        silence(ends_at=CREATED - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        silence(comment="")
