"""What happened to each alert, for the console: the delivery log and the dead letters.

- ``<ns>:notify:attempts`` — stream, one entry per delivery attempt or decision (field
  ``attempt`` = :class:`Attempt` JSON), capped at ``delivery.history`` entries.
- ``<ns>:notify:status:<alert key>`` — hash receiver -> latest :class:`Attempt` JSON.
- ``<ns>:notify:dead`` — stream of :class:`DeadLetter` JSON (field ``dead``): what could not
  be delivered, with the alerts, so that an operator can resend it.

>>> log = DeliveryLog(redis, settings)
>>> [a.outcome for a in await log.recent(10)]
['sent', 'retry', 'queued']
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from rasd.keys import RedisKeys
from rasd.models import Alert, utcnow
from rasd.settings import Settings

Outcome = Literal[
    "queued",  # a new story joined a group, waiting for group_wait
    "folded",  # an update (revision > 0) replaced the story's revision waiting in its group
    "update",  # an update of a story not waiting: queued, sent unless its cooldown holds it
    "silenced",
    "inhibited",  # an active source alert (see inhibit: in receivers.yaml) holds it back
    "cooldown",  # this story's last message here is more recent than its cooldown
    "duplicate",  # this revision of the story was already delivered to this receiver
    "sent",
    "retry",
    "dead",
    "disabled",  # the receiver is disabled (its secret is not configured)
    "invalid",  # the outbox entry could not be read
]


class Attempt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Outcome
    alerts: tuple[str, ...] = ()
    receiver: str | None = None
    route: str | None = None
    group: str | None = None
    attempt: int = 0
    error: str | None = None
    status: int | None = None
    retry_in: float | None = None
    silence: str | None = None
    inhibited_by: str | None = None  # the key of the alert that inhibits this one
    consumer: str | None = None
    at: datetime
    id: str | None = None  # the stream entry id, filled in when read


class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    receiver: str | None = None
    group: str | None = None
    attempts: int = 0
    alerts: tuple[Alert, ...] = ()
    raw: dict[str, str] | None = None  # an unreadable outbox entry, as it was
    at: datetime
    id: str | None = None


Record = TypeVar("Record", Attempt, DeadLetter)


# The stream field each record is stored in (the ledger writes them, this module reads them).
ATTEMPT_FIELD, DEAD_FIELD = "attempt", "dead"


def _record(entry_id, fields, field: str, model: type[Record]) -> Record:
    return model.model_validate_json(fields[field]).model_copy(update={"id": entry_id})


async def _newest(redis, key: str, field: str, model: type[Record], limit: int) -> list[Record]:
    """The last ``limit`` records of a stream, newest first, each with its entry id."""
    entries = await redis.xrevrange(key, count=limit)
    return [_record(entry_id, fields, field, model) for entry_id, fields in entries]


class DeliveryLog:
    """Reads the delivery log (redis.asyncio client)."""

    def __init__(self, redis, settings: Settings) -> None:
        self.redis = redis
        self.keys = RedisKeys(settings)

    async def recent(self, limit: int = 100) -> list[Attempt]:
        """Newest first."""
        return await _newest(self.redis, self.keys.notify_attempts, ATTEMPT_FIELD, Attempt, limit)

    async def for_alert(self, alert_key: str) -> dict[str, Attempt]:
        """Receiver -> the latest thing that happened to this alert there."""
        raw = await self.redis.hgetall(self.keys.notify_status(alert_key))
        return {k: Attempt.model_validate_json(v) for k, v in raw.items()}


class DeadLetters:
    def __init__(self, redis, settings: Settings) -> None:
        self.redis = redis
        self.keys = RedisKeys(settings)

    async def recent(self, limit: int = 100) -> list[DeadLetter]:
        return await _newest(self.redis, self.keys.notify_dead, DEAD_FIELD, DeadLetter, limit)

    async def get(self, dead_id: str) -> DeadLetter | None:
        entries = await self.redis.xrange(self.keys.notify_dead, dead_id, dead_id)
        return _record(*entries[0], DEAD_FIELD, DeadLetter) if entries else None

    async def remove(self, dead_id: str) -> bool:
        return bool(await self.redis.xdel(self.keys.notify_dead, dead_id))

    async def count(self) -> int:
        return await self.redis.xlen(self.keys.notify_dead)


def attempt(outcome: Outcome, **fields) -> Attempt:
    return Attempt(outcome=outcome, at=fields.pop("at", None) or utcnow(), **fields)
