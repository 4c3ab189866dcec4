"""The outbox: alerts handed to notify through the Redis stream ``<ns>:outbox``.

This module is the one owner of the outbox contract: the entry (:class:`OutboxEntry`, written
by :meth:`Outbox.write`, read by :func:`parse_entry`), the alert state beside it, and the
revision rule (:func:`is_newer`, and :data:`IS_NEWER_LUA` for scripts inside Redis). Streams
writes, notify and the console read, and the console re-queues dead letters
(:meth:`Outbox.retry`), all through here. The key names come from :mod:`rasd.keys`.

Every write is keyed by (alert key, revision). A Lua script claims the idempotency key
``<ns>:alert:<key>:rev:<n>`` with SET NX and, only if the claim succeeds, appends the stream
entry and updates the alert state (hash ``<ns>:alerts``, sorted set ``<ns>:alerts:by-time``), all
atomically inside Redis. A worker that crashes after writing and replays the same input therefore
never adds a second entry for the same story revision or escalation window. The claim also
remembers whether the alert reached the ``alerts`` topic (:meth:`Outbox.published`), so that a
crash between the two writes is made good by the replay (:attr:`Written.publish`).

The writer also keeps it bounded (:meth:`Outbox.trim`, see :class:`Bounds`): old entries
go once every consumer group has read and acknowledged them, old alerts leave the hash.

>>> outbox = Outbox(redis_client, settings)                      # doctest: +SKIP
>>> await outbox.write(alert, revision=0)                        # doctest: +SKIP
<Written.NEW: 1>
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from pydantic import ValidationError

from rasd.codec import decode_alert, encode
from rasd.keys import RedisKeys
from rasd.models import Alert
from rasd.settings import Settings

if TYPE_CHECKING:
    import redis.asyncio

log = logging.getLogger(__name__)

# The claim's value says whether the alert is also on the topic yet: 'unpublished' until the
# writer confirms it (claims from before that distinction hold '1' and count as published).
# A retried dead letter (state ~= '1') is a re-delivery, not a new state of the alert. One
# text for the script of one write and for the script of a batch, so that the two cannot drift.
_WRITE_LUA = """
local function write(claim, outbox, alerts, by_time, key, revision, alert, created, ttl, state)
  if redis.call('SET', claim, 'unpublished', 'NX', 'EX', ttl) then
    redis.call('XADD', outbox, '*', 'key', key, 'revision', revision, 'alert', alert)
    if state == '1' then
      redis.call('HSET', alerts, key, alert)
      redis.call('ZADD', by_time, 'NX', created, key)
    end
    return 1
  end
  if redis.call('GET', claim) == 'unpublished' then return 2 end
  return 0
end
local function mark(claim)
  if redis.call('GET', claim) == 'unpublished' then
    redis.call('SET', claim, 'published', 'KEEPTTL')
  end
end
"""

_WRITE = (
    _WRITE_LUA
    + "return write(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4],"
    + " ARGV[5], ARGV[6])"
)

# A batch in one call (redis-py packs and parses a command in about 11 us more than the same
# arguments inside another one): KEYS = outbox, alerts, by-time, the claims to mark, then one
# claim per write; ARGV = how many marks, the claims' TTL, then the writes as one MessagePack
# array of [key, revision, alert JSON, creation time] (the strings the single write takes as
# arguments; Redis's scripts read MessagePack's strings, not its binaries). The marks come
# first (they are of earlier revisions). The answer is one digit a write (a Written): redis-py
# packs each argument and parses each element of an answer in Python, a few microseconds each.
_WRITE_MANY = (
    _WRITE_LUA
    + """
local marks, ttl = tonumber(ARGV[1]), ARGV[2]
for i = 1, marks do mark(KEYS[3 + i]) end
local written = {}
if ARGV[3] then
  for i, w in ipairs(cmsgpack.unpack(ARGV[3])) do
    written[i] = write(KEYS[3 + marks + i], KEYS[1], KEYS[2], KEYS[3],
                       w[1], w[2], w[3], w[4], ttl, '1')
  end
end
return table.concat(written)
"""
)

_ROWS = msgspec.msgpack.Encoder()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


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


def is_newer(revision: int, than: int | None) -> bool:
    """The revision rule: a revision replaces another only when it is greater (the first one,
    ``than is None``, always counts). :data:`IS_NEWER_LUA` is the same rule for Lua."""
    return than is None or revision > than


# The revision rule for a script that applies it inside Redis (notify's ledger prepends it to
# its enqueue script): kept beside is_newer so that the two change together, and checked
# against it on a real Redis (tests/integration/test_outbox_revision_rule.py). ``than`` is nil
# for the first revision.
IS_NEWER_LUA = """
local function is_newer(revision, than)
  return than == nil or revision > than
end
"""


@dataclass(frozen=True)
class OutboxEntry:
    """One stream entry: ``revision`` of the alert ``alert.key`` (0 is a new alert)."""

    id: str
    revision: int
    alert: Alert


class UnreadableEntry(ValueError):
    """An outbox entry that is not an :class:`OutboxEntry`; ``fields`` as they were."""

    def __init__(self, entry_id: str, fields: dict[str, str], reason: str) -> None:
        super().__init__(reason)
        self.entry_id = entry_id
        self.fields = fields


def parse_entry(entry_id: str, raw: Mapping[str, str]) -> OutboxEntry:
    """Read a stream entry; UnreadableEntry if bad.

    >>> try:
    ...     parse_entry("1-0", {"key": "k", "revision": "x", "alert": "{}"})
    ... except UnreadableEntry as exc:
    ...     print(exc)
    revision 'x' is not a whole number >= 0
    """
    fields = dict(raw)
    if "alert" not in fields:
        raise UnreadableEntry(entry_id, fields, "no 'alert' field")
    revision = fields.get("revision", "0")  # entries from before revisions were numbered
    if not revision.isdigit():
        raise UnreadableEntry(entry_id, fields, f"revision {revision!r} is not a whole number >= 0")
    try:
        alert = decode_alert(fields["alert"])
    except ValidationError as exc:
        raise UnreadableEntry(entry_id, fields, f"ValidationError: {exc}") from None
    return OutboxEntry(id=entry_id, revision=int(revision), alert=alert)


def parse_alert(raw: str | None, key: str) -> Alert | None:
    """An alert state value; None (logged) when missing or unreadable."""
    if raw is None:
        return None
    try:
        return decode_alert(raw)
    except ValidationError as exc:
        log.warning("alert %r: unreadable record skipped: %s", key, exc.errors()[:1])
        return None


class Written(enum.IntEnum):
    """What :meth:`Outbox.write` did, and whether the alert still has to reach the topic."""

    PRESENT = 0  # this revision was written and published before
    NEW = 1
    UNPUBLISHED = 2  # written before, but its publishing was never confirmed

    @property
    def publish(self) -> bool:
        return self is not Written.PRESENT


# A digit of write_many's answer (the client decodes answers to str).
_WRITTEN = {str(int(w)): w for w in Written}


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
        self.keys = RedisKeys(settings)
        self._ttl = ttl
        self.bounds = bounds or Bounds()
        self._script = client.register_script(_WRITE)
        self._write_many = client.register_script(_WRITE_MANY)
        self._trim = client.register_script(_TRIM)
        self._last_trim = 0.0

    async def trim(self, now: float | None = None) -> Trimmed:
        """Apply :class:`Bounds` once (the writer calls this every ``trim_interval``)."""
        b, k = self.bounds, self.keys
        now = time.time() if now is None else now
        entries, alerts = await self._trim(
            keys=[k.outbox, k.alerts, k.alerts_by_time, k.alerts_acks],
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

    async def write(self, alert: Alert, revision: int) -> Written:
        """Like :meth:`try_write`, retrying while Redis is unreachable.

        The agent waits rather than skips: its input offset is not committed meanwhile, so
        nothing is lost if the worker is stopped while Redis is down.
        """
        return (await self.write_many([(alert, revision)]))[0]

    async def write_many(
        self,
        revisions: Sequence[tuple[Alert, int]],
        encoded: Sequence[bytes] | None = None,
        published: Sequence[tuple[Alert, int]] = (),
    ) -> list[Written]:
        """:meth:`write` for several alert revisions in one round trip, each as it would be alone
        (written in this order, in one script call; retried as a whole, which is harmless: a
        revision written before reads as written). ``encoded`` are the alerts' JSON when the
        caller has it already (the stories agent sends the same JSON to the alerts topic).
        ``published`` are revisions written before and delivered to the topic since, marked as
        :meth:`published_many` would, in the same call (the stories agent's marks of its
        previous batch)."""
        import redis.exceptions

        if not revisions and not published:
            return []
        if encoded is None:
            encoded = [encode(a) for a, _ in revisions]
        k = self.keys
        claim = k.alert_claim
        keys = [k.outbox, k.alerts, k.alerts_by_time]
        keys += [claim(a.key, r) for a, r in published]
        keys += [claim(a.key, r) for a, r in revisions]
        args: list[Any] = [len(published), self._ttl]
        if revisions:
            # The strings redis-py would send for each argument (a float as its repr; JSON is
            # UTF-8, so its text is its bytes).
            rows = [
                (alert.key, str(revision), _text(value), repr(alert.created_at.timestamp()))
                for (alert, revision), value in zip(revisions, encoded, strict=True)
            ]
            args.append(_ROWS.encode(rows))
        delay = 0.1
        while True:
            try:
                # One script call (redis-py's pipeline asked Redis first whether it had the
                # scripts, a round trip more); the script is loaded again if Redis forgot it.
                written = await self._write_many(keys=keys, args=args)
                break
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                log.warning("outbox unreachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        try:
            await self._trim_now_and_then()
        except redis.exceptions.RedisError as exc:  # trimming waits for the next interval
            log.warning("outbox trim failed: %s", exc)
        if isinstance(written, bytes):  # a client that does not decode answers
            written = written.decode()
        return [_WRITTEN[w] for w in written]

    async def try_write(self, alert: Alert, revision: int) -> Written:
        """Append ``alert`` as ``revision`` of its key, unless that revision is already there."""
        return await self._write(
            self.keys.alert_claim(alert.key, revision), alert, revision, state=True
        )

    async def _write(self, claim: str, alert: Alert, revision: int, *, state: bool) -> Written:
        k = self.keys
        written = await self._script(
            keys=[claim, k.outbox, k.alerts, k.alerts_by_time],
            args=[
                alert.key,
                str(revision),
                encode(alert),
                alert.created_at.timestamp(),
                self._ttl,
                "1" if state else "0",
            ],
        )
        return Written(int(written))

    async def published(self, alert: Alert, revision: int) -> None:
        """Record that ``revision`` of ``alert`` is on the ``alerts`` topic too."""
        await self.published_many([(alert, revision)])

    async def published_many(self, revisions: Sequence[tuple[Alert, int]]) -> None:
        """:meth:`published` for several alert revisions in one round trip."""
        await self.write_many([], published=revisions)

    async def retry(self, dead_letter_id: str, alerts: Iterable[Alert]) -> int:
        """Queue a dead letter's alerts again as new stream entries (revision 0, so that every
        notifier routes them afresh; notify's dedup spares receivers that did get them).

        Idempotent per dead letter: retrying it twice, or again after a crash half-way,
        queues each alert once. The alert state is left alone (it may be newer by now).
        Returns how many entries were added.
        """
        added = 0
        for alert in alerts:
            claim = self.keys.alert_retry_claim(alert.key, dead_letter_id)
            if await self._write(claim, alert, 0, state=False) is Written.NEW:
                added += 1
        return added

    # Reading ----------------------------------------------------------------------------

    async def last_id(self) -> str:
        """The stream's newest entry id ("0-0" when empty): where a live follower starts."""
        newest = await self._client.xrevrange(self.keys.outbox, count=1)
        return newest[0][0] if newest else "0-0"

    async def follow(self, after: str, block_ms: int, count: int = 100) -> list[OutboxEntry]:
        """Entries after id ``after``, waiting up to ``block_ms`` for the first one; an
        unreadable entry is logged and left out (notify dead-letters it)."""
        reply = await self._client.xread({self.keys.outbox: after}, count=count, block=block_ms)
        entries = []
        for _stream, raw_entries in reply or ():
            for entry_id, fields in raw_entries:
                try:
                    entries.append(parse_entry(entry_id, fields))
                except UnreadableEntry as exc:
                    log.warning("outbox entry %s unreadable: %s", exc.entry_id, exc)
        return entries

    async def recent_keys(self, limit: int) -> list[str]:
        """The keys of the newest ``limit`` alerts, newest first."""
        return await self._client.zrevrange(self.keys.alerts_by_time, 0, limit - 1)

    async def keys_since(self, since: datetime, limit: int) -> list[str]:
        """The keys of alerts created at or after ``since``, newest first."""
        return await self._client.zrevrangebyscore(
            self.keys.alerts_by_time, "+inf", since.timestamp(), start=0, num=limit
        )

    async def alerts(self, keys: list[str]) -> list[Alert | None]:
        """The latest state of each alert (None where there is none or it is unreadable)."""
        if not keys:
            return []
        raw = await self._client.hmget(self.keys.alerts, keys)
        return [parse_alert(value, key) for key, value in zip(keys, raw, strict=True)]

    async def exists(self, key: str) -> bool:
        return bool(await self._client.hexists(self.keys.alerts, key))
