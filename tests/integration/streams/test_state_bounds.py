"""Bounded state on the real Redis: the outbox is trimmed by age and length but never past an
entry a consumer group has not read and acknowledged; old alerts leave the alert hash, its
by-time index and the acknowledgements."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from rasd.connections import async_redis_client
from rasd.keys import RedisKeys
from rasd.models import Alert, Severity
from rasd.outbox import Bounds, Outbox

pytestmark = pytest.mark.integration
NEVER = 1e9  # trim_interval: only explicit trim() calls trim


def alert(n: int, created_at: datetime | None = None) -> Alert:
    return Alert(
        key=f"story:r:{n}",
        kind="match",
        severity=Severity.high,
        rule="r",
        title=f"report {n}",
        created_at=created_at or datetime.now(UTC),
    )


@pytest.fixture
async def client(settings):
    c = async_redis_client(settings)
    yield c
    await c.aclose()


async def ids(client, settings) -> list[str]:
    return [entry_id for entry_id, _ in await client.xrange(RedisKeys(settings).outbox)]


async def test_old_entries_go_only_once_every_group_read_and_acknowledged_them(client, settings):
    outbox = Outbox(client, settings, bounds=Bounds(outbox_max_age=60, trim_interval=NEVER))
    key = RedisKeys(settings).outbox
    for n in range(10):
        assert await outbox.write(alert(n), 0)
    written = await ids(client, settings)
    await client.xgroup_create(key, "notify", id="0")
    read = (await client.xreadgroup("notify", "c1", {key: ">"}, count=6))[0][1]
    await client.xack(key, "notify", *(entry_id for entry_id, _ in read[:4]))

    later = time.time() + 3600  # every entry is past the age now
    assert (await outbox.trim(now=later)).entries == 4  # read and acknowledged
    assert await ids(client, settings) == written[4:]  # 2 pending, 4 unread stay

    await client.xack(key, "notify", *(entry_id for entry_id, _ in read[4:]))
    assert (await outbox.trim(now=later)).entries == 2
    assert await ids(client, settings) == written[6:]  # unread stay

    rest = (await client.xreadgroup("notify", "c1", {key: ">"}))[0][1]
    await client.xack(key, "notify", *(entry_id for entry_id, _ in rest))
    assert (await outbox.trim(now=time.time())).entries == 0  # young entries stay
    assert (await outbox.trim(now=later)).entries == 4
    assert await ids(client, settings) == []


async def test_a_group_that_read_nothing_keeps_everything(client, settings):
    outbox = Outbox(client, settings, bounds=Bounds(outbox_max_age=60, trim_interval=NEVER))
    for n in range(5):
        await outbox.write(alert(n), 0)
    key = RedisKeys(settings).outbox
    await client.xgroup_create(key, "notify", id="0")
    await client.xgroup_create(key, "audit", id="0")
    read = (await client.xreadgroup("notify", "c1", {key: ">"}))[0][1]
    await client.xack(key, "notify", *(entry_id for entry_id, _ in read))
    assert (await outbox.trim(now=time.time() + 3600)).entries == 0
    assert len(await ids(client, settings)) == 5


async def test_length_cap_keeps_the_newest_entries_and_the_writer_trims_by_itself(client, settings):
    key = RedisKeys(settings).outbox
    await client.xgroup_create(key, "notify", id="0", mkstream=True)
    outbox = Outbox(client, settings, bounds=Bounds(outbox_max_entries=3, trim_interval=0))
    for n in range(8):
        await outbox.write(alert(n), 0)
        read = await client.xreadgroup("notify", "c1", {key: ">"})
        await client.xack(key, "notify", *(entry_id for entry_id, _ in read[0][1]))
    entries = await client.xrange(key)
    # The writer trimmed before the last write was read: at most one over the cap.
    assert [e["key"] for _, e in entries][-3:] == ["story:r:5", "story:r:6", "story:r:7"]
    assert len(entries) <= 4
    await outbox.trim()
    assert [e["key"] for _, e in await client.xrange(key)] == [
        "story:r:5",
        "story:r:6",
        "story:r:7",
    ]


async def test_old_alerts_leave_the_hash_the_index_and_the_acknowledgements(client, settings):
    now = datetime.now(UTC)
    outbox = Outbox(
        client,
        settings,
        bounds=Bounds(alerts_max_age=86400, alerts_max=3, trim_interval=NEVER),
    )
    ages = [40, 20, 2, 0.5, 0.4, 0.3, 0.2]  # days
    for n, days in enumerate(ages):
        await outbox.write(alert(n, now - timedelta(days=days)), 0)
    acks = RedisKeys(settings).alerts_acks
    await client.hset(acks, mapping={"story:r:0": "{}", "story:r:6": "{}"})

    done = await outbox.trim()
    # Three older than a day, then the oldest of the rest beyond the newest three.
    assert done.alerts == 4
    kept = ["story:r:4", "story:r:5", "story:r:6"]
    assert await client.zrange(RedisKeys(settings).alerts_by_time, 0, -1) == kept
    assert sorted(await client.hkeys(RedisKeys(settings).alerts)) == kept
    assert await client.hkeys(acks) == ["story:r:6"]
