"""Splitting feeds between connector processes: membership heartbeats plus feed leases.

Each process heartbeats into the sorted set ``<ns>:connectors:members`` (score = when its
membership expires). Every live process computes the same owner for each feed by rendezvous
hashing over the live members, and holds a lease ``<ns>:feed:<name>:lease`` (value = its id,
TTL ``lease_ttl``) for each feed it owns, renewed every ``lease_ttl / 3``. A process polls a
feed only while it holds the lease, so two processes never poll one feed at once even while
their views of the membership differ. A process that stops leaves the set and deletes its
leases, so others take over at their next step; one that dies is dropped when its heartbeat
and leases expire, i.e. within ``lease_ttl`` plus one step. A process that cannot reach Redis
stops polling its feeds before its leases could have expired.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable

from redis.asyncio import Redis

from rasd.connectors.metrics import FEEDS_OWNED
from rasd.keys import RedisKeys
from rasd.settings import Settings

# Renew our lease; take it again if it vanished (e.g. Redis lost it); never take another's.
_RENEW = (
    "local v = redis.call('get', KEYS[1]) "
    "if v == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) "
    "elseif not v then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 "
    "else return 0 end"
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


def rendezvous_owner(feed: str, members: Iterable[str]) -> str | None:
    """The member with the highest hash of (member, feed): stable, and when a member leaves
    only its own feeds move."""
    return max(
        members,
        key=lambda m: hashlib.blake2b(f"{m}\n{feed}".encode(), digest_size=8).digest(),
        default=None,
    )


class FeedLeases:
    def __init__(
        self, settings: Settings, redis: Redis, owner: str, feeds: list[str], lease_ttl: float
    ):
        self._keys = RedisKeys(settings)
        self._redis = redis
        self.owner = owner
        self._feeds = feeds
        self._ttl_ms = max(1000, int(lease_ttl * 1000))
        self._members_key = self._keys.connectors_members
        self._owned: set[str] = set()
        # Leases are only trusted until shortly before they could have expired unrenewed.
        self._valid_until = 0.0
        self._acquired = {name: asyncio.Event() for name in feeds}
        # A step from the lease loop and one after a reload must not interleave.
        self._stepping = asyncio.Lock()

    def set_feeds(self, feeds: list[str]) -> None:
        """The feeds to share from now on (feeds.yaml reloaded); the next step releases the
        leases of feeds no longer listed and takes the new ones."""
        self._feeds = list(feeds)
        for name in feeds:
            self._acquired.setdefault(name, asyncio.Event())

    @property
    def step_interval(self) -> float:
        return self._ttl_ms / 3000

    def holds(self, feed: str) -> bool:
        """Whether this process took the feed's lease at its last successful step."""
        return feed in self._owned

    def owns(self, feed: str) -> bool:
        """Whether it may poll the feed: it holds the lease and the lease cannot have expired."""
        return feed in self._owned and time.monotonic() < self._valid_until

    async def wait_acquired(self, feed: str) -> None:
        await self._acquired[feed].wait()

    def _key(self, feed: str) -> str:
        return self._keys.feed_lease(feed)

    async def members(self) -> list[str]:
        now_ms = int(time.time() * 1000)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self._members_key, {self.owner: now_ms + self._ttl_ms})
            pipe.zremrangebyscore(self._members_key, "-inf", now_ms)
            pipe.zrange(self._members_key, 0, -1)
            *_, members = await pipe.execute()
        return members

    async def step(self) -> None:
        """Heartbeat, then acquire, renew and release leases to match the rendezvous split."""
        async with self._stepping:
            await self._step()

    async def _step(self) -> None:
        started = time.monotonic()
        members = await self.members()
        wanted = {f for f in self._feeds if rendezvous_owner(f, members) == self.owner}
        keep = sorted(self._owned & wanted)
        take = sorted(wanted - self._owned)
        drop = sorted(self._owned - wanted)
        async with self._redis.pipeline(transaction=False) as pipe:
            for feed in keep:
                pipe.eval(_RENEW, 1, self._key(feed), self.owner, self._ttl_ms)
            for feed in take:
                pipe.set(self._key(feed), self.owner, nx=True, px=self._ttl_ms)
            for feed in drop:
                pipe.eval(_RELEASE, 1, self._key(feed), self.owner)
            results = await pipe.execute()
        for feed, ok in zip(keep + take, results, strict=False):
            self._set(feed, bool(ok))
        for feed in drop:
            self._set(feed, False)
        self._valid_until = started + 0.8 * self._ttl_ms / 1000
        FEEDS_OWNED.set(len(self._owned))

    def _set(self, feed: str, owned: bool) -> None:
        if owned:
            self._owned.add(feed)
            self._acquired[feed].set()
        else:
            self._owned.discard(feed)
            self._acquired[feed].clear()

    async def release_all(self) -> None:
        """Leave the membership and give every lease back, so others take over at once."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrem(self._members_key, self.owner)
            for feed in self._owned:
                pipe.eval(_RELEASE, 1, self._key(feed), self.owner)
            await pipe.execute()
        for feed in list(self._owned):
            self._set(feed, False)
        FEEDS_OWNED.set(0)
