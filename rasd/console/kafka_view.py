"""What the console reads from Kafka: the last N articles, consumer lag and throughput.

kafka-python is synchronous; the app calls these functions in a worker thread. Each call opens
and closes its own short-lived client, so the console keeps no Kafka state between requests.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition
from pydantic import ValidationError

from rasd.connections import kafka_admin, kafka_consumer
from rasd.models import Article
from rasd.settings import Settings

log = logging.getLogger(__name__)

_TIMEOUT_MS = 10_000


def _consumer(settings: Settings) -> KafkaConsumer:
    return kafka_consumer(
        settings,
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=_TIMEOUT_MS + 1000,
        consumer_timeout_ms=1000,
    )


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


def last_articles(settings: Settings, n: int, timeout_s: float = 10.0) -> list[Article]:
    """The newest ``n`` articles on the articles topic, oldest first.

    Seeks every partition to ``end - n`` and reads to its end: the newest ``n`` records of the
    topic are among those. Of them the ``n`` newest by record time are kept (partitions are not
    ordered with respect to each other); records that are not articles are skipped.
    """
    topic = settings.topic("articles")
    consumer = _consumer(settings)
    try:
        partitions = _partitions(consumer, topic)
        if not partitions or n <= 0:
            return []
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        begins = consumer.beginning_offsets(partitions)
        remaining = {}
        for tp in partitions:
            start = max(begins[tp], ends[tp] - n)
            if start < ends[tp]:
                consumer.seek(tp, start)
                remaining[tp] = ends[tp]
        records = []
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            for tp, batch in consumer.poll(timeout_ms=500, max_records=1000).items():
                for record in batch:
                    if record.offset < remaining.get(tp, 0):
                        records.append(record)
                if tp in remaining and consumer.position(tp) >= remaining[tp]:
                    del remaining[tp]
    finally:
        consumer.close()
    records.sort(key=lambda r: (r.timestamp, r.partition, r.offset))
    articles = []
    for record in records[-n:]:
        try:
            articles.append(Article.model_validate_json(record.value))
        except (ValidationError, TypeError):
            log.debug("skipped an unreadable article at %s:%s", record.partition, record.offset)
    return articles


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    lag: int


def consumer_lag(settings: Settings) -> list[PartitionLag]:
    """Lag of every consumer group of this namespace, per topic partition."""
    prefix = settings.group("")
    # Before the match stage (rasd.streams.matching) faust's group read the articles. An upgraded
    # deployment keeps those offsets until the broker expires them (offsets.retention.minutes,
    # 7 days by default; neither client we use can delete them), and they would show as a lag
    # that only grows. The articles' lag is the match stage's group's.
    retired = (settings.group("streams"), settings.topic("articles"))
    admin = kafka_admin(settings, request_timeout_ms=_TIMEOUT_MS)
    consumer = _consumer(settings)
    try:
        groups = sorted(g for g, _ in admin.list_consumer_groups() if g.startswith(prefix))
        committed = {}
        for group in groups:
            for tp, meta in admin.list_consumer_group_offsets(group).items():
                if meta.offset >= 0 and (group, tp.topic) != retired:
                    committed[(group, tp)] = meta.offset
        ends = consumer.end_offsets(list({tp for _, tp in committed})) if committed else {}
    finally:
        consumer.close()
        admin.close()
    lags = []
    for (group, tp), offset in sorted(committed.items(), key=lambda i: (i[0][0], *i[0][1])):
        end = ends.get(tp, offset)
        lags.append(PartitionLag(group, tp.topic, tp.partition, offset, end, max(0, end - offset)))
    return lags


@dataclass(frozen=True)
class Throughput:
    topic: str
    last_5m: int
    last_1h: int
    total: int


def throughput(settings: Settings, names=("articles", "matches", "alerts")) -> list[Throughput]:
    """Records written to each topic in the last 5 minutes and hour, from offsets by time."""
    now_ms = int(time.time() * 1000)
    consumer = _consumer(settings)
    try:
        result = []
        for name in names:
            partitions = _partitions(consumer, settings.topic(name))
            ends = consumer.end_offsets(partitions)
            begins = consumer.beginning_offsets(partitions)
            counts = []
            for window_ms in (5 * 60_000, 3600_000):
                found = consumer.offsets_for_times({tp: now_ms - window_ms for tp in partitions})
                counts.append(
                    sum(ends[tp] - found[tp].offset for tp in partitions if found.get(tp))
                )
            total = sum(ends[tp] - begins[tp] for tp in partitions)
            result.append(Throughput(settings.topic(name), counts[0], counts[1], total))
        return result
    finally:
        consumer.close()
