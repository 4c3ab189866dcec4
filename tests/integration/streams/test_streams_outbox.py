"""The outbox on the real Redis: one entry per (key, revision), however often it is written."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from rasd.models import Alert, Severity
from rasd.streams.outbox import Outbox

pytestmark = pytest.mark.integration


def alert(revision_title: str) -> Alert:
    return Alert(
        key="story:withdrawal:a1",
        kind="match",
        severity=Severity.high,
        rule="withdrawal",
        title=revision_title,
    )


async def test_each_revision_is_written_once_and_the_state_follows_the_latest(settings):
    client = redis.asyncio.Redis.from_url(settings.redis_dsn, decode_responses=True)
    try:
        outbox = Outbox(client, settings)
        first, update = alert("first"), alert("update")
        results = await asyncio.gather(*(outbox.write(first, 0) for _ in range(5)))
        assert sorted(results) == [False] * 4 + [True]
        assert await outbox.write(update, 1) is True
        assert await outbox.write(update, 1) is False

        entries = await client.xrange(settings.key("outbox"))
        assert [(e["key"], e["revision"]) for _, e in entries] == [
            ("story:withdrawal:a1", "0"),
            ("story:withdrawal:a1", "1"),
        ]
        assert Alert.model_validate_json(entries[1][1]["alert"]) == update
        latest = await client.hget(settings.key("alerts"), first.key)
        assert Alert.model_validate_json(latest).title == "update"
        by_time = await client.zrange(settings.key("alerts", "by-time"), 0, -1, withscores=True)
        assert by_time == [(first.key, first.created_at.timestamp())]
        ttl = await client.ttl(settings.key("alert", first.key, "rev", "0"))
        assert 0 < ttl <= 7 * 86400
    finally:
        await client.aclose()
