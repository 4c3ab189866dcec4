"""Per-minute counters in Redis, for the console's pictures of the last hour.

One hash per series and minute, ``<ns>:ts:<series>:<minute since the epoch>``, member ->
value, each with a TTL (``KEEP``), so the store bounds itself: nothing trims it and a stopped
writer leaves nothing behind. Writers queue their commands on a pipeline they already send
(``count``, ``gauge``), so a counter costs no extra round trip; ``read`` returns the last N
minutes as one list of values per member.

Series written: ``articles`` (member: feed; articles produced, by the connectors' sink) and
``lag`` (member: consumer group; its total lag, sampled by the console).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rasd.keys import RedisKeys
from rasd.settings import Settings

KEEP = timedelta(hours=2)


def minute_of(at: datetime) -> int:
    return int(at.timestamp()) // 60


@dataclass(frozen=True)
class MinuteSeries:
    """The last minutes of a series: ``start`` (the first minute, as a time), one value per
    minute per member (``None`` where nothing was recorded, for gauges)."""

    start: datetime
    minutes: int
    values: dict[str, list[float | None]]

    def totals(self) -> dict[str, float]:
        return {m: sum(v or 0 for v in vals) for m, vals in self.values.items()}


class MinuteCounters:
    def __init__(self, settings: Settings, series: str) -> None:
        self._keys = RedisKeys(settings)
        self._series = series

    def key(self, minute: int) -> str:
        return self._keys.minute_series(self._series, minute)

    def count(self, pipe, member: str, n: int = 1, at: datetime | None = None) -> None:
        """Queue ``member += n`` for the minute of ``at`` (now) on ``pipe``."""
        key = self.key(minute_of(at or datetime.now(UTC)))
        pipe.hincrby(key, member, n)
        pipe.expire(key, int(KEEP.total_seconds()))

    def gauge(self, pipe, member: str, value: float, at: datetime | None = None) -> None:
        """Queue ``member = value`` (the latest sample of the minute wins) on ``pipe``."""
        key = self.key(minute_of(at or datetime.now(UTC)))
        pipe.hset(key, member, value)
        pipe.expire(key, int(KEEP.total_seconds()))

    async def read(self, redis, minutes: int = 60, now: datetime | None = None) -> MinuteSeries:
        """The last ``minutes`` minutes up to and including the current one."""
        last = minute_of(now or datetime.now(UTC))
        first = last - minutes + 1
        async with redis.pipeline(transaction=False) as pipe:
            for minute in range(first, last + 1):
                pipe.hgetall(self.key(minute))
            hashes = await pipe.execute()
        values: dict[str, list[float | None]] = {}
        for i, fields in enumerate(hashes):
            for member, raw in fields.items():
                values.setdefault(member, [None] * minutes)[i] = float(raw)
        return MinuteSeries(
            start=datetime.fromtimestamp(first * 60, UTC), minutes=minutes, values=values
        )
