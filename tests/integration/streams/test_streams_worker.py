"""`rasd worker` processes on the real Kafka and Redis: alerts, dead letters, crash, scale-out."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from streams_harness import (
    WITHDRAWAL,
    group_members,
    loaded_rules,
    outbox,
    produce,
    read_topic,
    wait_group,
    wait_outbox,
)

from rasd.models import Article, Match

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "streams"
STARTUP = 60  # seconds a worker may take to start and be assigned its partitions


def seed_story() -> list[Article]:
    lines = (FIXTURES / "seed_story.jsonl").read_text(encoding="utf-8").splitlines()
    return [Article.model_validate_json(line) for line in lines]


def test_seed_story_among_unrelated_and_malformed_records(settings, rules_dir, workers):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    seed, *others = seed_story()
    workers()
    produce(settings, [seed])
    wait_outbox(settings, 1, STARTUP)
    malformed = [(b"bad-1", b"{not json"), (b"bad-2", json.dumps({"id": "x"}).encode())]
    produce(settings, [*others[:4], *malformed, *others[4:]])

    key = "story:troop-withdrawal:aj-kirkuk-handover"
    entries = wait_outbox(settings, 3, 20)
    assert [(k, rev) for k, rev, _ in entries] == [(key, 0), (key, 1), (key, 2)]
    first, *_, latest = [alert for _, _, alert in entries]
    assert first.kind == "match" and first.severity == "high" and first.rule == "troop-withdrawal"
    assert first.title == seed.title
    assert {"iraq", "kirkuk", "k1"} <= set(first.places)
    assert [a.article_id for a in first.articles] == ["aj-kirkuk-handover"]
    assert {a.outlet for a in latest.articles} == {"aljazeera", "skynewsarabia", "bbc"}
    assert latest.counts == {"articles": 3}
    assert any(t.text in seed.title for t in first.terms if t.field == "title")

    letters = [json.loads(r.value) for r in read_topic(settings, "dead-letters", 2)]
    assert sorted(d["raw"] for d in letters) == ['{"id": "x"}', "{not json"]
    assert all(d["topic"] == settings.topic("articles") and d["reason"] for d in letters)
    # Nothing else alerted, also not after the last record was processed.
    matches = [Match.model_validate_json(r.value) for r in read_topic(settings, "matches", 3)]
    assert sorted(m.article_id for m in matches) == sorted(
        ["aj-kirkuk-handover", "skynews-kirkuk-handover", "bbc-kirkuk-handover"]
    )
    assert len(outbox(settings)) == 3


def produce_slowly(settings, articles: list[Article], per_second: float = 100.0) -> None:
    """A steady stream, so that a worker can be killed in the middle of it."""
    step = 10
    for i in range(0, len(articles), step):
        started = time.monotonic()
        produce(settings, articles[i : i + step])
        time.sleep(max(0.0, step / per_second - (time.monotonic() - started)))


def wait_settled(settings, entries, quiet: float = 2.0):
    """The outbox once it stopped growing for ``quiet`` seconds (late duplicates would show)."""
    deadline = time.monotonic() + quiet
    while time.monotonic() < deadline:
        now = outbox(settings)
        if len(now) != len(entries):
            entries, deadline = now, time.monotonic() + quiet
        time.sleep(0.2)
    return entries


def story_stream(stories: int, reports: int) -> list[Article]:
    """Reports of distinct events: words shared within a story, hardly any across stories."""
    articles = []
    for r in range(reports):
        for s in range(stories):
            unique = " ".join(f"s{s}word{w}" for w in range(24))
            articles.append(
                Article(
                    id=f"story{s}-report{r}",
                    outlet=f"outlet{r}",
                    feed=f"feed{r}",
                    lang="en",
                    title=f"Troops withdraw from base {unique}",
                    summary=f"Report {r} of event {s}.",
                )
            )
    return articles


def assert_one_alert_per_story(entries, stories: int, reports: int) -> None:
    pairs = [(key, rev) for key, rev, _ in entries]
    assert len(pairs) == len(set(pairs)), f"duplicated alerts: {Counter(pairs).most_common(3)}"
    by_key: dict[str, list[int]] = {}
    for key, rev in pairs:
        by_key.setdefault(key, []).append(rev)
    assert len(by_key) == stories
    assert all(sorted(revs) == list(range(reports)) for revs in by_key.values()), by_key
    latest = {key: alert for key, rev, alert in entries if rev == reports - 1}
    for alert in latest.values():
        (event,) = {a.article_id.split("-")[0] for a in alert.articles}
        assert len(alert.articles) == reports, (event, alert.articles)


def test_kill_9_mid_stream_then_restart_loses_and_duplicates_nothing(settings, rules_dir, workers):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    stories, reports = 40, 3
    articles = story_stream(stories, reports)
    # Commit rarely, so that the restarted worker replays a lot of already-processed input.
    env = {"RASD_STREAMS_COMMIT_INTERVAL": "5"}
    first = workers(**env)
    produce(settings, articles[:stories])
    wait_outbox(settings, stories, STARTUP)

    producer = threading.Thread(target=produce_slowly, args=(settings, articles[stories:]))
    producer.start()
    try:
        wait_outbox(settings, stories + 10, 20)
        first.kill()
        workers(**env)
    finally:
        producer.join(timeout=30)
    entries = wait_outbox(settings, stories * reports, STARTUP)
    assert_one_alert_per_story(wait_settled(settings, entries), stories, reports)


def test_two_workers_share_the_partitions_and_match_every_article_once(
    settings, rules_dir, workers
):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    workers()
    workers()
    wait_group(settings, 2, STARTUP)
    stories, reports = 60, 2
    articles = story_stream(stories, reports)
    produce(settings, articles)

    entries = wait_settled(settings, wait_outbox(settings, stories * reports, 30))
    assert_one_alert_per_story(entries, stories, reports)
    matches = [
        Match.model_validate_json(r.value) for r in read_topic(settings, "matches", len(articles))
    ]
    assert Counter(m.article_id for m in matches) == Counter(a.id for a in articles)
    assert group_members(settings) == 2
    first, second = loaded_rules(settings)  # both workers use the same rule versions
    assert first == second and list(first) == ["troop-withdrawal"]
