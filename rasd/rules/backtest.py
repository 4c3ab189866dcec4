"""Try rules on the past: read the retained articles topic from a point in time and match.

The reader assigns every partition itself (no consumer group), so a backtest never takes
partitions from the workers or moves their committed offsets. Each partition is read from the
first offset at or after the start time (Kafka's time index) up to its end offset as it was when
the backtest began, so articles arriving meanwhile do not make it run forever.

>>> found = run_backtest(settings, rules, since_from(timedelta(days=7)))  # doctest: +SKIP
>>> found.as_dict()["per_day"]                                            # doctest: +SKIP
{'2026-11-30': {'draft-shelling': 3}}

Speed: the matcher is what a backtest spends its time on. The reader's own cost per record is
one CRC check (C, from the ``crc32c`` package; kafka-python's pure-Python fallback cost more
than the matching), one gzip inflate per batch and one pydantic ``model_validate_json`` (faster
here than orjson plus building the model, measured in bench/backtest.py's development).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from rasd.connections import kafka_consumer
from rasd.models import Article
from rasd.rules.evaluation import Label, Report, evaluate
from rasd.rules.matcher import Matcher
from rasd.rules.schema import Rule
from rasd.settings import Settings

log = logging.getLogger(__name__)

# A poll waits at most this long, so a cancelled backtest notices within it.
_POLL_MS = 250
_BATCH = 10_000
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
    ``cancel`` is set."""
    from kafka import TopicPartition

    topic = settings.topic("articles")
    consumer = kafka_consumer(
        settings,
        group_id=None,
        enable_auto_commit=False,
        max_poll_records=_BATCH,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        receive_buffer_bytes=4 * 1024 * 1024,
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
        window: dict[int, tuple[int, int]] = {}
        for tp in partitions:
            found = starts.get(tp)
            window[tp.partition] = (found.offset if found is not None else ends[tp], ends[tp])
        span = newest(window, limit) if limit is not None else window
        for tp in partitions:
            consumer.seek(tp, span[tp.partition][0])
        if on_span is not None:
            on_span(
                Span(
                    since,
                    sum(e - s for s, e in span.values()),
                    span,
                    available=sum(e - s for s, e in window.values()),
                )
            )
        remaining = {tp for tp in partitions if span[tp.partition][0] < span[tp.partition][1]}
        consumer.pause(*(tp for tp in partitions if tp not in remaining))
        # pydantic-core's validator itself: one JSON parse straight into the model.
        parse = Article.__pydantic_validator__.validate_json
        while remaining:
            if cancel is not None and cancel.is_set():
                raise Cancelled
            for tp, records in consumer.poll(timeout_ms=_POLL_MS, max_records=_BATCH).items():
                end = span[tp.partition][1]
                for record in records:
                    if record.offset >= end:
                        break
                    try:
                        yield parse(record.value)
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
