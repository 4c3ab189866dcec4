"""Inhibitions, as in Alertmanager: an active source alert holds back matching target alerts.

``inhibit:`` in receivers.yaml lists rules (:class:`rasd.notify.config.InhibitRule`). Every
alert the notifier reads that matches some rule's ``source_matchers`` is recorded as a source
for the longest rule ``duration``; a pending alert is inhibited when, for one rule, it matches
``target_matchers`` and an active source (not itself) matches ``source_matchers`` and shares
every ``equal`` label. The shipped rule holds back the updates of the stories an escalation
counts while the escalation is active: the desk already has the escalation in front of it.

Sources live in Redis, so that every notifier sees the same ones:

- ``<ns>:notify:inhibitors`` — sorted set alert key -> when it stops being a source;
- ``<ns>:notify:inhibitors:alerts`` — hash alert key -> ``{"seen": epoch, "labels": {...}}``
  (the source's label view: all an inhibition compares).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from rasd.keys import RedisKeys
from rasd.models import Alert
from rasd.notify.config import InhibitRule
from rasd.notify.matchers import alert_labels, all_match
from rasd.settings import Settings

Labels = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Source:
    key: str
    seen: float
    labels: Labels


def shares(source: Labels, target: Labels, equal: Sequence[str]) -> bool:
    """Every ``equal`` label has a value in common (an absent label is the empty value)."""
    return all(set(source[name] or ("",)) & set(target[name] or ("",)) for name in equal)


def inhibiting(
    rules: Sequence[InhibitRule], alert: Alert, sources: Sequence[Source], now: float
) -> Source | None:
    """The first active source that inhibits ``alert``, if any."""
    labels = alert_labels(alert)
    for rule in rules:
        if not all_match(rule.target_matchers, labels):
            continue
        for source in sources:
            if (
                source.key != alert.key
                and now < source.seen + rule.duration.total_seconds()
                and all_match(rule.source_matchers, source.labels)
                and shares(source.labels, labels, rule.equal)
            ):
                return source
    return None


class Inhibitor:
    def __init__(self, redis, settings: Settings, rules: Sequence[InhibitRule]) -> None:
        self.redis = redis
        self.rules = tuple(rules)
        keys = RedisKeys(settings)
        self.index, self.alerts = keys.notify_inhibitors, keys.notify_inhibitor_alerts
        self.longest = max((r.duration.total_seconds() for r in self.rules), default=0.0)

    def register(self, pipe, alerts: Sequence[Alert], now: float) -> None:
        """Queue on ``pipe`` the alerts that can inhibit others, and drop expired ones."""
        sources = [
            a
            for a in alerts
            if any(all_match(r.source_matchers, alert_labels(a)) for r in self.rules)
        ]
        for alert in sources:
            body = {"seen": now, "labels": alert_labels(alert)}
            pipe.hset(self.alerts, alert.key, json.dumps(body, ensure_ascii=False))
            pipe.zadd(self.index, {alert.key: now + self.longest})

    async def active(self, now: float) -> list[Source]:
        if not self.rules:
            return []
        expired = await self.redis.zrangebyscore(self.index, "-inf", now)
        if expired:
            pipe = self.redis.pipeline(transaction=True)
            pipe.zrem(self.index, *expired)
            pipe.hdel(self.alerts, *expired)
            await pipe.execute()
        keys = await self.redis.zrangebyscore(self.index, now, "+inf")
        if not keys:
            return []
        found = []
        for raw in await self.redis.hmget(self.alerts, keys):
            if raw is None:
                continue
            body = json.loads(raw)
            labels = {name: tuple(values) for name, values in body["labels"].items()}
            found.append(Source(labels["key"][0], float(body["seen"]), labels))
        return found
