"""Silences: "do not send alerts matching these matchers until then", with who and why.

A silenced alert is recorded as silenced and not sent; when the silence ends (or is expired
early) matching alerts are sent again. Silences live in the Redis hash
``<ns>:silences`` (id -> Silence JSON), so every notifier and the console see the same ones.

>>> store = SilenceStore(redis, settings)
>>> silence = await store.add(
...     [SilenceMatcher.parse("rule=rocket-attack"), SilenceMatcher.parse("places=iraq")],
...     ends_at=utcnow() + timedelta(hours=2), comment="exercise", author="sara",
... )
>>> await store.expire(silence.id)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rasd.keys import RedisKeys
from rasd.models import Alert, utcnow
from rasd.notify.matchers import Matcher, alert_labels
from rasd.settings import Settings

# Expired silences stay listed this long, then are dropped.
RETENTION = timedelta(days=7)

# Silences match with the one matcher language of routes and inhibitions.
SilenceMatcher = Matcher


class Silence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    matchers: tuple[Matcher, ...] = Field(min_length=1)
    starts_at: datetime = Field(default_factory=utcnow)
    ends_at: datetime
    comment: str = Field(min_length=1, max_length=1000)
    author: str = Field(min_length=1, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("starts_at", "ends_at", "created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone")
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> Silence:
        # Equal is allowed: that is how a silence expired before it began is stored.
        if self.ends_at < self.starts_at:
            raise ValueError("ends_at must not be before starts_at")
        return self

    def state(self, now: datetime) -> Literal["pending", "active", "expired"]:
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def matches(self, alert: Alert) -> bool:
        labels = alert_labels(alert)
        return all(m.matches_labels(labels) for m in self.matchers)


def silenced_by(alert: Alert, silences: Iterable[Silence], now: datetime) -> Silence | None:
    """The first active silence matching ``alert``."""
    return next(
        (s for s in silences if s.state(now) == "active" and s.matches(alert)),
        None,
    )


class SilenceNotFound(KeyError):
    def __str__(self) -> str:
        return f"no silence {self.args[0]!r}"


class SilenceStore:
    """Silences in Redis, for the notifier, the CLI and the console (redis.asyncio client)."""

    def __init__(self, redis, settings: Settings) -> None:
        self.redis = redis
        self.key = RedisKeys(settings).silences

    async def add(
        self,
        matchers: Sequence[SilenceMatcher],
        *,
        ends_at: datetime,
        comment: str,
        author: str,
        starts_at: datetime | None = None,
    ) -> Silence:
        starts_at = starts_at or utcnow()
        if ends_at <= max(starts_at, utcnow()):
            raise ValueError("a silence must end in the future and after it starts")
        silence = Silence(
            matchers=tuple(matchers),
            starts_at=starts_at,
            ends_at=ends_at,
            comment=comment,
            author=author,
        )
        await self.redis.hset(self.key, silence.id, silence.model_dump_json())
        await self._prune()
        return silence

    async def get(self, silence_id: str) -> Silence:
        raw = await self.redis.hget(self.key, silence_id)
        if raw is None:
            raise SilenceNotFound(silence_id)
        return Silence.model_validate_json(raw)

    async def all(self) -> list[Silence]:
        raw = await self.redis.hvals(self.key)
        return sorted(
            (Silence.model_validate_json(r) for r in raw), key=lambda s: s.ends_at, reverse=True
        )

    async def active(self, now: datetime | None = None) -> list[Silence]:
        now = now or utcnow()
        return [s for s in await self.all() if s.state(now) == "active"]

    async def expire(self, silence_id: str, now: datetime | None = None) -> Silence:
        """End a silence now; it stays listed (as expired) for RETENTION."""
        silence = await self.get(silence_id)
        now = now or utcnow()
        if silence.state(now) == "expired":
            return silence
        # A pending silence is ended before it began: its start moves to now as well.
        update = {"ends_at": now}
        if silence.state(now) == "pending":
            update["starts_at"] = now
        ended = silence.model_copy(update=update)
        await self.redis.hset(self.key, silence_id, ended.model_dump_json())
        return ended

    async def _prune(self) -> None:
        cutoff = utcnow() - RETENTION
        old = [s.id for s in await self.all() if s.ends_at < cutoff]
        if old:
            await self.redis.hdel(self.key, *old)
