"""The articles topic's codec on the real Kafka: rasd creates the topic zstd and brings an older
one to it, the connectors' producer writes zstd itself, and the backtest's reader (aiokafka) and the
console's last articles (kafka-python) read a topic that holds both gzip batches from before
and zstd batches from after the upgrade. The worker's reader: tests/integration/streams."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from polling import poll
from topic_batches import articles_config, batch_codecs, make_topic_old, produce_gzip

from rasd.connections import async_redis_client
from rasd.connectors.sink import ArticleSink
from rasd.console.kafka_view import last_articles
from rasd.models import Article
from rasd.rules.backtest import retained_articles
from rasd.topics import ensure_topics

pytestmark = pytest.mark.integration


def articles(prefix: str, n: int) -> list[Article]:
    return [
        Article(id=f"{prefix}{i}", outlet="o", feed="f", lang="ar", title=f"قصف مدفعي {prefix} {i}")
        for i in range(n)
    ]


def test_the_articles_topic_is_created_zstd_and_an_older_one_brought_to_it(settings):
    retention = str(settings.articles_retention_days * 86_400_000)
    assert articles_config(settings, "compression.type") == "zstd"
    assert articles_config(settings, "retention.ms") == retention
    make_topic_old(settings, segment_ms="3600000")  # and an operator's setting of their own
    ensure_topics(settings)
    poll(
        lambda: articles_config(settings, "compression.type") == "zstd",
        timeout=15,
        what="the older topic brought to zstd",
    )
    assert articles_config(settings, "retention.ms") == retention
    assert articles_config(settings, "segment.ms") == "3600000"


async def test_gzip_from_before_and_zstd_from_the_connectors_are_both_read(settings):
    # A topic that leaves the codec to the producers, so that what is stored is what each sent:
    # the connectors' producer itself writes zstd, wherever the topic was created.
    make_topic_old(settings)
    before = articles("gzip-", 30)
    produce_gzip(settings, before)
    after = articles("zstd-", 30)
    redis = async_redis_client(settings)
    sink = ArticleSink(settings, redis, owner="test", seen_ttl=60)
    try:
        assert await sink.publish(after) == after
    finally:
        await sink.close()
        await redis.aclose()

    codecs = await asyncio.to_thread(batch_codecs, settings, "articles")
    assert set(codecs) == {"gzip", "zstd"}, codecs
    wanted = sorted(a.id for a in before + after)
    since = datetime.now(UTC) - timedelta(hours=1)

    # Both readers are synchronous, as their callers (the CLI, the console's threads) are.
    def backtest_ids() -> list[str]:
        return sorted(a.id for a in retained_articles(settings, since))

    def console_ids() -> list[str]:
        return sorted(a.id for a in last_articles(settings, len(wanted)))

    assert await asyncio.to_thread(backtest_ids) == wanted
    assert await asyncio.to_thread(console_ids) == wanted
