"""The RSS/Atom connector: one asyncio task per feed, polling it while this process holds its
lease, into Kafka through :class:`~rasd.connectors.sink.ArticleSink`.

Every failure of one feed (HTTP, XML, Kafka, Redis) ends up in that feed's health and metrics
and in an exponential backoff for that feed alone; no failure stops the other feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError

from rasd.connections import async_redis_client
from rasd.connectors import metrics
from rasd.connectors.articles import Source, build_articles
from rasd.connectors.base import Connector
from rasd.connectors.config import Feed, FeedsConfig
from rasd.connectors.fetch import Fetcher, FetchError, Validators
from rasd.connectors.health import HealthRecorder
from rasd.connectors.leases import FeedLeases
from rasd.connectors.parse import FeedError, ParsedFeed, parse
from rasd.connectors.sink import ArticleSink, ProduceError
from rasd.settings import Settings

log = logging.getLogger(__name__)

# A stopping process finishes what it fetched; this bounds how long that may take.
STOP_GRACE = 90.0


def process_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class RssConnector(Connector):
    def __init__(self, settings: Settings, config: FeedsConfig, owner: str | None = None):
        super().__init__()
        self.settings = settings
        self.config = config
        self.owner = owner or process_id()
        self.polls = 0
        # By URL: a feed whose URL a reload changed must not send the old document's ETag.
        self._validators: dict[str, Validators] = {}
        # Whether the document behind each feed's validators was degraded: a 304 for it stays so.
        self._degraded: dict[str, bool] = {}
        self._closed = False
        # name -> (its definition, set when a reload retires it, its loop)
        self._loops: dict[str, tuple[Feed, asyncio.Event, asyncio.Task]] = {}
        self._retiring: set[asyncio.Task] = set()

    async def start(self) -> None:
        poller = self.config.poller
        self._redis = async_redis_client(self.settings)
        await self._redis.ping()
        self._health = HealthRecorder(self.settings, self._redis)
        self._fetcher = Fetcher(poller)
        self._parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rasd-parse")
        self.sink = ArticleSink(self.settings, self._redis, self.owner, poller.seen_ttl)
        names = [f.name for f in self.config.feeds]
        self.leases = FeedLeases(self.settings, self._redis, self.owner, names, poller.lease_ttl)
        await self._health.register(
            names, {f.name: {"outlet": f.outlet, "url": f.url} for f in self.config.feeds}
        )

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._lease_loop(), name="leases")]
        for feed in self.config.feeds:
            self._start_loop(feed)
        try:
            await self._stopping.wait()
            tasks += [task for _, _, task in self._loops.values()] + list(self._retiring)
            # Feed loops notice the stop between steps; a publish in progress completes.
            _done, pending = await asyncio.wait(tasks, timeout=STOP_GRACE)
            for task in pending:
                log.warning("still busy after %.0fs, cancelled: %s", STOP_GRACE, task.get_name())
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await self.leases.release_all()
            await self.close()

    def _start_loop(self, feed: Feed) -> None:
        retired = asyncio.Event()
        task = asyncio.create_task(self._feed_loop(feed, retired), name=f"feed:{feed.name}")
        self._loops[feed.name] = (feed, retired, task)

    async def reconfigure(self, config: FeedsConfig) -> None:
        """Switch to a new feeds.yaml while running (see :mod:`rasd.connectors.reload`)."""
        from rasd.connectors.reload import reconfigure

        await reconfigure(self, config)

    async def close(self) -> None:
        """Release what start() opened; safe to call again."""
        if self._closed:
            return
        self._closed = True
        await self.sink.close()
        await self._fetcher.aclose()
        self._parser.shutdown(wait=True)
        await self._redis.aclose()

    async def poll_once(self, feeds: list[Feed] | None = None) -> None:
        """Poll the given feeds (default: all) once each, concurrently, ignoring leases."""
        await asyncio.gather(*(self.poll(feed) for feed in feeds or self.config.feeds))

    async def _lease_loop(self) -> None:
        while not self.stopping:
            try:
                await self.leases.step()
            except (RedisError, OSError) as exc:
                log.warning("lease step failed: %s", exc)
            except Exception:  # noqa: BLE001 - the lease loop must outlive any one failure
                log.exception("lease step failed")
            if await self.sleep(self.leases.step_interval):
                return

    async def _feed_loop(self, feed: Feed, retired: asyncio.Event) -> None:
        interval = self.config.interval(feed)
        # Spread the first polls so that a restart does not hit every outlet at once.
        delay = random.uniform(0, min(interval, 5.0))
        while not await self._pause(delay, retired):
            if not self.leases.owns(feed.name):
                waiter = asyncio.create_task(self.leases.wait_acquired(feed.name))
                stopper = asyncio.create_task(self._stopping.wait())
                await asyncio.wait(
                    {waiter, stopper},
                    timeout=self.leases.step_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiter.cancel()
                stopper.cancel()
                # Held but not trusted (Redis unreachable): look again at the next lease step.
                untrusted = self.leases.holds(feed.name) and not self.leases.owns(feed.name)
                delay = self.leases.step_interval if untrusted else 0.0
                continue
            delay = await self.poll(feed)

    async def _pause(self, seconds: float, retired: asyncio.Event) -> bool:
        """Like :meth:`sleep`, and True as well once a reload retired the feed."""
        waits = {
            asyncio.ensure_future(self._stopping.wait()),
            asyncio.ensure_future(retired.wait()),
        }
        done, pending = await asyncio.wait(
            waits, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in pending:
            waiter.cancel()
        return bool(done) or self.stopping or retired.is_set()

    async def poll(self, feed: Feed) -> float:
        """Poll one feed once, record its health; return the delay until its next poll."""
        poller = self.config.poller
        interval = self.config.interval(feed)
        fetched_at = datetime.now(UTC)
        http_status = None
        latency_ms = None
        try:
            fetch = asyncio.create_task(
                self._fetcher.fetch(feed.url, self._validators.get(feed.url, Validators()))
            )
            stopper = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not fetch.done():
                # Stopping: nothing was fetched yet, so nothing is lost by abandoning it.
                fetch.cancel()
                await asyncio.gather(fetch, return_exceptions=True)
                return 0.0
            fetched = fetch.result()
            http_status, latency_ms = fetched.status, fetched.latency_ms
            metrics.FETCH_SECONDS.observe(latency_ms / 1000)
            if fetched.not_modified:
                return await self._succeeded(
                    feed,
                    "not-modified",
                    interval,
                    status="degraded" if self._degraded.get(feed.name) else None,
                    http_status=304,
                    latency_ms=latency_ms,
                    items_seen=0,
                    items_new=0,
                )
            loop = asyncio.get_running_loop()
            parsed: ParsedFeed = await loop.run_in_executor(
                self._parser, parse, fetched.body, fetched.content_type, feed.lang
            )
            source = Source(feed.name, feed.outlet, feed.lang, parsed.lang)
            articles, issues = build_articles(
                parsed.entries, source, fetched_at, timedelta(seconds=poller.future_tolerance)
            )
            produced = await self.sink.publish(articles)
            # Validators are kept only once the document's articles are safely in Kafka.
            self._validators[feed.url] = fetched.validators
            self._degraded[feed.name] = parsed.degraded
            entry_issues = issues.as_dict()
            if not parsed.entries:
                entry_issues["empty-feed"] = 1
            for issue, count in entry_issues.items():
                metrics.ENTRY_ISSUES.labels(feed.name, issue).inc(count)
            for warning, count in parsed.warnings.items():
                metrics.DOCUMENT_WARNINGS.labels(feed.name, warning).inc(count)
            metrics.ENTRIES.labels(feed.name, "seen").inc(len(parsed.entries))
            metrics.ENTRIES.labels(feed.name, "new").inc(len(produced))
            warnings = {**parsed.warnings, **entry_issues}
            if parsed.degraded:
                log.warning(
                    "feed %s: read as %s (declared %s) with %s",
                    feed.name,
                    parsed.encoding,
                    parsed.declared_encoding or "nothing",
                    ", ".join(f"{k}={v}" for k, v in sorted(parsed.warnings.items())),
                )
            return await self._succeeded(
                feed,
                "degraded" if parsed.degraded else "ok",
                interval,
                http_status=http_status,
                latency_ms=latency_ms,
                items_seen=len(parsed.entries),
                items_new=len(produced),
                bytes=len(fetched.body),
                encoding=parsed.encoding,
                declared_encoding=parsed.declared_encoding,
                warnings=", ".join(f"{k}={v}" for k, v in sorted(warnings.items())) or None,
            )
        except FetchError as exc:
            return await self._failed(
                feed, exc.reason, exc.detail, exc.status, exc.latency_ms, exc.retry_after
            )
        except FeedError as exc:
            return await self._failed(feed, exc.reason, exc.detail, http_status, latency_ms)
        except ProduceError as exc:
            return await self._failed(feed, "produce-failed", str(exc), http_status, latency_ms)
        except (RedisError, OSError) as exc:
            return await self._failed(
                feed, "redis-error", f"{type(exc).__name__}: {exc}", http_status, latency_ms
            )
        except Exception as exc:  # noqa: BLE001 - one feed's surprise must not end its polling
            log.exception("feed %s: unexpected error", feed.name)
            return await self._failed(
                feed, "internal-error", f"{type(exc).__name__}: {exc}", http_status, latency_ms
            )
        finally:
            self.polls += 1

    async def _succeeded(
        self, feed: Feed, outcome: str, interval: float, status: str | None = None, **fields
    ) -> float:
        """Record a successful poll; ``status`` for health when it is not the ``outcome``."""
        delay = self._jittered(interval)
        now = datetime.now(UTC)
        metrics.FETCHES.labels(feed.name, outcome).inc()
        metrics.LAST_SUCCESS.labels(feed.name).set(now.timestamp())
        await self._health.record(
            feed.name,
            {
                "status": status or outcome,
                "owner": self.owner,
                "last_poll": now,
                "last_success": now,
                "consecutive_failures": 0,
                "next_poll": now + timedelta(seconds=delay),
                **fields,
            },
            new_items=fields.get("items_new", 0),
        )
        return delay

    async def _failed(
        self,
        feed: Feed,
        reason: str,
        detail: str,
        http_status: int | None,
        latency_ms: int | None,
        retry_after: float | None = None,
    ) -> float:
        poller = self.config.poller
        metrics.FETCHES.labels(feed.name, reason).inc()
        metrics.FETCH_ERRORS.labels(feed.name, reason).inc()
        log.warning("feed %s: %s: %s", feed.name, reason, detail)
        now = datetime.now(UTC)
        try:
            failures = await self._health.failure_count(feed.name) + 1
        except (RedisError, OSError):
            failures = 1
        backoff = self.config.interval(feed) * 2 ** min(failures, 20)
        delay = self._jittered(min(poller.max_backoff, max(backoff, retry_after or 0)))
        with contextlib.suppress(RedisError, OSError):
            await self._health.record(
                feed.name,
                {
                    "status": "error",
                    "owner": self.owner,
                    "last_poll": now,
                    "last_error": now,
                    "error_reason": reason,
                    "error_detail": detail[:500],
                    "http_status": http_status,
                    "latency_ms": latency_ms,
                    "consecutive_failures": failures,
                    "next_poll": now + timedelta(seconds=delay),
                },
            )
        return delay

    def _jittered(self, delay: float) -> float:
        jitter = self.config.poller.jitter
        return delay * random.uniform(1 - jitter, 1 + jitter)
