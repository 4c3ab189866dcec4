"""Riding out a Redis outage: retry with backoff, and say so once, not once per attempt.

The notifier and the console cannot work without Redis, but they must not exit when it goes
away (nothing would restart them, and a restart would not help): they wait, retrying, and
carry on where they were once it answers again. :class:`RedisOutage` is the one place that
decides how long to wait, logs the start and the end of an outage, keeps the metrics
(``<prefix>_redis_up``, ``<prefix>_redis_errors_total``) and writes the process's status
file for `rasd dev status`.

>>> outage = RedisOutage("notify", log, registry=registry)
>>> await outage.call(client.ping)             # waits while Redis is down
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import redis.exceptions
from prometheus_client import CollectorRegistry, Counter, Gauge

from rasd.procstatus import StatusFile

T = TypeVar("T")

# Everything that means "Redis is not answering right now": refused or closed connections,
# timeouts, and a restarted Redis still loading its append-only file (BusyLoadingError is a
# ConnectionError). Only redis-py's own: a receiver's timeout is not a Redis outage.
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

INITIAL_DELAY = 0.2
MAX_DELAY = 5.0


class RedisOutage:
    def __init__(
        self,
        part: str,
        log: logging.Logger,
        *,
        registry: CollectorRegistry,
        status: StatusFile | None = None,
        initial: float = INITIAL_DELAY,
        maximum: float = MAX_DELAY,
    ) -> None:
        self.part = part
        self.log = log
        self.status = status
        self.initial = initial
        self.maximum = maximum
        self.failures = 0
        self.down_since: float | None = None
        self.up = Gauge(
            f"rasd_{part}_redis_up", "1 while Redis answers, 0 during an outage.", registry=registry
        )
        self.errors = Counter(
            f"rasd_{part}_redis_errors", "Redis calls that failed: unreachable.", registry=registry
        )
        self.up.set(1)

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException) -> float:
        """Record a failed call; the delay before the next try (doubling, half random)."""
        self.errors.inc()
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.time()
            self.up.set(0)
            self.log.warning("redis unreachable (%s); retrying with backoff", _reason(exc))
            if self.status is not None:
                since = datetime.fromtimestamp(self.down_since, UTC).isoformat(timespec="seconds")
                self.status.update(redis="down", since=since, error=_reason(exc)[:300])
        delay = min(self.maximum, self.initial * 2 ** (self.failures - 1))
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not secrecy

    def recovered(self) -> None:
        """Record a call that worked; ends an outage."""
        self.failures = 0
        if self.down_since is None:
            return
        self.log.warning("redis back after %.1fs", time.time() - self.down_since)
        self.down_since = None
        self.up.set(1)
        if self.status is not None:
            self.status.update(redis="up", since=None, error=None)

    async def pause(self, exc: BaseException, stop: asyncio.Event | None = None) -> None:
        """After a failed call: wait the backoff delay (less if ``stop`` is set meanwhile)."""
        delay = self.failed(exc)
        if stop is None:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    async def call(self, action: Callable[[], Awaitable[T]]) -> T:
        """``await action()`` until it gets through to Redis."""
        while True:
            try:
                result = await action()
            except REDIS_DOWN as exc:
                await self.pause(exc)
                continue
            self.recovered()
            return result


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
