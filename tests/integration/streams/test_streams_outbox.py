"""The outbox on the real Redis: one entry per (key, revision), however often it is written."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from rasd.connections import async_redis_client
from rasd.keys import RedisKeys
from rasd.models import Alert, Severity
from rasd.outbox import Outbox, Written

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
    client = async_redis_client(settings)
    try:
        outbox = Outbox(client, settings)
        first, update = alert("first"), alert("update")
        results = await asyncio.gather(*(outbox.write(first, 0) for _ in range(5)))
        assert sorted(results) == [Written.NEW] + [Written.UNPUBLISHED] * 4
        await outbox.published(first, 0)
        assert await outbox.write(update, 1) is Written.NEW
        await outbox.published(update, 1)
        assert await outbox.write(update, 1) is Written.PRESENT

        entries = await client.xrange(RedisKeys(settings).outbox)
        assert [(e["key"], e["revision"]) for _, e in entries] == [
            ("story:withdrawal:a1", "0"),
            ("story:withdrawal:a1", "1"),
        ]
        assert Alert.model_validate_json(entries[1][1]["alert"]) == update
        latest = await client.hget(RedisKeys(settings).alerts, first.key)
        assert Alert.model_validate_json(latest).title == "update"
        by_time = await client.zrange(RedisKeys(settings).alerts_by_time, 0, -1, withscores=True)
        assert by_time == [(first.key, first.created_at.timestamp())]
        ttl = await client.ttl(RedisKeys(settings).alert_claim(first.key, 0))
        assert 0 < ttl <= 7 * 86400
    finally:
        await client.aclose()


async def test_a_revision_not_confirmed_on_the_topic_is_published_again_but_written_once(settings):
    """A worker that died between the outbox write and the topic produce: the replay is told
    to publish, and adds nothing to the outbox."""
    client = async_redis_client(settings)
    try:
        outbox = Outbox(client, settings)
        first = alert("first")
        assert await outbox.write(first, 0) is Written.NEW
        replayed = await outbox.write(first, 0)
        assert replayed is Written.UNPUBLISHED and replayed.publish
        await outbox.published(first, 0)
        again = await outbox.write(first, 0)
        assert again is Written.PRESENT and not again.publish
        assert await client.xlen(RedisKeys(settings).outbox) == 1
    finally:
        await client.aclose()


async def test_a_batch_of_revisions_is_written_in_one_go_as_each_would_be_alone(settings):
    """The stories agent writes a batch's revisions in one round trip: in order, each told
    apart (new, written before, not yet on the topic), and confirmed on the topic together."""
    client = async_redis_client(settings)
    try:
        outbox = Outbox(client, settings)
        first, update = alert("first"), alert("update")
        other = alert("other").model_copy(update={"key": "story:withdrawal:b1"})
        assert await outbox.write(first, 0) is Written.NEW
        await outbox.published(first, 0)
        assert await outbox.write(other, 0) is Written.NEW  # not confirmed on the topic
        written = await outbox.write_many([(first, 0), (update, 1), (other, 0)])
        assert written == [Written.PRESENT, Written.NEW, Written.UNPUBLISHED]
        await outbox.published_many([(update, 1), (other, 0)])
        assert await outbox.write_many([(update, 1), (other, 0)]) == [Written.PRESENT] * 2
        assert await outbox.write_many([]) == []

        entries = await client.xrange(RedisKeys(settings).outbox)
        assert [(e["key"], e["revision"]) for _, e in entries] == [
            ("story:withdrawal:a1", "0"),
            ("story:withdrawal:b1", "0"),
            ("story:withdrawal:a1", "1"),
        ]
        latest = await client.hget(RedisKeys(settings).alerts, first.key)
        assert Alert.model_validate_json(latest).title == "update"
    finally:
        await client.aclose()


async def test_a_dead_letter_retry_is_queued_once_and_leaves_the_alert_state(settings):
    client = async_redis_client(settings)
    try:
        outbox = Outbox(client, settings)
        first, update = alert("first"), alert("update")
        await outbox.write(first, 0)
        await outbox.write(update, 1)
        assert await outbox.retry("1700000000000-0", [first]) == 1
        assert await outbox.retry("1700000000000-0", [first]) == 0  # a second click
        assert await outbox.retry("1700000000001-0", [first]) == 1  # another dead letter

        entries = await outbox.follow("0-0", block_ms=100)
        assert [(e.revision, e.alert.title) for e in entries] == [
            (0, "first"),
            (1, "update"),
            (0, "first"),
            (0, "first"),
        ]
        assert [a.title for a in await outbox.alerts([first.key])] == ["update"]
    finally:
        await client.aclose()


async def test_a_batch_takes_one_round_trip_with_the_marks_of_the_batch_before(settings):
    """The stories agent marks its previous batch's revisions as on the topic in the same
    call as the next batch's writes: one script call a batch, without the SCRIPT EXISTS that
    redis-py's pipelines send before their scripts (a second round trip)."""
    client = async_redis_client(settings)
    try:
        outbox = Outbox(client, settings)
        first, update = alert("first"), alert("update")
        other = alert("other").model_copy(update={"key": "story:withdrawal:b1"})
        await client.config_resetstat()
        assert await outbox.write_many([(first, 0), (other, 0)]) == [Written.NEW] * 2
        # The batch after: its write, with the marks of the one before.
        written = await outbox.write_many([(update, 1)], published=[(first, 0), (other, 0)])
        assert written == [Written.NEW]
        assert await outbox.write_many([(first, 0), (other, 0)]) == [Written.PRESENT] * 2
        assert await outbox.write_many([(update, 1)]) == [Written.UNPUBLISHED]
        assert await outbox.write_many([], published=[(update, 1)]) == []
        assert await outbox.write(update, 1) is Written.PRESENT
        stats = await client.info("commandstats")
        assert "cmdstat_script|exists" not in stats and "cmdstat_script" not in stats
        # One script call per write_many and write (6), and the outbox's first trim; a first
        # EVALSHA of a script Redis does not have yet fails, and redis-py loads it and repeats.
        evalsha = stats["cmdstat_evalsha"]
        assert evalsha["calls"] - evalsha["failed_calls"] == 6 + 1
        assert await client.xlen(RedisKeys(settings).outbox) == 3
    finally:
        await client.aclose()


async def test_a_batch_is_written_after_redis_forgot_the_scripts(settings):
    """A restarted Redis (or SCRIPT FLUSH) no longer has the scripts: the batch's EVALSHA
    fails with NOSCRIPT, and the batch is written once the script is loaded again."""
    client = async_redis_client(settings)
    try:
        outbox = Outbox(client, settings)
        first, other = alert("first"), alert("other").model_copy(update={"key": "b1"})
        assert await outbox.write_many([(first, 0)]) == [Written.NEW]
        await client.script_flush()
        written = await outbox.write_many([(first, 0), (other, 0)], published=[(first, 0)])
        assert written == [Written.PRESENT, Written.NEW]
        await client.script_flush()
        await outbox.published_many([(other, 0), (first, 0)])
        assert await outbox.write_many([(first, 0), (other, 0)]) == [Written.PRESENT] * 2
        assert await client.xlen(RedisKeys(settings).outbox) == 2
    finally:
        await client.aclose()


async def test_a_batch_writes_the_bytes_single_writes_write(settings):
    """A batch's writes travel packed (one MessagePack argument) and come back as one digit
    each: its entries, alert states, index scores and claims are those of writing each alone."""
    alone = settings.model_copy(update={"namespace": settings.namespace + "alone"})
    client = async_redis_client(settings)
    now = datetime.now(UTC)
    try:
        alerts = [
            Alert(
                key=f"story:withdrawal:{n}",
                kind="match",
                severity=Severity.high,
                rule="withdrawal",
                title=title,
                # Recent (the batch's trim drops alerts past alerts_max_age), odd microseconds.
                created_at=now - timedelta(seconds=n, microseconds=123457 * n),
            )
            for n, title in enumerate(["انسحاب القوات من كركوك", 'a "quoted" \\ title', "x" * 300])
        ]
        batch = [(a, n) for n, a in enumerate(alerts)] + [(alerts[0], 0)]
        written = await Outbox(client, settings).write_many(batch)
        assert written == [Written.NEW] * 3 + [Written.UNPUBLISHED]
        single = Outbox(client, alone)
        assert [await single.try_write(a, r) for a, r in batch] == written

        async def stored(s):
            k = RedisKeys(s)
            entries = [fields for _, fields in await client.xrange(k.outbox)]
            claims = [await client.get(k.alert_claim(a.key, r)) for a, r in batch]
            return (
                entries,
                await client.hgetall(k.alerts),
                await client.zrange(k.alerts_by_time, 0, -1, withscores=True),
                claims,
            )

        assert await stored(settings) == await stored(alone)
    finally:
        for key in await client.keys(f"{alone.namespace}:*"):
            await client.delete(key)
        await client.aclose()
