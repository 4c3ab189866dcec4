"""feeds.yaml validation: unknown keys refused, every error with file:line:column."""

from pathlib import Path

import pytest

from rasd.connectors.config import FeedsError, load_feeds, parse_feeds
from rasd.durations import parse_seconds as parse_duration

ROOT = Path(__file__).parents[3]


def test_shipped_feeds_file_is_valid_and_has_the_outlets():
    config = load_feeds(ROOT / "feeds.yaml")
    outlets = {f.outlet for f in config.feeds}
    for outlet in (
        "Al Jazeera",
        "Al Jazeera English",
        "BBC Arabic",
        "Sky News Arabia",
        "France 24 Arabic",
        "Asharq Al-Awsat",
        "Shafaq News",
        "Rudaw",
        "Alsumaria",
    ):
        assert outlet in outlets
    assert all(f.lang in ("ar", "en") for f in config.feeds)


def test_durations():
    assert parse_duration("5m") == 300 and parse_duration("250ms") == 0.25
    assert parse_duration(90) == 90 and parse_duration("1h") == 3600
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_every_error_is_reported_with_its_position():
    text = """\
poller:
  interval: 5m
  retries: 3
feeds:
  - name: bbc-ar
    outlet: BBC Arabic
    url: ftp://feeds.bbci.co.uk/arabic/rss.xml
    lang: ar
  - name: Rudaw Arabic
    outlet: Rudaw
    url: https://www.rudaw.net/arabic/rss
    interval: soon
"""
    with pytest.raises(FeedsError) as info:
        parse_feeds(text, "feeds.yaml")
    errors = {(e.line, e.column): e.message for e in info.value.errors}
    assert set(errors) == {(3, 3), (7, 10), (9, 11), (12, 15)}
    assert "retries" in errors[(3, 3)] and "Extra inputs" in errors[(3, 3)]
    assert "http" in errors[(7, 10)]
    assert str(info.value).splitlines()[0].startswith("feeds.yaml:3:3: poller.retries")


def test_duplicate_names_and_bad_yaml():
    dup = "feeds:\n  - {name: a, outlet: A, url: 'https://a/rss'}\n  - {name: a, outlet: B, url: 'https://b/rss'}\n"
    with pytest.raises(FeedsError, match=r"feeds.yaml:3:12: duplicate feed name 'a'"):
        parse_feeds(dup)
    with pytest.raises(FeedsError, match=r"feeds.yaml:3:1: invalid YAML"):
        parse_feeds("feeds:\n  - [unclosed\n")


def test_a_repeated_key_in_feeds_yaml_is_refused_with_its_position():
    text = "poller: {interval: 5m}\npoller: {interval: 1h}\nfeeds: []\n"
    with pytest.raises(FeedsError, match=r"^feeds.yaml:2:1: duplicate key 'poller'$"):
        parse_feeds(text)
