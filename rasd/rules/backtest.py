"""Try rules on the past: read the retained articles topic from a point in time and match.

The reader assigns every partition itself (no consumer group), so a backtest never takes
partitions from the workers or moves their committed offsets. Each partition is read from the
first offset at or after the start time (Kafka's time index) up to its end offset as it was when
the backtest began, so articles arriving meanwhile do not make it run forever.

>>> found = run_backtest(settings, rules, since_from(timedelta(days=7)))  # doctest: +SKIP
>>> found.as_dict()["per_day"]                                            # doctest: +SKIP
{'2026-11-30': {'draft-shelling': 3}}

Speed: the matcher is what a backtest spends its time on. The reader is aiokafka's consumer,
whose record batches are parsed and CRC-checked in C; an article then costs its share of one
zstd inflate per batch (about 3 µs for 2 KB of JSON, by python-zstandard: rasd.kafka_zstd; the
topic's older gzip batches about 10), aiokafka's record object (about 2 µs) and
:func:`rasd.codec.read_article` (about 5 µs: msgspec's parse, pydantic's validators for the
times; pydantic-core's ``validate_json``, which gives the same Articles, about 10): about 16 µs
in all by itself at load 3-5 (20 before these two), against about 50 µs for the kafka-python
reader it replaced (ARCHITECTURE.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError

from rasd.codec import read_article
from rasd.connections import aiokafka_consumer, check_kafka
from rasd.kafka_zstd import use_zstandard
from rasd.models import Article
from rasd.rules.evaluation import Label, Report, evaluate
from rasd.rules.matcher import Matcher
from rasd.rules.schema import Rule
from rasd.settings import Settings

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)

# A poll waits at most this long, so a cancelled backtest notices within it.
_POLL_MS = 250
_BATCH = 10_000
_FETCH_BYTES = 64 * 1024 * 1024
_PARTITION_FETCH_BYTES = 16 * 1024 * 1024
# Progress is reported (and cancellation looked at) every this many articles.
PROGRESS_EVERY = 250


class Cancelled(Exception):
    """The backtest was cancelled before it read its whole window."""


@dataclass(frozen=True, slots=True)
class Span:
    """Where a backtest reads: the records of each partition from ``start`` to ``end``.

    ``available`` counts the records in the window; ``total`` those read (fewer when a limit
    keeps only the newest)."""

    since: datetime
    total: int
    partitions: dict[int, tuple[int, int]]
    available: int = 0

    @property
    def limited(self) -> bool:
        return self.total < self.available


def newest(span: dict[int, tuple[int, int]], limit: int) -> dict[int, tuple[int, int]]:
    """The span cut to ``limit`` records, the newest of each partition, shared between the
    partitions in proportion to their records (largest remainders), since a partition's records
    are in time order but partitions are not in step."""
    sizes = {p: end - start for p, (start, end) in span.items()}
    total = sum(sizes.values())
    if total <= limit:
        return dict(span)
    quotas = {p: limit * size / total for p, size in sizes.items()}
    keep = {p: math.floor(q) for p, q in quotas.items()}
    by_remainder = sorted(quotas, key=lambda p: quotas[p] - keep[p], reverse=True)
    for p in by_remainder[: limit - sum(keep.values())]:
        keep[p] += 1
    return {p: (end - keep[p], end) for p, (_start, end) in span.items()}


def _retained_records(
    settings: Settings,
    since: datetime,
    on_span: Callable[[Span], None] | None,
    limit: int | None,
    cancel: threading.Event | None,
) -> Iterator[tuple[TopicPartition, list[tuple[int, bytes]]]]:
    """The (offset, value) of every record in the span, a partition's share of a fetch at a
    time (up to ``_BATCH`` records a fetch from all partitions together).

    aiokafka runs on an event loop of this generator's own, driven only while it fetches (never
    while the caller matches), so callers stay synchronous: the CLI, the console's threads,
    bench/backtest.py. The calling thread must not be running an event loop itself."""
    check_kafka(settings)  # a refused login or no broker: the reason at once, not a hang
    use_zstandard()  # the articles topic is zstd: every article's batch is inflated
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    consumer = None
    try:
        consumer, span, window = run(_open(settings, since, limit))
        if on_span is not None:
            on_span(
                Span(
                    since,
                    sum(e - s for s, e in span.values()),
                    {tp.partition: offsets for tp, offsets in span.items()},
                    available=sum(e - s for s, e in window.values()),
                )
            )
        remaining = [tp for tp, (start, end) in span.items() if start < end]
        while remaining:
            if cancel is not None and cancel.is_set():
                raise Cancelled
            fetched, remaining = run(_fetch(consumer, remaining, span))
            yield from fetched.items()
    finally:
        if consumer is not None:
            run(consumer.stop())
        loop.close()


async def _open(
    settings: Settings, since: datetime, limit: int | None
) -> tuple[AIOKafkaConsumer, dict[TopicPartition, tuple[int, int]], dict[int, tuple[int, int]]]:
    """A started consumer assigned every partition of the articles topic and placed at the
    start of the span; the span (cut to ``limit``) and the whole window, by partition."""
    from aiokafka import TopicPartition

    topic = settings.topic("articles")
    consumer = aiokafka_consumer(
        settings,
        group_id=None,
        enable_auto_commit=False,
        # Records the retention deleted while a backtest ran: go on from the oldest left.
        auto_offset_reset="earliest",
        max_poll_records=_BATCH,
        fetch_max_bytes=_FETCH_BYTES,
        max_partition_fetch_bytes=_PARTITION_FETCH_BYTES,
    )
    try:
        await consumer.start()
        # The consumer knows the partitions of the topics it tracks only; the metadata of all
        # topics (what `consumer.topics()` fetches and drops) has them, and asking for it does
        # not auto-create a missing topic as asking for the topic itself could.
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            raise LookupError(f"topic {topic} does not exist on {settings.kafka_servers}")
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.offsets_for_times(
            {tp: int(since.timestamp() * 1000) for tp in partitions}
        )
        window: dict[int, tuple[int, int]] = {}
        for tp in partitions:
            found = starts.get(tp)
            window[tp.partition] = (found.offset if found is not None else ends[tp], ends[tp])
        cut = newest(window, limit) if limit is not None else window
        span = {tp: cut[tp.partition] for tp in partitions}
        for tp, (start, _end) in span.items():
            consumer.seek(tp, start)
        consumer.pause(*(tp for tp, (start, end) in span.items() if start >= end))
    except BaseException:
        await consumer.stop()
        raise
    return consumer, span, window


async def _fetch(
    consumer: AIOKafkaConsumer,
    remaining: list[TopicPartition],
    span: dict[TopicPartition, tuple[int, int]],
) -> tuple[dict[TopicPartition, list[tuple[int, bytes]]], list[TopicPartition]]:
    """The (offset, value) of the next records of the partitions not read to their end yet,
    and those still not."""
    fetched = await consumer.getmany(*remaining, timeout_ms=_POLL_MS, max_records=_BATCH)
    # Only the values are kept, not aiokafka's record objects: a fetch's worth of those, alive
    # while it is matched, would be walked by every collection.
    values = {
        tp: [(r.offset, r.value) for r in records if r.offset < span[tp][1]]
        for tp, records in fetched.items()
    }
    del fetched
    done = [tp for tp in remaining if await consumer.position(tp) >= span[tp][1]]
    if done:
        # No more fetches for them: the fetcher would go on past the end meanwhile.
        consumer.pause(*done)
    return values, [tp for tp in remaining if tp not in done]


def retained_articles(
    settings: Settings,
    since: datetime,
    *,
    on_span: Callable[[Span], None] | None = None,
    limit: int | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Article]:
    """Articles on the articles topic whose record time is ``since`` or later, by partition.

    With ``limit``, only about the newest ``limit`` of them. Raises ``Cancelled`` once
    ``cancel`` is set, ``KafkaUnreachable`` when no broker answers or one refuses the login, and
    ``LookupError`` when there is no articles topic. A record that is not an Article is skipped.
    """
    # rasd.codec's reader: exactly decode_article's Articles, sooner for the connectors' JSON.
    # Each article is parsed as it is asked for, so that it dies young once matched.
    parse = read_article
    records = _retained_records(settings, since, on_span, limit, cancel)
    with contextlib.closing(records):
        for tp, values in records:
            for offset, value in values:
                try:
                    yield parse(value)
                except (ValidationError, TypeError, ValueError):
                    log.debug("skipped an unreadable record at %s:%s", tp, offset)


@dataclass(slots=True)
class Backtest:
    """What a backtest found: matches per rule and day, and the eval report with labels."""

    since: datetime
    articles: int = 0
    matched_articles: int = 0
    per_day: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    report: Report | None = None
    # Set when a limit kept only the newest articles of the window: how many it held.
    available: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "articles": self.articles,
            "available": self.available if self.available is not None else self.articles,
            "matched_articles": self.matched_articles,
            "per_day": {day: dict(counts) for day, counts in sorted(self.per_day.items())},
            "examples": {
                rule: [{"id": i, "title": t} for i, t in ex] for rule, ex in self.examples.items()
            },
            "evaluation": self.report.as_dict() if self.report is not None else None,
        }


def backtest(
    articles: Iterable[Article],
    matcher: Matcher,
    since: datetime,
    labels: dict[str, Label] | None = None,
    *,
    on_progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
    examples: int = 5,
) -> Backtest:
    """Match every article; count per rule and day (publication date, else fetch date).

    ``on_progress`` hears the count every ``PROGRESS_EVERY`` articles and at the end; ``cancel``
    is looked at as often and raises ``Cancelled`` once set."""
    result = Backtest(since=since)
    labelled: list[Article] = []
    per_day, shown_by_rule, match = result.per_day, result.examples, matcher.match
    count = matched = 0
    for article in articles:
        count += 1
        matches = match(article)
        if matches:
            matched += 1
            day = (article.published_at or article.fetched_at).astimezone(UTC).date().isoformat()
            counts = per_day[day]
            for m in matches:
                counts[m.rule_id] += 1
                shown = shown_by_rule[m.rule_id]
                if len(shown) < examples:
                    shown.append((article.id, article.title))
        if labels is not None and article.id in labels:
            labelled.append(article)
        if count % PROGRESS_EVERY == 0:
            if cancel is not None and cancel.is_set():
                raise Cancelled
            if on_progress is not None:
                on_progress(count)
    result.articles, result.matched_articles = count, matched
    if on_progress is not None:
        on_progress(count)
    if labels is not None:
        result.report = evaluate(labelled, labels, matcher)
    return result


def run_backtest(
    settings: Settings,
    rules: list[Rule],
    since: datetime,
    labels: dict[str, Label] | None = None,
    *,
    limit: int | None = None,
    on_span: Callable[[Span], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> Backtest:
    """``rules`` over the retained articles since ``since`` (the newest ``limit`` at most):
    what `rasd rules backtest`, the console and bench/backtest.py run."""
    spans: list[Span] = []

    def seen(span: Span) -> None:
        spans.append(span)
        if on_span is not None:
            on_span(span)

    reader = retained_articles(settings, since, on_span=seen, limit=limit, cancel=cancel)
    with contextlib.closing(reader):
        found = backtest(
            reader, Matcher(rules), since, labels, on_progress=on_progress, cancel=cancel
        )
    if spans and spans[0].limited:
        found.available = spans[0].available
    return found


def since_from(duration: timedelta, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - duration
