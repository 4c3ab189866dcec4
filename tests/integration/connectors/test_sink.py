"""The sink against the real Kafka and Redis: claims, acknowledgements, failures."""

from __future__ import annotations

import asyncio

import pytest

from rasd.connections import async_redis_client
from rasd.connectors.sink import ArticleSink, ProduceError
from rasd.models import Article
from tests.integration.connectors.conftest import read_articles

pytestmark = pytest.mark.integration


def article(i: int, **fields) -> Article:
    return Article(
        id=f"a{i}", outlet="Desk", feed="desk", lang="ar", title=f"قصف على قاعدة {i}", **fields
    )


async def test_unacknowledged_articles_are_not_remembered(settings):
    client = async_redis_client(settings)
    sink = ArticleSink(settings, client, "one", seen_ttl=600)
    try:
        # Larger than the producer's max request size: Kafka never acknowledges it.
        huge = article(2, body="x" * 2_000_000)
        with pytest.raises(ProduceError, match="1 of 2"):
            await sink.publish([article(1), huge])
        assert await client.get(sink.seen_key("a1")) == "1"
        assert await client.ttl(sink.seen_key("a1")) > 500
        assert await client.get(sink.seen_key("a2")) is None
        # A later poll produces what failed, and only that.
        assert [a.id for a in await sink.publish([article(1), article(2)])] == ["a2"]
    finally:
        await sink.close()
        await client.aclose()
    assert sorted(key for key, _ in read_articles(settings)) == ["a1", "a2"]


async def test_two_sinks_racing_on_the_same_articles_produce_each_once(settings):
    client = async_redis_client(settings)
    sinks = [ArticleSink(settings, client, owner, seen_ttl=600) for owner in ("one", "two")]
    batch = [article(i) for i in range(50)]
    try:
        results = await asyncio.gather(*(sink.publish(batch) for sink in sinks))
    finally:
        for sink in sinks:
            await sink.close()
        await client.aclose()
    assert sum(len(r) for r in results) == 50
    keys = [key for key, _ in read_articles(settings)]
    assert sorted(keys) == sorted(a.id for a in batch)
