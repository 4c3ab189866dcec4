"""Notify's state in Redis: alert groups waiting to be sent, what was sent, the log.

Groups live in Redis, not in a notifier's memory, so that the alerts of one burst join one
group whichever notifier reads them, and a notifier that dies loses nothing:

- ``<ns>:notify:group:<id>:alerts`` — hash alert key -> Alert JSON, the alerts not yet sent,
  and ``...:revisions`` — hash alert key -> the outbox revision waiting;
- ``<ns>:notify:group:<id>`` — hash: receiver, route, labels, intervals, attempts,
  last_flush and last_severity (of the group's last message), lease, wanted, arrived_rank;
- ``<ns>:notify:due`` — sorted set group id -> when it is next due (epoch seconds). A notifier
  *claims* due groups by moving their score a lease ahead (and noting the lease in the group),
  so no other one takes them while it sends; if it dies, the lease runs out and another
  notifier takes the group over.
- ``<ns>:notify:sent:<receiver>:<alert key>`` — the last message about that story there
  (``{"at", "revision", "severity"}``), read by the dedup and cooldown stages: events are
  paced per story, not per rule.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from rasd.keys import RedisKeys
from rasd.models import Alert
from rasd.notify.history import ATTEMPT_FIELD, DEAD_FIELD, Attempt, DeadLetter
from rasd.notify.routing import ResolvedRoute
from rasd.outbox import IS_NEWER_LUA
from rasd.settings import Settings

# Joins an alert to its group and says when the group is due. Idempotent: an outbox entry
# read twice, or a revision older than the one waiting, changes nothing.
#   a new story (revision 0)             -> group_wait from now
#   an update of a story not waiting     -> group_wait, and group_interval after the last message
#   an update of a story still waiting   -> replaces it ("folded"), keeps the group's time
#   worse than the group's last message  -> at once
# While a notifier holds the group (its lease), the wanted time and the worst severity that
# arrived are kept for _FINISH instead.
_ENQUEUE = (
    IS_NEWER_LUA
    + """
local alerts, meta, due, revs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local gid, key, body = ARGV[1], ARGV[2], ARGV[3]
local revision, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local wait, interval, rank = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[12])
local outcome
local held = redis.call('HGET', revs, key)
held = held and tonumber(held) or nil
if not is_newer(revision, held) then return 'queued' end
if held then
  outcome = 'folded'
elseif revision > 0 then
  outcome = 'update'
else
  outcome = 'queued'
end
redis.call('HSET', alerts, key, body)
redis.call('HSET', revs, key, ARGV[4])
redis.call('HSET', meta, 'receiver', ARGV[8], 'route', ARGV[9], 'labels', ARGV[10],
           'group_interval', ARGV[7], 'repeat_interval', ARGV[11])
redis.call('HSETNX', meta, 'attempts', 0)
redis.call('PERSIST', meta)
local last = tonumber(redis.call('HGET', meta, 'last_flush') or '-1')
local sent_rank = tonumber(redis.call('HGET', meta, 'last_severity') or '-1')
local when = nil
if last >= 0 and rank > sent_rank then
  when = now
elseif outcome == 'update' and last >= 0 then
  when = math.max(now + wait, last + interval)
elseif outcome ~= 'folded' then
  when = now + wait
end
local lease = tonumber(redis.call('HGET', meta, 'lease') or '0')
if lease > now then
  -- Being sent: _FINISH schedules what arrived, at once if it is worse than that message.
  local arrived = tonumber(redis.call('HGET', meta, 'arrived_rank') or '-1')
  redis.call('HSET', meta, 'arrived_rank', math.max(arrived, rank))
  if when then
    local wanted = tonumber(redis.call('HGET', meta, 'wanted') or tostring(when))
    redis.call('HSET', meta, 'wanted', math.min(wanted, when))
  end
elseif when then
  redis.call('ZADD', due, 'LT', when, gid)
end
return outcome
"""
)

_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id)
  redis.call('HSET', ARGV[4] .. id, 'lease', ARGV[2])
end
return ids
"""

# Ends a flush: removes the alerts it handled (unless a newer revision replaced one meanwhile),
# then either schedules the retry, or schedules what arrived during the flush.
_FINISH = """
local alerts, meta, due, revs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local gid, now, mode = ARGV[1], tonumber(ARGV[2]), ARGV[3]
for i = 7, #ARGV, 2 do
  if redis.call('HGET', revs, ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', alerts, ARGV[i])
    redis.call('HDEL', revs, ARGV[i])
  end
end
local wanted = redis.call('HGET', meta, 'wanted')
local arrived = tonumber(redis.call('HGET', meta, 'arrived_rank') or '-1')
redis.call('HDEL', meta, 'lease', 'wanted', 'arrived_rank')
if mode == 'retry' then
  redis.call('HSET', meta, 'attempts', ARGV[5])
  redis.call('ZADD', due, tonumber(ARGV[4]), gid)
  return 0
end
redis.call('HSET', meta, 'attempts', 0)
if mode == 'sent' then redis.call('HSET', meta, 'last_flush', now, 'last_severity', ARGV[6]) end
local interval = tonumber(redis.call('HGET', meta, 'group_interval') or '0')
if redis.call('HLEN', alerts) > 0 then
  local when
  local last_rank = tonumber(redis.call('HGET', meta, 'last_severity') or '-1')
  if last_rank >= 0 and arrived > last_rank then
    when = now
  elseif wanted then
    when = tonumber(wanted)
  else
    when = tonumber(redis.call('HGET', meta, 'last_flush') or now) + interval
  end
  redis.call('ZADD', due, math.max(now, when), gid)
else
  redis.call('ZREM', due, gid)
  -- Kept a while so that a later alert is compared with this message's severity.
  local keep = math.max(interval, tonumber(redis.call('HGET', meta, 'repeat_interval') or '0'))
  redis.call('PEXPIRE', meta, math.max(1, math.ceil(keep * 1000)))
end
return 1
"""
# A story's last message to a receiver is remembered this long at least (the dedup and the
# per-story cooldown read it); longer when the story's quiet period is longer.
SENT_TTL = 7 * 86400


@dataclass(frozen=True)
class Sent:
    """The last message about one story (alert key) to one receiver."""

    at: float
    revision: int
    severity: int  # Severity.rank


@dataclass
class Group:
    id: str
    receiver: str
    route: str
    labels: dict[str, str]
    group_interval: float
    repeat_interval: float
    attempts: int
    alerts: list[Alert]
    # The revision of each waiting alert (key -> revision), as the outbox numbered them.
    revisions: dict[str, int] = field(default_factory=dict)

    def revision(self, alert: Alert) -> int:
        return self.revisions.get(alert.key, 0)


@dataclass
class Flush:
    """What the record stage writes, atomically, at the end of a flush."""

    group: Group
    now: float
    mode: str  # "sent", "retry" or "done" (nothing sent: all skipped, or dead-lettered)
    handled: list[str] = field(default_factory=list)  # alert keys leaving the group
    sent: list[Alert] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    dead: DeadLetter | None = None
    retry_at: float | None = None


class Ledger:
    def __init__(
        self,
        redis,
        settings: Settings,
        *,
        history: int = 10_000,
        dead_letters: int = 10_000,
        status_ttl: float = 14 * 86400,
    ) -> None:
        self.redis = redis
        self.history = history
        self.dead_letters = dead_letters
        self.status_ttl = max(1, math.ceil(status_ttl))
        self.keys = RedisKeys(settings)
        self._enqueue = redis.register_script(_ENQUEUE)
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)

    def _keys(self, gid: str) -> list[str]:
        k = self.keys
        return [
            k.notify_group_alerts(gid),
            k.notify_group(gid),
            k.notify_due,
            k.notify_group_revisions(gid),
        ]

    async def enqueue(
        self, pipe, route: ResolvedRoute, alert: Alert, revision: int, now: float
    ) -> None:
        """Queue the enqueue script on ``pipe`` (a transaction with the outbox XACK)."""
        gid = route.group_id(alert)
        await self._enqueue(
            keys=self._keys(gid),
            args=[
                gid,
                alert.key,
                alert.model_dump_json(),
                revision,
                now,
                route.group_wait.total_seconds(),
                route.group_interval.total_seconds(),
                route.receiver,
                route.path,
                json.dumps(route.group_labels(alert), ensure_ascii=False),
                route.repeat_interval.total_seconds(),
                alert.severity.rank,
            ],
            client=pipe,
        )

    async def claim(self, now: float, lease: float, count: int) -> list[str]:
        prefix = self.keys.notify_group_prefix
        return await self._claim(
            keys=[self.keys.notify_due], args=[now, now + lease, count, prefix]
        )

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(self.keys.notify_due, 0, 0, withscores=True)
        return first[0][1] if first else None

    async def load(self, gid: str) -> Group:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(self.keys.notify_group(gid))
        pipe.hgetall(self.keys.notify_group_alerts(gid))
        pipe.hgetall(self.keys.notify_group_revisions(gid))
        meta, alerts, revisions = await pipe.execute()
        return Group(
            id=gid,
            receiver=meta.get("receiver", ""),
            route=meta.get("route", ""),
            labels=json.loads(meta.get("labels", "{}")),
            group_interval=float(meta.get("group_interval", 0)),
            repeat_interval=float(meta.get("repeat_interval", 0)),
            attempts=int(meta.get("attempts", 0)),
            alerts=[Alert.model_validate_json(v) for v in alerts.values()],
            revisions={k: int(v) for k, v in revisions.items()},
        )

    async def last_sent(self, receiver: str, alerts: Sequence[Alert]) -> dict[str, Sent]:
        """Alert key -> the last message about it to ``receiver``, for those there was one."""
        keys = list(dict.fromkeys(a.key for a in alerts))
        if not keys:
            return {}
        found = await self.redis.mget([self.keys.notify_sent(receiver, k) for k in keys])
        return {k: Sent(**json.loads(v)) for k, v in zip(keys, found, strict=True) if v is not None}

    def log(self, pipe, entry: Attempt) -> None:
        pipe.xadd(
            self.keys.notify_attempts,
            {ATTEMPT_FIELD: entry.model_dump_json()},
            maxlen=self.history,
            approximate=True,
        )
        if entry.receiver:
            for key in entry.alerts:
                pipe.hset(self.keys.notify_status(key), entry.receiver, entry.model_dump_json())
                pipe.expire(self.keys.notify_status(key), self.status_ttl)

    def dead_letter(self, pipe, dead: DeadLetter) -> None:
        pipe.xadd(
            self.keys.notify_dead,
            {DEAD_FIELD: dead.model_dump_json()},
            maxlen=self.dead_letters,
            approximate=True,
        )

    async def record(self, flush: Flush) -> None:
        """Everything a flush decided, in one MULTI/EXEC: the sent markers and the group's
        update land together or not at all (see "Delivery guarantee" in ARCHITECTURE.md)."""
        group = flush.group
        pipe = self.redis.pipeline(transaction=True)
        for alert in flush.sent:
            quiet = max(group.repeat_interval, alert.cooldown_seconds or 0)
            rank = alert.severity.rank
            sent = {"at": flush.now, "revision": group.revision(alert), "severity": rank}
            pipe.set(
                self.keys.notify_sent(group.receiver, alert.key),
                json.dumps(sent),
                px=math.ceil(max(SENT_TTL, quiet) * 1000),
            )
        for entry in flush.attempts:
            self.log(pipe, entry)
        if flush.dead is not None:
            self.dead_letter(pipe, flush.dead)
        retry_at = flush.retry_at if flush.mode == "retry" else 0
        rank = max((a.severity.rank for a in flush.sent), default=-1)
        handled = [part for key in flush.handled for part in (key, group.revisions.get(key, 0))]
        args = [group.id, flush.now, flush.mode, retry_at, group.attempts + 1, rank, *handled]
        await self._finish(
            keys=self._keys(group.id),
            args=args,
            client=pipe,
        )
        await pipe.execute()
