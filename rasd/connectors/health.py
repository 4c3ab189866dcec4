"""Per-feed health in Redis, written by connectors, read by ``rasd connectors status`` and
the console.

Set ``<ns>:feeds`` holds every feed name; hash ``<ns>:feed:<name>:health`` holds the fields of
:class:`FeedHealth` (times as ISO 8601 UTC, numbers as decimal strings; ARCHITECTURE.md lists
them).

>>> store = FeedHealthStore(settings, redis_client(settings))  # doctest: +SKIP
>>> [(h.name, h.status, h.error_reason) for h in store.all()]                    # doctest: +SKIP
[('bbc-ar', 'ok', None), ('rudaw-ar', 'error', 'http-error')]
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import redis
import redis.asyncio
from pydantic import BaseModel, ConfigDict

from rasd.keys import RedisKeys
from rasd.settings import Settings

# degraded: polled and produced, but the document needed a guess or a repair that may have
# changed or lost text (the warnings say which).
Status = Literal["ok", "not-modified", "degraded", "error", "pending"]


class FeedHealth(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    outlet: str | None = None
    url: str | None = None
    owner: str | None = None
    status: Status = "pending"
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: datetime | None = None
    error_reason: str | None = None
    error_detail: str | None = None
    http_status: int | None = None
    items_seen: int = 0
    items_new: int = 0
    items_total: int = 0
    warnings: str | None = None
    encoding: str | None = None
    declared_encoding: str | None = None
    bytes: int = 0
    latency_ms: int | None = None
    next_poll: datetime | None = None
    consecutive_failures: int = 0

    @classmethod
    def from_hash(cls, name: str, fields: dict) -> FeedHealth:
        values = {k: v for k, v in fields.items() if v != ""}
        return cls.model_validate({**values, "name": name})


class FeedHealthStore:
    """Reads feed health with a synchronous Redis client (CLI, console)."""

    def __init__(self, settings: Settings, client: redis.Redis):
        self._keys = RedisKeys(settings)
        self._client = client

    def names(self) -> list[str]:
        return sorted(self._client.smembers(self._keys.feeds))

    def get(self, name: str) -> FeedHealth | None:
        fields = self._client.hgetall(self._keys.feed_health(name))
        return FeedHealth.from_hash(name, fields) if fields else None

    def all(self) -> list[FeedHealth]:
        names = self.names()
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self._keys.feed_health(name))
        return [
            FeedHealth.from_hash(name, fields)
            for name, fields in zip(names, pipe.execute(), strict=True)
        ]


class HealthRecorder:
    """Writes feed health with the poller's asyncio Redis client."""

    def __init__(self, settings: Settings, client: redis.asyncio.Redis):
        self._keys = RedisKeys(settings)
        self._client = client

    async def register(self, names: list[str], details: dict[str, dict[str, str]]) -> None:
        """Make the feeds set exactly ``names``: a feed removed from feeds.yaml leaves health."""
        known = await self._client.smembers(self._keys.feeds)
        stale = sorted(known - set(names))
        async with self._client.pipeline(transaction=False) as pipe:
            if stale:
                pipe.srem(self._keys.feeds, *stale)
                pipe.delete(*(self._keys.feed_health(name) for name in stale))
            if names:
                pipe.sadd(self._keys.feeds, *names)
            for name in names:
                pipe.hset(self._keys.feed_health(name), mapping=details[name])
            await pipe.execute()

    async def record(self, name: str, fields: dict[str, object], new_items: int = 0) -> None:
        """Set the given fields; fields whose value is None are removed."""
        key = self._keys.feed_health(name)
        present = {k: _field(v) for k, v in fields.items() if v is not None}
        absent = [k for k, v in fields.items() if v is None]
        async with self._client.pipeline(transaction=False) as pipe:
            if present:
                pipe.hset(key, mapping=present)
            if absent:
                pipe.hdel(key, *absent)
            if new_items:
                pipe.hincrby(key, "items_total", new_items)
            await pipe.execute()

    async def failure_count(self, name: str) -> int:
        value = await self._client.hget(self._keys.feed_health(name), "consecutive_failures")
        return int(value or 0)


def _field(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
