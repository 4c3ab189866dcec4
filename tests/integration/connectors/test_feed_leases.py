"""Feed leases on the real Redis: an even split, a clean hand-over, an expired member."""

from __future__ import annotations

import pytest

from rasd.connections import async_redis_client
from rasd.connectors.leases import FeedLeases
from rasd.keys import RedisKeys

pytestmark = pytest.mark.integration
FEEDS = [f"feed-{i}" for i in range(40)]


async def test_split_handover_and_expiry(settings):
    client = async_redis_client(settings)
    one, two = (FeedLeases(settings, client, owner, FEEDS, lease_ttl=2) for owner in "ab")
    try:
        # "one" alone takes everything; once "two" joins, "one" gives up two's share.
        await one.step()
        assert all(one.owns(f) for f in FEEDS)
        await two.step()
        await one.step()
        await two.step()
        mine = {f for f in FEEDS if one.owns(f)}
        theirs = {f for f in FEEDS if two.owns(f)}
        assert mine.isdisjoint(theirs) and mine | theirs == set(FEEDS)
        assert 8 < len(mine) < 32
        for feed in theirs:
            assert await client.get(RedisKeys(settings).feed_lease(feed)) == "b"

        # A clean stop hands everything over at the next step.
        await two.release_all()
        await one.step()
        assert all(one.owns(f) for f in FEEDS)

        # Another member that stops heartbeating is dropped once its membership expires.
        await two.step()
        await one.step()
        assert not all(one.owns(f) for f in FEEDS)
        await client.zadd(RedisKeys(settings).connectors_members, {"b": 0})
        for feed in FEEDS:
            key = RedisKeys(settings).feed_lease(feed)
            if await client.get(key) == "b":
                await client.delete(key)
        await one.step()
        assert all(one.owns(f) for f in FEEDS)

        # A lease that vanished (Redis lost it) is taken again by its owner at once.
        await client.delete(RedisKeys(settings).feed_lease(FEEDS[0]))
        await one.step()
        assert one.owns(FEEDS[0])
        assert await client.get(RedisKeys(settings).feed_lease(FEEDS[0])) == "a"
    finally:
        await client.aclose()
