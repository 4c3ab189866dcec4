"""One event reported in Arabic and English is one story in a real worker, and counts once."""

from __future__ import annotations

import json

import pytest
from streams_harness import all_records, outbox, produce, wait_for, wait_outbox

from rasd.codec import encode
from rasd.connections import kafka_producer, redis_client
from rasd.keys import RedisKeys
from rasd.rules import Matcher, parse_rules
from rasd.streams.app import candidates_topic
from rasd.streams.state import SEPARATOR, StateStore, story_key
from rasd.streams.stories import Candidate
from rasd.topics import ensure_topics
from tests.unit.streams.test_streams_grouping import (
    K1_AR,
    K1_EN,
    QAYYARAH_AR,
    QAYYARAH_EN,
    article,
)

pytestmark = pytest.mark.integration

HANDOVERS = """\
id: base-handover
title: Handover of a base
severity: high
match:
  near:
    terms: [[تسليم, يسلم, handover, hands over, handed over], [قاعدة, base]]
    within: 6
escalate: {window: 7d, threshold: 3, by: place, severity: critical}
"""
TAJI_AR = ("التحالف يسلم قاعدة التاجي للقوات العراقية", "تسليم قاعدة التاجي شمال بغداد اليوم.")


def handover_reports() -> list:
    """Two handovers, each reported in Arabic and in English, in the order they come."""
    return [
        article("aj-k1", K1_AR, "ar", "aljazeera"),
        article("bbc-k1", K1_EN, "en", "bbc", 20),
        article("bbc-qay", QAYYARAH_EN, "en", "bbc", 90),
        article("sky-qay", QAYYARAH_AR, "ar", "skynews", 100),
    ]


def stories(settings) -> dict[str, set[str]]:
    """Story alert key -> the ids of the reports its latest revision lists."""
    latest = {}
    for key, _, alert in outbox(settings):
        if alert.kind == "match":
            latest[key] = {a.article_id for a in alert.articles}
    return latest


def test_two_handovers_in_two_languages_are_two_stories_and_a_third_escalates(
    settings, rules_dir, workers
):
    (rules_dir / "handovers.yaml").write_text(HANDOVERS, encoding="utf-8")
    workers()
    reports = handover_reports()
    # One partition, so the worker sees the reports in this order.
    produce(settings, reports, partition=0)
    wait_outbox(settings, 4, 90)
    assert stories(settings) == {
        "story:base-handover:aj-k1": {"aj-k1", "bbc-k1"},
        "story:base-handover:bbc-qay": {"bbc-qay", "sky-qay"},
    }
    assert [a.kind for _, _, a in outbox(settings)] == ["match"] * 4

    produce(settings, [article("aj-taji", TAJI_AR, "ar", "aljazeera", 180)], partition=0)
    (escalation,) = wait_for(
        lambda: [a for _, _, a in outbox(settings) if a.kind == "escalation"],
        60,
        "the escalation",
        context=lambda: [(k, r) for k, r, _ in outbox(settings)],
    )
    assert escalation.counts["iraq"] == 3
    assert {a.article_id for a in escalation.articles} == {"aj-k1", "bbc-qay", "aj-taji"}


def test_candidate_records_of_before_in_the_topic_are_grouped_with_the_new_ones(
    settings, rules_dir, workers
):
    """An upgrade meets the records of the workers before (one Candidate each) in the topic:
    they are grouped, in their order, and the new form's records after them join their stories."""
    (rules_dir / "handovers.yaml").write_text(HANDOVERS, encoding="utf-8")
    reports = handover_reports()
    matcher = Matcher(parse_rules(HANDOVERS, "handovers.yaml").rules)
    ensure_topics(settings, extra=[candidates_topic(settings)])
    producer = kafka_producer(settings, acks="all")
    try:
        for report in reports[:3]:
            (match,) = matcher.match(report)
            value = encode(Candidate.from_match(match, report))  # a Candidate object, no array
            producer.send(candidates_topic(settings), key=match.rule_id.encode(), value=value)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)
    workers()
    wait_outbox(settings, 3, 90)
    produce(settings, reports[3:], partition=0)
    wait_outbox(settings, 4, 60)
    assert stories(settings) == {
        "story:base-handover:aj-k1": {"aj-k1", "bbc-k1"},
        "story:base-handover:bbc-qay": {"bbc-qay", "sky-qay"},
    }
    assert [(key, revision) for key, revision, _ in outbox(settings)] == [
        ("story:base-handover:aj-k1", 0),
        ("story:base-handover:aj-k1", 1),
        ("story:base-handover:bbc-qay", 0),
        ("story:base-handover:bbc-qay", 1),
    ]


def test_the_changelog_holds_each_story_once_at_its_latest_revision(settings, rules_dir, workers):
    """The table sends its writes itself (ChangelogTable.delivered): what a worker recovers is
    the head and each story's latest revision, the revisions before deleted by tombstones; and
    the outbox's marks of a batch come with the next batch."""
    (rules_dir / "handovers.yaml").write_text(HANDOVERS, encoding="utf-8")
    workers()
    reports = handover_reports()
    for n, report in enumerate(reports, 1):
        # One at a time: each revision is written to the table, and the one before deleted.
        produce(settings, [report], partition=0)
        wait_outbox(settings, n, 90)
    head = "base-handover"
    stories_at = {
        story_key(head, "aj-k1", 1): {"aj-k1", "bbc-k1"},
        story_key(head, "bbc-qay", 1): {"bbc-qay", "sky-qay"},
    }

    def recovered() -> dict[str, bytes]:
        table: dict[str, bytes] = {}
        changelog = f"{settings.group('streams')}-rule-state-changelog"
        for record in all_records(settings, changelog):
            key = json.loads(record.key)  # faust's JSON key serializer, as faust wrote it
            if record.value is None:
                table.pop(key, None)
            else:
                table[key] = record.value
        return {k: v for k, v in table.items() if k.split(SEPARATOR)[0] == head}

    table = wait_for(
        lambda: (t := recovered()) and set(t) == {head, *stories_at} and t,
        60,
        "the changelog at the stories' latest revisions",
        context=lambda: sorted(recovered()),
    )
    state = StateStore(table).get(head)
    assert {story_key(head, s.id, s.revision): set(s.article_ids) for s in state.stories} == (
        stories_at
    )
    # The outbox learns that a batch's alerts are on the topic with the next batch's writes:
    # the last one's claim still says so only after another batch.
    client = redis_client(settings)
    try:
        claims = [
            client.get(RedisKeys(settings).alert_claim(key, revision))
            for key, revision, _ in outbox(settings)
        ]
    finally:
        client.close()
    assert claims == ["published"] * 3 + ["unpublished"]
