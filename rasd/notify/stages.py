"""The notification pipeline a due group goes through, as in Alertmanager's MultiStage:

    silence -> inhibit -> dedup -> cooldown -> send (retry policy) -> record

Grouping comes before it (alerts wait in their group for group_wait / group_interval, see
:mod:`rasd.notify.ledger`). Each stage takes the :class:`Notification`, removes the alerts it
stops (saying why) or decides the delivery; the record stage writes it all at once.

>>> pipeline = Pipeline([SilenceStage(store.active), InhibitStage(inhibitor.active, rules),
...                      DedupStage(ledger), CooldownStage(ledger),
...                      SendStage(receivers, disabled, policy), RecordStage(ledger)])
>>> flush = await pipeline(group, now=time.time())
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rasd.models import Alert
from rasd.notify.config import InhibitRule
from rasd.notify.history import DeadLetter, Outcome, attempt
from rasd.notify.inhibit import Source, inhibiting
from rasd.notify.ledger import Flush, Group, Ledger, Sent
from rasd.notify.receivers import Receiver
from rasd.notify.silences import Silence, silenced_by
from rasd.outbox import is_newer


@dataclass
class Notification:
    group: Group
    now: float
    pending: list[Alert]
    flush: Flush
    consumer: str | None = None
    # The last message about each pending story to this receiver, read once per flush (the
    # dedup and cooldown stages both need it).
    _sent: dict[str, Sent] | None = None

    async def last_sent(self, ledger: Ledger) -> dict[str, Sent]:
        if self._sent is None:
            self._sent = await ledger.last_sent(self.group.receiver, self.pending)
        return self._sent

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def entry(self, outcome: Outcome, alerts: Sequence[Alert], **fields):
        return attempt(
            outcome,
            alerts=tuple(a.key for a in alerts),
            receiver=self.group.receiver,
            route=self.group.route,
            group=self.group.id,
            consumer=self.consumer,
            at=self.when,
            **fields,
        )

    def skip(self, alert: Alert, outcome: Outcome, **fields) -> None:
        """Take ``alert`` out of this delivery for good, recording why."""
        self.pending.remove(alert)
        self.flush.handled.append(alert.key)
        self.flush.attempts.append(self.entry(outcome, [alert], **fields))


class SilenceStage:
    def __init__(self, silences: Callable[[], Awaitable[list[Silence]]]) -> None:
        self.silences = silences

    async def __call__(self, n: Notification) -> None:
        if not n.pending:
            return
        silences = await self.silences()
        for alert in list(n.pending):
            silence = silenced_by(alert, silences, n.when)
            if silence is not None:
                n.skip(alert, "silenced", silence=silence.id)


class InhibitStage:
    """Alerts an active source alert inhibits (see :mod:`rasd.notify.inhibit`) are not sent."""

    def __init__(
        self, sources: Callable[[float], Awaitable[list[Source]]], rules: Sequence[InhibitRule]
    ) -> None:
        self.sources = sources
        self.rules = rules

    async def __call__(self, n: Notification) -> None:
        if not n.pending or not self.rules:
            return
        sources = await self.sources(n.now)
        for alert in list(n.pending):
            source = inhibiting(self.rules, alert, sources, n.now)
            if source is not None:
                n.skip(alert, "inhibited", inhibited_by=source.key)


class DedupStage:
    """A revision of a story this receiver already got is not resent: this is what makes a
    re-read outbox entry or a taken-over group harmless."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def __call__(self, n: Notification) -> None:
        sent = await n.last_sent(self.ledger)
        for alert in list(n.pending):
            last = sent.get(alert.key)
            if last is not None and not is_newer(n.group.revision(alert), than=last.revision):
                n.skip(alert, "duplicate")


class CooldownStage:
    """Pacing per event: an update of a story this receiver already got waits out the rule's
    ``cooldown`` (else the route's ``repeat_interval``) since that message, unless its
    severity rose. A new story is never held back by another story of the same rule."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def __call__(self, n: Notification) -> None:
        sent = await n.last_sent(self.ledger)
        for alert in list(n.pending):
            last = sent.get(alert.key)
            if last is None or alert.severity.rank > last.severity:
                continue
            quiet = alert.cooldown_seconds
            quiet = n.group.repeat_interval if quiet is None else quiet
            if n.now - last.at < quiet:
                n.skip(alert, "cooldown")


@dataclass
class RetryPolicy:
    max_attempts: int
    initial: float
    maximum: float
    max_retry_after: float
    random: Callable[[], float] = field(default=random.random)

    def delay(self, attempt_number: int, retry_after: float | None) -> float:
        """Seconds before the next attempt: the server's Retry-After if it gave one (capped),
        else exponential backoff with "equal jitter" (half fixed, half random)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        base = min(self.maximum, self.initial * 2 ** (attempt_number - 1))
        return base / 2 + self.random() * base / 2


class SendStage:
    def __init__(
        self,
        receivers: Mapping[str, Receiver],
        disabled: Mapping[str, str],
        policy: RetryPolicy,
    ) -> None:
        self.receivers = receivers
        self.disabled = disabled
        self.policy = policy

    def _dead(self, n: Notification, reason: str, attempts: int, **fields) -> None:
        flush = n.flush
        flush.mode = "done"
        flush.handled.extend(a.key for a in n.pending)
        flush.dead = DeadLetter(
            reason=reason,
            receiver=n.group.receiver,
            group=n.group.id,
            attempts=attempts,
            alerts=tuple(n.pending),
            at=n.when,
        )
        flush.attempts.append(n.entry("dead", n.pending, error=reason, attempt=attempts, **fields))

    async def __call__(self, n: Notification) -> None:
        if not n.pending:
            return
        name = n.group.receiver
        receiver = self.receivers.get(name)
        if receiver is None:
            if name in self.disabled:
                for alert in list(n.pending):
                    n.skip(alert, "disabled", error=self.disabled[name])
            else:
                self._dead(n, f"unknown receiver {name!r}", 0)
            return
        number = n.group.attempts + 1
        retry, error = await receiver.notify(n.pending)
        flush = n.flush
        if error is None:
            flush.mode = "sent"
            flush.sent = list(n.pending)
            flush.handled.extend(a.key for a in n.pending)
            flush.attempts.append(n.entry("sent", n.pending, attempt=number))
        elif retry and number < self.policy.max_attempts:
            delay = self.policy.delay(number, error.retry_after)
            flush.mode = "retry"
            flush.retry_at = n.now + delay
            flush.attempts.append(
                n.entry(
                    "retry",
                    n.pending,
                    attempt=number,
                    error=str(error),
                    status=error.status,
                    retry_in=round(delay, 3),
                )
            )
        else:
            why = "permanent failure" if not retry else f"gave up after {number} attempts"
            self._dead(n, f"{why}: {error}", number, status=error.status)


class RecordStage:
    """``retry`` (the notifier's Redis-outage wait) keeps trying to record a delivery that
    was made: forgetting it would send it again when the group's lease runs out."""

    def __init__(self, ledger: Ledger, retry=None) -> None:
        self.ledger = ledger
        self.retry = retry

    async def __call__(self, n: Notification) -> None:
        if self.retry is None:
            await self.ledger.record(n.flush)
        else:
            await self.retry(lambda: self.ledger.record(n.flush))


class Pipeline:
    def __init__(self, stages: Sequence[Callable[[Notification], Awaitable[None]]]) -> None:
        self.stages = stages

    async def __call__(self, group: Group, now: float, consumer: str | None = None) -> Flush:
        n = Notification(group, now, list(group.alerts), Flush(group, now, "done"), consumer)
        for stage in self.stages:
            await stage(n)
        return n.flush
