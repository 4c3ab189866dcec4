"""Notify's state in Redis: alert groups waiting to be sent, what was sent, the log.

Groups live in Redis, not in a notifier's memory, so that the alerts of one burst join one
group whichever notifier reads them, and a notifier that dies loses nothing:

- ``<ns>:notify:group:<id>:alerts`` — hash alert key -> Alert JSON, the alerts not yet sent;
- ``<ns>:notify:group:<id>`` — hash: receiver, route, labels, intervals, attempts, last_flush;
- ``<ns>:notify:due`` — sorted set group id -> when it is next due (epoch seconds). A notifier
  *claims* due groups by moving their score a lease ahead, so no other one takes them while
  it sends; if it dies, the lease runs out and another notifier takes the group over.
- ``<ns>:notify:sent:<receiver>:<alert key>`` — delivered (TTL: repeat_interval), read by
  the dedup stage; ``<ns>:notify:rule-sent:<receiver>:<rule>`` — the rule's last message
  there (TTL: its cooldown), read by the cooldown stage.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from rasd.models import Alert
from rasd.notify.history import Attempt, DeadLetter, NotifyKeys
from rasd.notify.routing import ResolvedRoute
from rasd.settings import Settings

# Joins an alert to its group; idempotent, so an outbox entry read twice is harmless.
_ENQUEUE = """
local alerts, meta, due = KEYS[1], KEYS[2], KEYS[3]
local gid, key, body = ARGV[1], ARGV[2], ARGV[3]
local revision, now = tonumber(ARGV[4]), tonumber(ARGV[5])
if revision > 0 then
  if redis.call('HEXISTS', alerts, key) == 1 then
    redis.call('HSET', alerts, key, body)
    return 'folded'
  end
  return 'update'
end
if redis.call('HSETNX', alerts, key, body) == 0 then return 'queued' end
redis.call('HSET', meta, 'receiver', ARGV[8], 'route', ARGV[9], 'labels', ARGV[10],
           'group_interval', ARGV[7], 'repeat_interval', ARGV[11])
redis.call('HSETNX', meta, 'attempts', 0)
redis.call('PERSIST', meta)
local last = redis.call('HGET', meta, 'last_flush')
local when
if last then
  when = math.max(now, tonumber(last) + tonumber(ARGV[7]))
else
  when = now + tonumber(ARGV[6])
end
redis.call('ZADD', due, 'NX', when, gid)
return 'queued'
"""

_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return ids
"""

# Ends a flush: either schedules the retry, or removes what was handled and schedules the
# alerts that arrived meanwhile for group_interval after this message.
_FINISH = """
local alerts, meta, due = KEYS[1], KEYS[2], KEYS[3]
local gid, now, mode = ARGV[1], tonumber(ARGV[2]), ARGV[3]
for i = 6, #ARGV do redis.call('HDEL', alerts, ARGV[i]) end
if mode == 'retry' then
  redis.call('HSET', meta, 'attempts', ARGV[5])
  redis.call('ZADD', due, tonumber(ARGV[4]), gid)
  return 0
end
redis.call('HSET', meta, 'attempts', 0)
if mode == 'sent' then redis.call('HSET', meta, 'last_flush', now) end
local interval = tonumber(redis.call('HGET', meta, 'group_interval') or '0')
if redis.call('HLEN', alerts) > 0 then
  local last = tonumber(redis.call('HGET', meta, 'last_flush') or now)
  redis.call('ZADD', due, math.max(now, last + interval), gid)
else
  redis.call('ZREM', due, gid)
  redis.call('PEXPIRE', meta, math.max(1, math.ceil(interval * 1000)))
end
return 1
"""


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


@dataclass
class Flush:
    """What the record stage writes, atomically, at the end of a flush."""

    group: Group
    now: float
    mode: str  # "sent", "retry" or "done" (nothing sent: all skipped, or dead-lettered)
    handled: list[str] = field(default_factory=list)  # alert keys leaving the group
    sent: list[Alert] = field(default_factory=list)
    cooldowns: dict[str, float] = field(default_factory=dict)  # rule -> cooldown seconds
    attempts: list[Attempt] = field(default_factory=list)
    dead: DeadLetter | None = None
    retry_at: float | None = None


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


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
        self.settings = settings
        self.history = history
        self.dead_letters = dead_letters
        self.status_ttl = max(1, math.ceil(status_ttl))
        self.keys = NotifyKeys(settings)
        self.due = settings.key("notify", "due")
        self._enqueue = redis.register_script(_ENQUEUE)
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)

    def _group(self, gid: str) -> str:
        return self.settings.key("notify", "group", gid)

    def _sent(self, receiver: str, alert_key: str) -> str:
        return self.settings.key("notify", "sent", receiver, alert_key)

    def _rule_sent(self, receiver: str, rule: str) -> str:
        return self.settings.key("notify", "rule-sent", receiver, rule)

    async def enqueue(
        self, pipe, route: ResolvedRoute, alert: Alert, revision: int, now: float
    ) -> None:
        """Queue the enqueue script on ``pipe`` (a transaction with the outbox XACK)."""
        gid = route.group_id(alert)
        await self._enqueue(
            keys=[f"{self._group(gid)}:alerts", self._group(gid), self.due],
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
            ],
            client=pipe,
        )

    async def claim(self, now: float, lease: float, count: int) -> list[str]:
        ids = await self._claim(keys=[self.due], args=[now, now + lease, count])
        return [_s(i) for i in ids]

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(self.due, 0, 0, withscores=True)
        return first[0][1] if first else None

    async def load(self, gid: str) -> Group:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(self._group(gid))
        pipe.hgetall(f"{self._group(gid)}:alerts")
        meta, alerts = await pipe.execute()
        meta = {_s(k): _s(v) for k, v in meta.items()}
        return Group(
            id=gid,
            receiver=meta.get("receiver", ""),
            route=meta.get("route", ""),
            labels=json.loads(meta.get("labels", "{}")),
            group_interval=float(meta.get("group_interval", 0)),
            repeat_interval=float(meta.get("repeat_interval", 0)),
            attempts=int(meta.get("attempts", 0)),
            alerts=[Alert.model_validate_json(v) for v in alerts.values()],
        )

    async def already_sent(self, receiver: str, alerts: Sequence[Alert]) -> set[str]:
        if not alerts:
            return set()
        found = await self.redis.mget([self._sent(receiver, a.key) for a in alerts])
        return {a.key for a, hit in zip(alerts, found, strict=True) if hit is not None}

    async def rule_last_sent(self, receiver: str, rules: Sequence[str]) -> dict[str, float]:
        rules = list(dict.fromkeys(rules))
        if not rules:
            return {}
        found = await self.redis.mget([self._rule_sent(receiver, r) for r in rules])
        return {r: float(v) for r, v in zip(rules, found, strict=True) if v is not None}

    def log(self, pipe, entry: Attempt) -> None:
        pipe.xadd(
            self.keys.attempts,
            {"attempt": entry.model_dump_json()},
            maxlen=self.history,
            approximate=True,
        )
        if entry.receiver:
            for key in entry.alerts:
                pipe.hset(self.keys.status(key), entry.receiver, entry.model_dump_json())
                pipe.expire(self.keys.status(key), self.status_ttl)

    def dead_letter(self, pipe, dead: DeadLetter) -> None:
        pipe.xadd(
            self.keys.dead,
            {"dead": dead.model_dump_json()},
            maxlen=self.dead_letters,
            approximate=True,
        )

    async def record(self, flush: Flush) -> None:
        """Everything a flush decided, in one MULTI/EXEC: the sent markers and the group's
        update land together or not at all (see "Delivery guarantee" in ARCHITECTURE.md)."""
        group = flush.group
        pipe = self.redis.pipeline(transaction=True)
        repeat_ms = max(1, math.ceil(group.repeat_interval * 1000))
        for alert in flush.sent:
            pipe.set(self._sent(group.receiver, alert.key), flush.now, px=repeat_ms)
        for rule, seconds in flush.cooldowns.items():
            pipe.set(self._rule_sent(group.receiver, rule), flush.now, px=math.ceil(seconds * 1000))
        for entry in flush.attempts:
            self.log(pipe, entry)
        if flush.dead is not None:
            self.dead_letter(pipe, flush.dead)
        retry_at = flush.retry_at if flush.mode == "retry" else 0
        args = [group.id, flush.now, flush.mode, retry_at, group.attempts + 1, *flush.handled]
        await self._finish(
            keys=[f"{self._group(group.id)}:alerts", self._group(group.id), self.due],
            args=args,
            client=pipe,
        )
        await pipe.execute()
