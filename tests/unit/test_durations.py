"""The one duration grammar (rasd.durations), as rules, receivers and feeds read it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rasd.connectors.config import parse_feeds
from rasd.durations import format_duration, parse_duration
from rasd.rules.loader import parse_rules


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("250ms", 0.25),
        ("2d", 172800),
        ("1w", 604800),
        ("90", 90),
        (" 5m ", 300),
        (45, 45),
        (1.5, 1.5),
    ],
)
def test_durations_people_write(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["soon", "1h30", "m5", "-5m", "5 minutes", "", True, -1])
def test_a_bad_duration_says_what_is_accepted(text):
    with pytest.raises(ValueError, match="such as 500ms, 30s, 5m, 1h30m"):
        parse_duration(text)


def test_formatting_reads_back():
    for seconds in (0.25, 1, 90, 5400, 86400 + 61):
        value = timedelta(seconds=seconds)
        assert parse_duration(format_duration(value)) == value


def test_1h30m_is_valid_in_a_rule_and_in_feeds_yaml():
    rule = "id: x\ntitle: X\nmatch: {any: [rocket]}\nescalate: {threshold: 2, window: 1h30m}\n"
    result = parse_rules(rule, "x.yaml")
    assert result.ok, result.errors
    feeds = parse_feeds("poller: {interval: 1h30m}\nfeeds: []\n")
    assert feeds.poller.interval == 5400
