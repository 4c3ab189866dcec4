"""The outbox: alerts handed to notify through the Redis stream ``<ns>:outbox``.

Every write is keyed by (alert key, revision). A Lua script claims the idempotency key
``<ns>:alert:<key>:rev:<n>`` with SET NX and, only if the claim succeeds, appends the stream
entry and updates the alert state (hash ``<ns>:alerts``, sorted set ``<ns>:alerts:by-time``), all
atomically inside Redis. A worker that crashes after writing and replays the same input therefore
never adds a second entry for the same story revision or escalation window.

The writer also keeps it bounded (:meth:`Outbox.trim`, see :class:`Bounds`): old entries
go once every consumer group has read and acknowledged them, old alerts leave the hash.

>>> outbox = Outbox(redis_client, settings)                      # doctest: +SKIP
>>> await outbox.write(alert, revision=0)                        # doctest: +SKIP
True
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rasd.models import Alert
from rasd.settings import Settings

if TYPE_CHECKING:
    import redis.asyncio

log = logging.getLogger(__name__)

_WRITE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[5]) then
  redis.call('XADD', KEYS[2], '*', 'key', ARGV[1], 'revision', ARGV[2], 'alert', ARGV[3])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
  redis.call('ZADD', KEYS[4], 'NX', ARGV[4], ARGV[1])
  return 1
end
return 0
"""


# Trims the outbox by age and length, but never past an entry a consumer group has not read
# (after its last-delivered id) or has read and not acknowledged (its oldest pending id): the
# stream is notify's delivery queue. Then drops the oldest alerts (by age, then by count) from
# the alert hash, its by-time index and the console's acknowledgements. Bounded work per call.
_TRIM = """
local outbox, alerts, by_time, acks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local floor, max_entries, cutoff = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local alerts_max, batch = tonumber(ARGV[4]), tonumber(ARGV[5])
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local function after(id)
  local ms, seq = parse(id)
  return string.format('%d-%d', ms, seq + 1)
end
local excess = redis.call('XLEN', outbox) - max_entries
if excess > 0 then
  local oldest = redis.call('XRANGE', outbox, '-', '+', 'COUNT', math.min(excess, batch))
  local by_count = after(oldest[#oldest][1])
  if less(floor, by_count) then floor = by_count end
end
local trimmed = 0
if redis.call('EXISTS', outbox) == 1 then
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', outbox)) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    local unread = after(info['last-delivered-id'])
    if less(unread, floor) then floor = unread end
    if tonumber(info['pending']) > 0 then
      local oldest_pending = redis.call('XPENDING', outbox, info['name'])[2]
      if less(oldest_pending, floor) then floor = oldest_pending end
    end
  end
  trimmed = redis.call('XTRIM', outbox, 'MINID', floor)
end
local gone = redis.call('ZRANGEBYSCORE', by_time, '-inf', '(' .. cutoff, 'LIMIT', 0, batch)
local over = redis.call('ZCARD', by_time) - #gone - alerts_max
if over > 0 and #gone < batch then
  local more = redis.call('ZRANGE', by_time, #gone, #gone + math.min(over, batch - #gone) - 1)
  for _, key in ipairs(more) do table.insert(gone, key) end
end
for _, key in ipairs(gone) do
  redis.call('HDEL', alerts, key)
  redis.call('HDEL', acks, key)
  redis.call('ZREM', by_time, key)
end
return {trimmed, #gone}
"""


@dataclass(frozen=True)
class Bounds:
    """How much the outbox and the alert state keep (``RASD_STREAMS_*``, see README)."""

    outbox_max_age: float = 86400.0  # seconds
    outbox_max_entries: int = 10_000
    alerts_max_age: float = 30 * 86400.0
    alerts_max: int = 10_000
    trim_interval: float = 60.0
    batch: int = 10_000  # most entries and alerts removed by one trim


@dataclass(frozen=True)
class Trimmed:
    entries: int
    alerts: int


class Outbox:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        settings: Settings,
        ttl: int = 7 * 86400,
        bounds: Bounds | None = None,
    ):
        self._client = client
        self._settings = settings
        self._ttl = ttl
        self.bounds = bounds or Bounds()
        self._script = client.register_script(_WRITE)
        self._trim = client.register_script(_TRIM)
        self._last_trim = 0.0

    async def trim(self, now: float | None = None) -> Trimmed:
        """Apply :class:`Bounds` once (the writer calls this every ``trim_interval``)."""
        b, key = self.bounds, self._settings.key
        now = time.time() if now is None else now
        entries, alerts = await self._trim(
            keys=[key("outbox"), key("alerts"), key("alerts", "by-time"), key("alerts", "acks")],
            args=[
                f"{int((now - b.outbox_max_age) * 1000)}-0",
                b.outbox_max_entries,
                repr(now - b.alerts_max_age),
                b.alerts_max,
                b.batch,
            ],
        )
        return Trimmed(int(entries), int(alerts))

    async def _trim_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_trim < self.bounds.trim_interval:
            return
        self._last_trim = now
        done = await self.trim()
        if done.entries or done.alerts:
            log.info("outbox trimmed: %d entries, %d alerts", done.entries, done.alerts)
        if max(done.entries, done.alerts) >= self.bounds.batch:
            self._last_trim = 0.0  # more to do: again at the next write

    async def write(self, alert: Alert, revision: int) -> bool:
        """Like :meth:`try_write`, retrying while Redis is unreachable.

        The agent waits rather than skips: its input offset is not committed meanwhile, so
        nothing is lost if the worker is stopped while Redis is down.
        """
        import redis.exceptions

        delay = 0.1
        while True:
            try:
                written = await self.try_write(alert, revision)
                break
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                log.warning("outbox unreachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        try:
            await self._trim_now_and_then()
        except redis.exceptions.RedisError as exc:  # trimming waits for the next interval
            log.warning("outbox trim failed: %s", exc)
        return written

    async def try_write(self, alert: Alert, revision: int) -> bool:
        """Append ``alert`` as ``revision`` of its key; False if that revision is already there."""
        key = self._settings.key
        written = await self._script(
            keys=[
                key("alert", alert.key, "rev", str(revision)),
                key("outbox"),
                key("alerts"),
                key("alerts", "by-time"),
            ],
            args=[
                alert.key,
                str(revision),
                alert.model_dump_json(),
                alert.created_at.timestamp(),
                self._ttl,
            ],
        )
        return bool(written)
