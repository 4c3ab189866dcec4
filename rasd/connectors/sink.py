"""Articles into Kafka, each exactly once as far as Redis remembers (dedup across feeds,
restarts and connector processes).

For every article id, in one Redis round trip per batch:
1. ``SET seen:<id> pending:<owner> NX EX claim_ttl`` - a short claim; whoever gets it produces.
   Another process (or feed) polling the same article meanwhile finds the key and skips it.
2. produce to ``<ns>.articles`` (acks=all, key = id) and wait for the broker's acknowledgement;
3. ``SET seen:<id> 1 EX seen_ttl`` - only now is the article remembered for good; the
   same round trip counts the articles per feed and minute (``rasd.timeseries``).

A crash between 1 and 3 leaves only the short claim, which expires, so the article is produced
on a later poll: nothing fetched is lost (at worst a crash right after 2 produces it twice).
kafka-python is synchronous: sends run on one worker thread, off the event loop, and the
acknowledgements come back to the loop through the producer futures' callbacks.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from redis.asyncio import Redis

from rasd.connections import kafka_producer
from rasd.keys import RedisKeys
from rasd.models import Article
from rasd.settings import Settings
from rasd.timeseries import MinuteCounters
from rasd.topics import ARTICLES_COMPRESSION

# Delete a claim only if it is still ours (it may have expired and been taken by another).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


class ProduceError(Exception):
    """Kafka did not acknowledge some articles; they stay unclaimed and are retried."""


class ArticleSink:
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        owner: str,
        seen_ttl: float,
        claim_ttl: float = 120.0,
        produce_timeout: float = 60.0,
    ):
        self._keys = RedisKeys(settings)
        self._redis = redis
        self._claim = f"pending:{owner}"
        self._seen_ttl = max(1, int(seen_ttl))
        self._claim_ttl = max(int(claim_ttl), int(produce_timeout) + 10)
        self._produce_timeout = produce_timeout
        self._topic = settings.topic("articles")
        self._per_minute = MinuteCounters(settings, "articles")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rasd-produce")
        self._producer = kafka_producer(
            settings,
            acks="all",
            linger_ms=20,
            retries=5,
            max_block_ms=int(produce_timeout * 1000),
            compression_type=ARTICLES_COMPRESSION,
            client_id=f"rasd-connectors-{owner}",
        )

    def seen_key(self, article_id: str) -> str:
        return self._keys.seen(article_id)

    async def publish(self, articles: Sequence[Article]) -> list[Article]:
        """Produce the articles not seen before; return those produced."""
        if not articles:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for article in articles:
                pipe.set(self.seen_key(article.id), self._claim, nx=True, ex=self._claim_ttl)
            claimed = await pipe.execute()
        mine = [a for a, ok in zip(articles, claimed, strict=True) if ok]
        if not mine:
            return []
        # Shielded: once sent, we always learn the outcome and record it, even while stopping.
        acked, failed = await asyncio.shield(self._produce(mine))
        async with self._redis.pipeline(transaction=False) as pipe:
            for article in acked:
                pipe.set(self.seen_key(article.id), "1", ex=self._seen_ttl)
            for article in failed:
                pipe.eval(_RELEASE, 1, self.seen_key(article.id), self._claim)
            for feed, n in Counter(a.feed for a in acked).items():
                self._per_minute.count(pipe, feed, n)
            await pipe.execute()
        if failed:
            raise ProduceError(f"{len(failed)} of {len(mine)} articles not acknowledged by Kafka")
        return acked

    async def _produce(self, articles: list[Article]) -> tuple[list[Article], list[Article]]:
        """Send on the producer thread (send() may block on metadata or a full buffer), then
        await the broker's acknowledgements on the event loop, so many feeds' batches can be
        in flight at once without holding a thread each."""
        loop = asyncio.get_running_loop()
        outcomes = [loop.create_future() for _ in articles]

        def settle(outcome: asyncio.Future, ok: bool) -> None:
            if not outcome.done():
                outcome.set_result(ok)

        def report(outcome: asyncio.Future, ok: bool):
            return lambda _result: loop.call_soon_threadsafe(settle, outcome, ok)

        def send() -> None:
            for article, outcome in zip(articles, outcomes, strict=True):
                try:
                    future = self._producer.send(
                        self._topic,
                        key=article.id.encode(),
                        value=article.model_dump_json().encode(),
                    )
                except Exception:  # noqa: BLE001 - a send that cannot be queued has failed
                    loop.call_soon_threadsafe(settle, outcome, False)
                    continue
                future.add_callback(report(outcome, True))
                future.add_errback(report(outcome, False))

        await loop.run_in_executor(self._executor, send)
        done, _pending = await asyncio.wait(outcomes, timeout=self._produce_timeout)
        acked, failed = [], []
        for article, outcome in zip(articles, outcomes, strict=True):
            (acked if outcome in done and outcome.result() else failed).append(article)
        return acked, failed

    async def close(self) -> None:
        """Flush whatever is buffered and stop the producer thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_producer)
        self._executor.shutdown(wait=True)

    def _close_producer(self) -> None:
        self._producer.flush(timeout=self._produce_timeout)
        self._producer.close(timeout=self._produce_timeout)
