"""``rasd notify run``: read the outbox, route and group alerts, flush due groups.

Several notifiers share one Redis consumer group on the outbox stream. Reading an entry only
*routes* it: its alert joins a group per receiver in Redis and the entry is acknowledged in
the same transaction. Separately, every notifier claims groups that are due and runs them
through the pipeline (:mod:`rasd.notify.stages`). Entries read by a notifier that died
before acknowledging them are taken over with XAUTOCLAIM after ``delivery.reclaim_idle``.

A Redis outage stops nothing: both loops wait with backoff (:class:`rasd.outage.RedisOutage`
logs it, sets ``rasd_notify_redis_up`` and tells `rasd dev status`) and go on where they were;
everything they work from is in Redis, so what was waiting is delivered once it is back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry
from redis.exceptions import ResponseError

from rasd.connections import async_redis_client
from rasd.keys import RedisKeys
from rasd.notify.config import NotifyConfigBase, build_receivers
from rasd.notify.history import DeadLetter, attempt
from rasd.notify.inhibit import Inhibitor
from rasd.notify.ledger import Ledger
from rasd.notify.messages import common as messages
from rasd.notify.routing import Router
from rasd.notify.silences import Silence, SilenceStore
from rasd.notify.stages import (
    CooldownStage,
    DedupStage,
    InhibitStage,
    Pipeline,
    RecordStage,
    RetryPolicy,
    SendStage,
    SilenceStage,
)
from rasd.outage import REDIS_DOWN, RedisOutage
from rasd.outbox import UnreadableEntry, parse_entry
from rasd.procstatus import StatusFile
from rasd.settings import Settings

log = logging.getLogger("rasd.notify")


def default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Notifier:
    def __init__(
        self,
        settings: Settings,
        config: NotifyConfigBase,
        *,
        consumer: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.delivery = config.delivery
        self.consumer = consumer or default_consumer()
        self.outbox = RedisKeys(settings).outbox
        self.group_name = settings.group("notify")
        self.redis = async_redis_client(settings)
        self.ledger = Ledger(
            self.redis,
            settings,
            history=self.delivery.history,
            dead_letters=self.delivery.dead_letters,
            status_ttl=self.delivery.status_ttl.total_seconds(),
        )
        self.silences = SilenceStore(self.redis, settings)
        self.inhibitor = Inhibitor(self.redis, settings, config.inhibit)
        self.router = Router(config.route)
        self.receivers, self.disabled = build_receivers(config, os.environ if env is None else env)
        # Its own registry: a process (a test) may hold several notifiers.
        self.metrics = CollectorRegistry()
        self.status = StatusFile(settings, "notify")
        self.outage = RedisOutage("notify", log, status=self.status, registry=self.metrics)
        d = self.delivery
        policy = RetryPolicy(
            max_attempts=d.max_attempts,
            initial=d.backoff_initial.total_seconds(),
            maximum=d.backoff_max.total_seconds(),
            max_retry_after=d.max_retry_after.total_seconds(),
        )
        self.pipeline = Pipeline(
            [
                SilenceStage(self._round_silences),
                InhibitStage(self.inhibitor.active, config.inhibit),
                DedupStage(self.ledger),
                CooldownStage(self.ledger),
                SendStage(self.receivers, self.disabled, policy),
                RecordStage(self.ledger, retry=self.outage.call),
            ]
        )
        messages.preload()
        self._last_reclaim = 0.0
        self._silences: list[Silence] = []

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.outbox, self.group_name, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
            return
        log.info("consumer group %s created on %s", self.group_name, self.outbox)

    # Reading the outbox ---------------------------------------------------------------

    async def ingest(self, entries: list) -> int:
        """Route a batch of outbox entries: each alert joins its groups, and the entries are
        acknowledged, in one transaction."""
        now = time.time()
        routed = []
        for entry_id, raw in entries:
            if not raw:  # deleted from the stream while pending: nothing to deliver
                continue
            try:
                entry = parse_entry(entry_id, raw)
            except UnreadableEntry as exc:
                await self._invalid(exc)
                continue
            routed.append((entry.alert, self.router.route(entry.alert), entry.revision))
        if not entries:
            return 0
        pipe = self.redis.pipeline(transaction=True)
        for alert, routes, revision in routed:
            for route in routes:
                await self.ledger.enqueue(pipe, route, alert, revision, now)
        self.inhibitor.register(pipe, [alert for alert, _, _ in routed], now)
        pipe.xack(self.outbox, self.group_name, *(entry_id for entry_id, _ in entries))
        results = iter(await pipe.execute())
        # The log is for people; it is written after the transaction that matters.
        pipe = self.redis.pipeline(transaction=False)
        for alert, routes, _ in routed:
            for route in routes:
                entry = attempt(
                    next(results),
                    alerts=(alert.key,),
                    receiver=route.receiver,
                    route=route.path,
                    group=route.group_id(alert),
                    consumer=self.consumer,
                )
                self.ledger.log(pipe, entry)
        await pipe.execute()
        return len(routed)

    async def _invalid(self, exc: UnreadableEntry) -> None:
        log.warning("outbox entry %s unreadable: %s", exc.entry_id, exc)
        pipe = self.redis.pipeline(transaction=True)
        reason = f"unreadable outbox entry: {str(exc)[:300]}"
        entry = attempt("invalid", error=reason, consumer=self.consumer)
        self.ledger.dead_letter(pipe, DeadLetter(reason=reason, raw=exc.fields, at=entry.at))
        self.ledger.log(pipe, entry)
        pipe.xack(self.outbox, self.group_name, exc.entry_id)
        await pipe.execute()

    async def reclaim(self) -> int:
        """Take over entries another notifier read but did not acknowledge in time."""
        idle_ms = int(self.delivery.reclaim_idle.total_seconds() * 1000)
        start, count = "0-0", 0
        for _ in range(100):  # bounded: each round takes up to `batch` entries
            start, entries, *_ = await self.redis.xautoclaim(
                self.outbox,
                self.group_name,
                self.consumer,
                idle_ms,
                start_id=start,
                count=self.delivery.batch,
            )
            count += await self.ingest(entries)
            if start == "0-0":
                break
        await self._forget_gone_consumers(idle_ms * 10)
        return count

    async def _forget_gone_consumers(self, idle_ms: int) -> None:
        """Drop consumers (notifiers that are gone) with nothing pending, so the group's
        consumer list does not grow with every restart. A live one is simply re-created by
        its next read."""
        for consumer in await self.redis.xinfo_consumers(self.outbox, self.group_name):
            name = consumer["name"]
            if name != self.consumer and consumer["pending"] == 0 and consumer["idle"] > idle_ms:
                await self.redis.xgroup_delconsumer(self.outbox, self.group_name, name)

    async def consume_once(self, block_ms: int) -> int:
        now = time.monotonic()
        count = 0
        if now - self._last_reclaim >= self.delivery.reclaim_idle.total_seconds() / 2:
            self._last_reclaim = now
            count += await self.reclaim()
        response = await self.redis.xreadgroup(
            self.group_name,
            self.consumer,
            {self.outbox: ">"},
            count=self.delivery.batch,
            block=block_ms,
        )
        for _stream, entries in response or []:
            count += await self.ingest(entries)
        return count

    # Flushing groups ------------------------------------------------------------------

    async def flush_group(self, gid: str) -> None:
        try:
            group = await self.ledger.load(gid)
            flush = await self.pipeline(group, time.time(), self.consumer)
        except REDIS_DOWN as exc:
            # Nothing was sent (a sent delivery is recorded by retrying until Redis is
            # back): the group is flushed when its lease runs out.
            self.outage.failed(exc)
            return
        except Exception:
            # The group keeps its lease; when the lease runs out it is tried again, here or
            # by another notifier. One bad group must not stop the others.
            log.exception("flushing group %s failed", gid)
            return
        if flush.mode == "retry":
            log.info("group %s to %s: retry at %.1f", gid, group.receiver, flush.retry_at)
        elif flush.dead is not None:
            log.warning("group %s to %s: dead letter: %s", gid, group.receiver, flush.dead.reason)

    async def _round_silences(self) -> list[Silence]:
        return self._silences

    async def claim(self, room: int) -> list[asyncio.Task]:
        """Claim up to ``room`` due groups and start flushing each; the started tasks."""
        lease = self.delivery.lease.total_seconds()
        ids = await self.ledger.claim(time.time(), lease, room)
        if not ids:
            return []
        # Read once for all the groups claimed together.
        self._silences = await self.silences.all()
        return [asyncio.create_task(self.flush_group(gid), name=f"flush-{gid}") for gid in ids]

    # Running --------------------------------------------------------------------------

    async def _consume_loop(self, stop: asyncio.Event) -> None:
        block_ms = max(1, int(self.delivery.poll_interval.total_seconds() * 1000))
        while not stop.is_set():
            try:
                await self.consume_once(block_ms)
            except REDIS_DOWN as exc:
                await self.outage.pause(exc, stop)
                continue
            except ResponseError as exc:
                if not str(exc).startswith(("NOGROUP", "UNBLOCKED")):
                    raise
                # The stream and its group are gone (Redis came back without its data, or
                # the key was deleted while we waited on it): start afresh.
                log.warning("consumer group %s is gone; creating it again", self.group_name)
                try:
                    await self.ensure_group()
                except REDIS_DOWN as down:
                    await self.outage.pause(down, stop)
                continue
            self.outage.recovered()

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        """Keep up to ``delivery.batch`` groups in flight: a slow receiver holds only its own
        groups, never the others' (no waiting for a whole round to finish)."""
        poll = self.delivery.poll_interval.total_seconds()
        inflight: set[asyncio.Task] = set()
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                room = self.delivery.batch - len(inflight)
                try:
                    if room > 0:
                        inflight.update(await self.claim(room))
                    next_due = await self.ledger.next_due()
                except REDIS_DOWN as exc:
                    await self.outage.pause(exc, stop)
                    continue
                wait = poll if next_due is None else min(poll, max(0.0, next_due - time.time()))
                done, _ = await asyncio.wait(
                    {*inflight, stopping},
                    timeout=max(wait, 0.005),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                inflight -= done
        finally:
            stopping.cancel()
            if inflight:
                # Let sends under way finish and be recorded (each is bounded by the timeout).
                await asyncio.wait(inflight, timeout=self.delivery.timeout.total_seconds() + 5)
                for task in inflight:
                    task.cancel()

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set. A failing loop stops the other and the error propagates."""
        self.status.update(redis="unknown", consumer=self.consumer)
        # Started while Redis is down: wait for it rather than exit.
        while not stop.is_set():
            try:
                await self.ensure_group()
            except REDIS_DOWN as exc:
                await self.outage.pause(exc, stop)
                continue
            self.outage.recovered()
            break
        if stop.is_set():
            return
        self.status.update(redis="up")
        for name, reason in self.disabled.items():
            log.warning(
                "receiver %s disabled: %s; alerts routed to it are logged 'disabled', not sent",
                name,
                reason,
            )
        tasks = [
            asyncio.create_task(self._consume_loop(stop), name="notify-consume"),
            asyncio.create_task(self._flush_loop(stop), name="notify-flush"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        self.status.remove()
        for receiver in self.receivers.values():
            await receiver.aclose()
        await self.redis.aclose()
