"""The alerts as the console sees them: the latest state of each, filters and acknowledgements.

Reads the hash ``<ns>:alerts`` and the sorted set ``<ns>:alerts:by-time`` (written by streams),
writes acknowledgements to ``<ns>:alerts:acks`` and follows the outbox stream for live updates.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis

from rasd.models import Alert, Severity
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


def _parse_alert(raw: bytes | str | None, key: str) -> Alert | None:
    if raw is None:
        return None
    try:
        return Alert.model_validate_json(raw)
    except ValidationError as exc:
        log.warning("alert %r: unreadable record skipped: %s", key, exc.errors()[:1])
        return None


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
        self.alerts_key = settings.key("alerts")
        self.by_time_key = settings.key("alerts", "by-time")
        self.acks_key = settings.key("alerts", "acks")
        self.outbox_key = settings.key("outbox")

    async def recent(self, flt: AlertFilter, limit: int = 100) -> list[AlertEntry]:
        keys = [
            k.decode() for k in await self._redis.zrevrange(self.by_time_key, 0, self._scan - 1)
        ]
        return [e for e in await self._entries(keys) if flt.accepts(e.alert)][:limit]

    async def since(self, since: datetime, limit: int | None = None) -> list[Alert]:
        """Alerts created at or after ``since`` (newest first, at most ``limit``, else ``scan``)."""
        keys = await self._redis.zrevrangebyscore(
            self.by_time_key, "+inf", since.timestamp(), start=0, num=limit or self._scan
        )
        return [e.alert for e in await self._entries([k.decode() for k in keys])]

    async def get(self, key: str) -> AlertEntry | None:
        entries = await self._entries([key])
        return entries[0] if entries else None

    async def _entries(self, keys: list[str]) -> list[AlertEntry]:
        if not keys:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self.alerts_key, keys)
            pipe.hmget(self.acks_key, keys)
            raw_alerts, raw_acks = await pipe.execute()
        entries = []
        for key, raw_alert, raw_ack in zip(keys, raw_alerts, raw_acks, strict=True):
            alert = _parse_alert(raw_alert, key)
            if alert is not None:
                entries.append(AlertEntry(alert=alert, ack=_parse_ack(raw_ack)))
        return entries

    async def acknowledge(self, key: str, user: str) -> Ack | None:
        """Record who acknowledged the alert; None when there is no such alert."""
        if not await self._redis.hexists(self.alerts_key, key):
            return None
        ack = Ack(by=user, at=datetime.now(UTC))
        await self._redis.hset(self.acks_key, key, ack.model_dump_json())
        return ack

    async def last_outbox_id(self) -> str:
        """Where a live follower starts: the outbox's newest entry id ("0-0" when empty)."""
        info = await self._redis.xrevrange(self.outbox_key, count=1)
        return info[0][0].decode() if info else "0-0"

    async def follow(self, after: str, block_ms: int) -> AsyncIterator[LiveAlert]:
        """Outbox entries after id ``after``, waiting up to ``block_ms`` for the first one."""
        reply = await self._redis.xread({self.outbox_key: after}, count=100, block=block_ms)
        for _stream, entries in reply or ():
            for entry_id, fields in entries:
                fields = {k.decode(): v for k, v in fields.items()}
                alert = _parse_alert(fields.get("alert"), entry_id.decode())
                if alert is None:
                    continue
                revision = fields.get("revision", b"0").decode()
                yield LiveAlert(
                    id=entry_id.decode(),
                    revision=int(revision) if revision.isdigit() else 0,
                    alert=alert,
                )
