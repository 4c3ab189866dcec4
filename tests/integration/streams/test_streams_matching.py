"""The match stage (rasd.streams.matching) in real `rasd worker` processes on the real Kafka.

Its contract: an article's offset is committed in the stage's group only once all its outputs
are in Kafka, so a crash or a rebalance replays and never skips; and an upgrade from the faust
agent starts where the agent's group stopped.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata
from streams_harness import (
    WITHDRAWAL,
    committed_without_state,
    produce,
    read_topic,
    wait_for,
    wait_group,
    wait_outbox,
)
from test_streams_worker import (
    STARTUP,
    assert_one_alert_per_story,
    produce_slowly,
    story_stream,
    wait_settled,
)

from rasd.connections import kafka_admin, kafka_consumer
from rasd.models import Match

pytestmark = pytest.mark.integration


def committed(settings, group: str) -> dict[int, int]:
    """The articles partitions' committed offsets of ``group`` (those it has one for)."""
    admin = kafka_admin(settings)
    try:
        offsets = admin.list_consumer_group_offsets(group)
    finally:
        admin.close()
    topic = settings.topic("articles")
    return {tp.partition: m.offset for tp, m in offsets.items() if tp.topic == topic}


def article_offsets(settings, expected: int) -> dict[str, tuple[int, int]]:
    """Article id -> (partition, offset) of every record of the articles topic."""
    records = read_topic(settings, "articles", expected)
    return {r.key.decode(): (r.partition, r.offset) for r in records}


def matched_ids(settings, expected: int, timeout: float = 10.0) -> Counter:
    records = read_topic(settings, "matches", expected, timeout=timeout)
    return Counter(Match.model_validate_json(r.value).article_id for r in records)


def test_an_upgrade_starts_where_the_faust_agents_group_stopped(settings, rules_dir, workers):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    old, new = (
        story_stream(10, 1),
        [a.model_copy(update={"id": f"new-{a.id}"}) for a in story_stream(5, 1)],
    )
    produce(settings, old, partition=0)
    # The old worker's faust group had processed partition 0 up to here.
    legacy = kafka_consumer(settings, group_id=settings.group("streams"), enable_auto_commit=False)
    try:
        tp = TopicPartition(settings.topic("articles"), 0)
        legacy.assign([tp])
        legacy.commit({tp: OffsetAndMetadata(len(old), None, -1)})
    finally:
        legacy.close()
    produce(settings, new, partition=0)

    workers()
    wait_for(
        lambda: committed(settings, settings.group("match")).get(0) == len(old) + len(new),
        STARTUP,
        "the match group's commit of partition 0",
    )
    # Partition 0's records are handled in offset order: the old ones would have come first.
    assert set(matched_ids(settings, len(new))) == {a.id for a in new}
    assert len(wait_outbox(settings, len(new), 10)) == len(new)


def assert_nothing_lost_or_repeated(entries, articles) -> None:
    """No alert revision twice in the outbox, and every article in an alert."""
    pairs = [(key, rev) for key, rev, _ in entries]
    assert len(pairs) == len(set(pairs)), f"duplicated alerts: {Counter(pairs).most_common(3)}"
    alerted = {a.article_id for _, _, alert in entries for a in alert.articles}
    assert alerted == {a.id for a in articles}


def test_kill_9_mid_batch_then_restart_loses_and_duplicates_nothing(settings, rules_dir, workers):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    stories, reports = 100, 3
    articles = story_stream(stories, reports)
    # Small batches, so that the kill lands between a batch's sends and its commit.
    env = {"RASD_STREAMS_BATCH_MAX": "7"}
    produce(settings, articles)
    first = workers(**env)
    group = settings.group("match")
    done = wait_for(
        lambda: sum(committed(settings, group).values()),
        STARTUP,
        "the match stage's first commit",
        interval=0.02,
    )
    first.kill()
    assert done < len(articles), "the worker had matched the whole backlog before the kill"
    # What the restart recovers from: every candidate committed has its story in the state.
    assert not committed_without_state(settings)
    workers(**env)
    wait_for(
        lambda: sum(committed(settings, group).values()) == len(articles),
        STARTUP,
        "the match stage's commits up to the end",
    )
    entries = wait_settled(settings, wait_outbox(settings, stories * reports, STARTUP))
    assert_nothing_lost_or_repeated(entries, articles)
    keys: dict[str, set[str]] = {}
    for key, _, alert in entries:
        for a in alert.articles:
            keys.setdefault(a.article_id.split("-")[0], set()).add(key)
    split = {event: sorted(k) for event, k in keys.items() if len(k) > 1}
    assert not split, f"{len(split)} events split: {sorted(split.items())[:3]}"
    assert_one_alert_per_story(entries, stories, reports)
    assert set(matched_ids(settings, len(articles))) == {a.id for a in articles}


class CommitSampler(threading.Thread):
    """Checks, while the workers run, that every article below the match group's committed
    offsets already has its Match on the topic (the stage commits only what it delivered)."""

    def __init__(self, settings):
        super().__init__(daemon=True)
        self.settings = settings
        self.stop = threading.Event()
        self.violations: list[tuple[str, int, int]] = []
        self.checked = 0

    def run(self) -> None:
        def reader(name: str):
            return kafka_consumer(
                self.settings,
                self.settings.topic(name),
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                group_id=None,
                consumer_timeout_ms=200,
            )

        articles, matches = reader("articles"), reader("matches")
        offsets: dict[str, tuple[int, int]] = {}
        seen: set[str] = set()
        try:
            while not self.stop.is_set():
                # The commits first: whatever they cover must be on the matches topic by now.
                marks = committed(self.settings, self.settings.group("match"))
                offsets.update({r.key.decode(): (r.partition, r.offset) for r in articles})
                seen.update(Match.model_validate_json(r.value).article_id for r in matches)
                for article_id, (partition, offset) in offsets.items():
                    if offset < marks.get(partition, 0):
                        self.checked += 1
                        if article_id not in seen:
                            self.violations.append((article_id, partition, offset))
        finally:
            articles.close()
            matches.close()


def test_a_rebalance_to_a_second_worker_commits_nothing_unprocessed(settings, rules_dir, workers):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    stories, reports = 60, 4
    articles = story_stream(stories, reports)
    workers()
    produce(settings, articles[:stories])
    wait_outbox(settings, stories, STARTUP)
    sampler = CommitSampler(settings)
    sampler.start()
    producer = threading.Thread(
        target=produce_slowly, args=(settings, articles[stories:], 40.0), daemon=True
    )
    producer.start()
    try:
        wait_outbox(settings, stories + 20, 20)
        workers()  # the match group and faust's group both hand partitions over
        wait_group(settings, 2, STARTUP)
        entries = wait_outbox(settings, stories * reports, STARTUP)
        assert_one_alert_per_story(wait_settled(settings, entries), stories, reports)
    finally:
        producer.join(timeout=60)
        sampler.stop.set()
        sampler.join(timeout=30)
    assert sampler.checked > 0 and not sampler.violations, sampler.violations[:5]
    assert set(matched_ids(settings, len(articles))) == {a.id for a in articles}
    ends = Counter(partition for partition, _ in article_offsets(settings, len(articles)).values())
    wait_for(
        lambda: committed(settings, settings.group("match")) == dict(ends),
        20,
        "the match group committed every partition to its end",
    )
