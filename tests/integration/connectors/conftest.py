"""A real HTTP server on 127.0.0.1 serving the fixture feeds and every kind of bad answer,
plus helpers to build connectors and read back the real articles topic."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from kafka import TopicPartition

from rasd.connections import kafka_consumer, redis_client
from rasd.connectors.config import Feed, FeedsConfig, PollerConfig
from rasd.models import Article

FIXTURES = Path(__file__).parents[2] / "fixtures" / "feeds"
RSS = "application/rss+xml"


class FeedServer:
    """Routes: /feed/<fixture file>, /doc/<name> (documents the test sets), and the bad cases."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.requests: Counter[str] = Counter()
        self.conditional_hits = 0
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_get("/feed/{name}", self.fixture)
        app.router.add_get("/doc/{name}", self.document)
        app.router.add_get("/etag", self.etag)
        app.router.add_get("/etag/{name}", self.etag_fixture)
        app.router.add_get("/iso-header", self.iso_header)
        app.router.add_get("/status/{code}", self.status)
        app.router.add_get("/empty/{code}", self.empty)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/loop/{n}", self.loop)
        app.router.add_get("/big", self.big)
        app.router.add_get("/gzip/{name}", self.gzipped)
        app.router.add_get("/gzip-bomb", self.gzip_bomb)
        app.router.add_get("/paced/{n}", self.paced)
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner = web.AppRunner(app, access_log=None)
        self.base = ""

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._release.set()
        await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    async def fixture(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests[name] += 1
        body = (FIXTURES / name).read_bytes()
        kind = "text/html" if name.endswith(".html") else RSS
        return web.Response(body=body, content_type=kind)

    async def document(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests[name] += 1
        return web.Response(body=self.documents[name], content_type=RSS)

    async def etag(self, request: web.Request) -> web.Response:
        self.requests["etag"] += 1
        if request.headers.get("If-None-Match") == '"v1"':
            self.conditional_hits += 1
            return web.Response(status=304, headers={"ETag": '"v1"'})
        body = (FIXTURES / "gulfwire-en.atom").read_bytes()
        return web.Response(body=body, content_type=RSS, headers={"ETag": '"v1"'})

    async def etag_fixture(self, request: web.Request) -> web.Response:
        etag = f'"{request.match_info["name"]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        body = (FIXTURES / request.match_info["name"]).read_bytes()
        return web.Response(body=body, content_type=RSS, headers={"ETag": etag})

    async def iso_header(self, request: web.Request) -> web.Response:
        # The encoding is only in the HTTP header: the XML declaration is removed.
        body = (FIXTURES / "rafidain-ar-iso-8859-6.xml").read_bytes()
        body = body.split(b"?>", 1)[1].lstrip()
        return web.Response(
            body=body, headers={"Content-Type": "application/rss+xml; charset=ISO-8859-6"}
        )

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="<h1>error</h1>")

    async def empty(self, request: web.Request) -> web.Response:
        # A 200 with no body, or a 204 (No Content): both say nothing about truncation.
        return web.Response(status=int(request.match_info["code"]), body=b"", content_type=RSS)

    async def slow(self, request: web.Request) -> web.Response:
        # Never answers within the test's read timeout; released when the server stops.
        await self._release.wait()
        return web.Response(text="late")

    async def loop(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/loop/{(n + 1) % 2}")

    async def gzipped(self, request: web.Request) -> web.Response:
        body = gzip.compress((FIXTURES / request.match_info["name"]).read_bytes())
        return web.Response(body=body, headers={"Content-Type": RSS, "Content-Encoding": "gzip"})

    async def gzip_bomb(self, request: web.Request) -> web.Response:
        # 20 MB of spaces inside a feed, about 20 KB on the wire.
        body = b'<?xml version="1.0"?><rss version="2.0"><channel>' + b" " * 20_000_000
        return web.Response(
            body=gzip.compress(body), headers={"Content-Type": RSS, "Content-Encoding": "gzip"}
        )

    async def paced(self, request: web.Request) -> web.Response:
        # Counts how many requests are being answered at once (per-host limit).
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.2)  # the answer's own latency, not a synchronisation
        finally:
            self.in_flight -= 1
        return web.Response(body=(FIXTURES / "empty.xml").read_bytes(), content_type=RSS)

    async def big(self, request: web.Request) -> web.StreamResponse:
        # Chunked, no Content-Length: the cap must be enforced while streaming.
        response = web.StreamResponse(headers={"Content-Type": RSS})
        await response.prepare(request)
        try:
            await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
            for _ in range(2_000):
                await response.write(b"<item><title>padding</title></item>" * 30)
        except (ConnectionResetError, RuntimeError):
            pass
        return response


@pytest.fixture
async def feed_server():
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def feeds_config(feeds: list[tuple[str, str]], **poller) -> FeedsConfig:
    """A config for (name, url) pairs, with timeouts short enough for tests."""
    options = {
        "interval": 1,
        "connect_timeout": 2,
        "read_timeout": 2,
        "total_timeout": 10,
        "max_bytes": 64_000,
        "max_backoff": 2,
        "lease_ttl": 3,
        **poller,
    }
    return FeedsConfig(
        poller=PollerConfig(**options),
        feeds=[Feed(name=name, outlet=f"Outlet {name}", url=url) for name, url in feeds],
    )


def read_articles(settings, timeout: float = 30.0) -> list[tuple[str, Article]]:
    """Every record in the articles topic, as (key, article), read from the beginning."""
    topic = settings.topic("articles")
    consumer = kafka_consumer(settings, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records = []
        stop_at = time.monotonic() + timeout
        while any(consumer.position(p) < end[p] for p in partitions):
            assert time.monotonic() < stop_at, "timed out reading the articles topic"
            for batch in consumer.poll(timeout_ms=500).values():
                for record in batch:
                    records.append((record.key.decode(), Article.model_validate_json(record.value)))
        return records
    finally:
        consumer.close()


class Running:
    """A started RssConnector whose resources are released on exit."""

    def __init__(self, settings, config: FeedsConfig):
        from rasd.connectors.poller import RssConnector

        self.connector = RssConnector(settings, config)

    async def __aenter__(self):
        await self.connector.start()
        return self.connector

    async def __aexit__(self, *exc) -> None:
        await self.connector.close()


def health(settings) -> dict:

    from rasd.connectors.health import FeedHealthStore

    client = redis_client(settings)
    try:
        return {h.name: h for h in FeedHealthStore(settings, client).all()}
    finally:
        client.close()
