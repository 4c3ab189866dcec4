"""The alerts as the console sees them: the latest state of each, filters and acknowledgements.

Reads the alert state and follows the outbox stream through :mod:`rasd.outbox` (streams
writes them), and writes acknowledgements to the outbox's ``acks`` key.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis

from rasd.models import Alert, Severity
from rasd.outbox import Outbox
from rasd.settings import Settings

log = logging.getLogger(__name__)


class AlertFilter(BaseModel):
    """What the analyst narrowed the list to; empty fields do not filter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity | None = None  # this severity or higher
    rule: str | None = None
    place: str | None = None
    outlet: str | None = None

    def accepts(self, alert: Alert) -> bool:
        return (
            (self.severity is None or alert.severity.rank >= self.severity.rank)
            and (not self.rule or alert.rule == self.rule)
            and (not self.place or self.place in alert.places)
            and (not self.outlet or any(a.outlet == self.outlet for a in alert.articles))
        )


class Ack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str
    at: datetime


class AlertEntry(BaseModel):
    """An alert with its acknowledgement, as listed and as served by the API."""

    model_config = ConfigDict(frozen=True)

    alert: Alert
    ack: Ack | None = None


class LiveAlert(BaseModel):
    """One outbox entry: a new alert (revision 0) or an update of a story's alert."""

    model_config = ConfigDict(frozen=True)

    id: str
    revision: int
    alert: Alert


def _parse_ack(raw: bytes | str | None) -> Ack | None:
    if raw is None:
        return None
    try:
        return Ack.model_validate_json(raw)
    except ValidationError:
        return None


class AlertBoard:
    """Alerts, newest first; at most ``scan`` recent alerts are looked at per query."""

    def __init__(self, settings: Settings, redis: Redis, scan: int = 2000) -> None:
        self._redis = redis
        self._scan = scan
        self._outbox = Outbox(redis, settings)
        self.acks_key = self._outbox.keys.alerts_acks

    async def recent(self, flt: AlertFilter, limit: int = 100) -> list[AlertEntry]:
        keys = await self._outbox.recent_keys(self._scan)
        return [e for e in await self._entries(keys) if flt.accepts(e.alert)][:limit]

    async def since(self, since: datetime, limit: int | None = None) -> list[Alert]:
        """Alerts created at or after ``since`` (newest first, at most ``limit``, else ``scan``)."""
        keys = await self._outbox.keys_since(since, limit or self._scan)
        return [e.alert for e in await self._entries(keys)]

    async def get(self, key: str) -> AlertEntry | None:
        entries = await self._entries([key])
        return entries[0] if entries else None

    async def _entries(self, keys: list[str]) -> list[AlertEntry]:
        if not keys:
            return []
        alerts = await self._outbox.alerts(keys)
        raw_acks = await self._redis.hmget(self.acks_key, keys)
        return [
            AlertEntry(alert=alert, ack=_parse_ack(raw_ack))
            for alert, raw_ack in zip(alerts, raw_acks, strict=True)
            if alert is not None
        ]

    async def acknowledge(self, key: str, user: str) -> Ack | None:
        """Record who acknowledged the alert; None when there is no such alert."""
        if not await self._outbox.exists(key):
            return None
        ack = Ack(by=user, at=datetime.now(UTC))
        await self._redis.hset(self.acks_key, key, ack.model_dump_json())
        return ack

    async def last_outbox_id(self) -> str:
        """Where a live follower starts: the outbox's newest entry id ("0-0" when empty)."""
        return await self._outbox.last_id()

    async def follow(self, after: str, block_ms: int) -> AsyncIterator[LiveAlert]:
        """Outbox entries after id ``after``, waiting up to ``block_ms`` for the first one."""
        for entry in await self._outbox.follow(after, block_ms):
            yield LiveAlert(id=entry.id, revision=entry.revision, alert=entry.alert)
