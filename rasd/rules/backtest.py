"""Try rules on the past: read the retained articles topic from a point in time and match.

The reader assigns every partition itself (no consumer group), so a backtest never takes
partitions from the workers or moves their committed offsets. Each partition is read from the
first offset at or after the start time (Kafka's time index) up to its end offset as it was when
the backtest began, so articles arriving meanwhile do not make it run forever.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from rasd.connections import kafka_consumer
from rasd.models import Article
from rasd.rules.evaluation import Label, Report, evaluate
from rasd.rules.matcher import Matcher
from rasd.settings import Settings

log = logging.getLogger(__name__)

_POLL_MS = 500
_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class Span:
    """Where a backtest reads: the records of each partition from ``start`` to ``end``."""

    since: datetime
    total: int
    partitions: dict[int, tuple[int, int]]


def retained_articles(
    settings: Settings, since: datetime, *, on_span: Callable[[Span], None] | None = None
) -> Iterator[Article]:
    """Articles on the articles topic whose record time is ``since`` or later, by partition."""
    from kafka import TopicPartition

    topic = settings.topic("articles")
    consumer = kafka_consumer(
        settings,
        group_id=None,
        enable_auto_commit=False,
        max_poll_records=_BATCH,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            raise LookupError(f"topic {topic} does not exist on {settings.kafka_servers}")
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.offsets_for_times(
            {tp: int(since.timestamp() * 1000) for tp in partitions}
        )
        span: dict[int, tuple[int, int]] = {}
        for tp in partitions:
            found = starts.get(tp)
            start = found.offset if found is not None else ends[tp]
            span[tp.partition] = (start, ends[tp])
            consumer.seek(tp, start)
        if on_span is not None:
            on_span(Span(since, sum(e - s for s, e in span.values()), span))
        remaining = {tp for tp in partitions if span[tp.partition][0] < span[tp.partition][1]}
        consumer.pause(*(tp for tp in partitions if tp not in remaining))
        while remaining:
            for tp, records in consumer.poll(timeout_ms=_POLL_MS, max_records=_BATCH).items():
                end = span[tp.partition][1]
                for record in records:
                    if record.offset >= end:
                        break
                    try:
                        yield Article.model_validate_json(record.value)
                    except (ValidationError, TypeError, ValueError):
                        log.debug("skipped an unreadable record at %s:%s", tp, record.offset)
                if consumer.position(tp) >= end:
                    remaining.discard(tp)
                    consumer.pause(tp)
    finally:
        consumer.close()


@dataclass(slots=True)
class Backtest:
    """What a backtest found: matches per rule and day, and the eval report with labels."""

    since: datetime
    articles: int = 0
    matched_articles: int = 0
    per_day: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    report: Report | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "articles": self.articles,
            "matched_articles": self.matched_articles,
            "per_day": {day: dict(counts) for day, counts in sorted(self.per_day.items())},
            "examples": {
                rule: [{"id": i, "title": t} for i, t in ex] for rule, ex in self.examples.items()
            },
            "evaluation": self.report.as_dict() if self.report is not None else None,
        }


def backtest(
    articles: Iterator[Article],
    matcher: Matcher,
    since: datetime,
    labels: dict[str, Label] | None = None,
    *,
    on_article: Callable[[int], None] | None = None,
    examples: int = 5,
) -> Backtest:
    """Match every article; count per rule and day (publication date, else fetch date)."""
    result = Backtest(since=since)
    labelled: list[Article] = []
    for article in articles:
        result.articles += 1
        matches = matcher.match(article)
        if matches:
            result.matched_articles += 1
            day = (article.published_at or article.fetched_at).astimezone(UTC).date().isoformat()
            for match in matches:
                result.per_day[day][match.rule_id] += 1
                shown = result.examples[match.rule_id]
                if len(shown) < examples:
                    shown.append((article.id, article.title))
        if labels is not None and article.id in labels:
            labelled.append(article)
        if on_article is not None:
            on_article(result.articles)
    if labels is not None:
        result.report = evaluate(labelled, labels, matcher)
    return result


def since_from(duration: timedelta, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - duration
