"""What every request handler reaches: settings, the Redis client and the console's services.

One ``Console`` per app (``request.app.state.console``). It holds connections, not data: every
answer is read from Redis, Kafka or the rule files when asked.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Gauge
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from starlette.concurrency import run_in_threadpool

from rasd.connections import async_redis_client, redis_client
from rasd.console import kafka_view
from rasd.console.alerts import AlertBoard
from rasd.console.auth import Sessions, Users
from rasd.console.backtests import BacktestRuns
from rasd.console.deadletters import DeadLetterActions
from rasd.console.feedback import FeedbackStore
from rasd.console.login_limit import LoginLimiter
from rasd.console.rulefiles import RuleFiles
from rasd.notify import DeadLetters, SilenceStore
from rasd.outage import REDIS_DOWN, RedisOutage
from rasd.procstatus import StatusFile
from rasd.settings import Settings
from rasd.timeseries import MinuteCounters

log = logging.getLogger("rasd.console")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.logins = Counter(
            "rasd_console_logins", "Login attempts.", ["outcome"], registry=self.registry
        )
        self.live_clients = Gauge(
            "rasd_console_live_clients", "Open live alert streams.", registry=self.registry
        )
        self.actions = Counter(
            "rasd_console_actions", "State changes made.", ["action"], registry=self.registry
        )


@dataclass
class Console:
    settings: Settings
    redis: Redis
    # For the other parts' synchronous readers, called in worker threads.
    redis_sync: SyncRedis
    users: Users
    sessions: Sessions
    logins: LoginLimiter
    alerts: AlertBoard
    rules: RuleFiles
    silences: SilenceStore
    dead_letters: DeadLetters
    dead_letter_actions: DeadLetterActions
    feedback: FeedbackStore
    articles_per_minute: MinuteCounters
    lag_per_minute: MinuteCounters
    metrics: Metrics
    # Pages that need Redis answer 503 while it is down; the console itself keeps running.
    outage: RedisOutage
    status: StatusFile
    # Dry runs over a time window, on threads of their own (the rule editor's backtest).
    backtests: BacktestRuns

    @classmethod
    def build(cls, settings: Settings) -> Console:
        redis = async_redis_client(settings)
        metrics = Metrics()
        status = StatusFile(settings, "console")
        return cls(
            settings=settings,
            redis=redis,
            redis_sync=redis_client(settings),
            users=Users(settings),
            sessions=Sessions(settings),
            logins=LoginLimiter(settings, redis),
            alerts=AlertBoard(settings, redis),
            rules=RuleFiles(settings, redis),
            silences=SilenceStore(redis, settings),
            dead_letters=DeadLetters(redis, settings),
            dead_letter_actions=DeadLetterActions(settings, redis),
            feedback=FeedbackStore(settings, redis),
            articles_per_minute=MinuteCounters(settings, "articles"),
            lag_per_minute=MinuteCounters(settings, "lag"),
            metrics=metrics,
            outage=RedisOutage("console", log, status=status, registry=metrics.registry),
            status=status,
            backtests=BacktestRuns(settings),
        )

    async def watch_redis(self, interval: float = 2.0) -> None:
        """Ping Redis until cancelled, so that an outage (and its end) is noticed and reported
        even when no page is being asked for."""
        reported = False
        while True:
            try:
                await self.redis.ping()
            except REDIS_DOWN as exc:
                await self.outage.pause(exc)
                continue
            self.outage.recovered()
            if not reported:
                self.status.update(redis="up")
                reported = True
            await asyncio.sleep(interval)

    async def record_lag(self, lag: list[kafka_view.PartitionLag]) -> None:
        """One sample per consumer group (its total lag) for the current minute."""
        totals: dict[str, int] = {}
        for part in lag:
            totals[part.group] = totals.get(part.group, 0) + part.lag
        if not totals:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for group, total in totals.items():
                self.lag_per_minute.gauge(pipe, group, total)
            await pipe.execute()

    async def sample_lag(self, interval: float = 60.0) -> None:
        """Sample consumer lag every ``interval`` until cancelled, for the Health page's chart.
        Several consoles write the same minute's sample: the last one wins, all alike."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.record_lag(
                    await run_in_threadpool(kafka_view.consumer_lag, self.settings)
                )
            except Exception as exc:  # Kafka or Redis away: the next sample will tell
                log.debug("lag sample skipped: %s", exc)

    async def close(self) -> None:
        await run_in_threadpool(self.backtests.close)
        self.status.remove()
        await self.redis.aclose()
        self.redis_sync.close()

    async def rule_hits(self) -> dict[str, RuleHits]:
        """Alerts per rule in the last 24 h and 7 days, and the latest, from the alerts."""
        now = datetime.now(UTC)
        day_ago = now - timedelta(days=1)
        hits: dict[str, RuleHits] = {}
        for alert in await self.alerts.since(now - timedelta(days=7)):
            h = hits.setdefault(alert.rule, RuleHits())
            h.last_7d += 1
            h.last_24h += alert.created_at >= day_ago
            if h.last_match is None or alert.created_at > h.last_match:
                h.last_match = alert.created_at
        return hits


@dataclass
class RuleHits:
    last_24h: int = 0
    last_7d: int = 0
    last_match: datetime | None = None


def console(request: Request) -> Console:
    return request.app.state.console
