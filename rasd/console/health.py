"""Pipeline health from Redis: the feeds (connectors' records) and the outbox depth."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from rasd.keys import RedisKeys
from rasd.settings import Settings


@dataclass(frozen=True)
class OutboxGroup:
    name: str
    pending: int
    lag: int | None


@dataclass(frozen=True)
class OutboxDepth:
    length: int
    groups: list[OutboxGroup] = field(default_factory=list)


async def outbox_depth(settings: Settings, redis: Redis) -> OutboxDepth:
    """Entries in the outbox stream and, per consumer group, delivered-unacked and unread."""
    key = RedisKeys(settings).outbox
    length = await redis.xlen(key)
    try:
        groups = await redis.xinfo_groups(key)
    except ResponseError:  # no such stream yet
        groups = []
    return OutboxDepth(
        length=length,
        groups=[
            OutboxGroup(
                name=g["name"],
                pending=int(g.get("pending", 0)),
                lag=None if g.get("lag") is None else int(g["lag"]),
            )
            for g in groups
        ],
    )
