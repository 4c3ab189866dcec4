"""Benchmark: one connector process polling 500 feeds served locally.

    source /work/helper-env.sh   # or any RASD_KAFKA_BOOTSTRAP / RASD_REDIS_URL
    python bench/connectors.py [--feeds 500] [--items 30]

A separate server process serves the feeds from 50 loopback addresses (127.0.0.1-50, ten feeds
each, so the per-host limit applies as it would in production), with ETags. The connector
runs in this process; CPU and peak memory are this process's. Printed, in one run:

- baselines: fetching every document with nothing else (httpx only), and parsing them all in
  memory (rasd's parse, no network);
- cycle 1: every entry new (fetch, parse, dedup claim, produce with acks=all, mark seen);
- cycle 2: nothing changed, the server answers 304 to the conditional GETs;
- cycle 3: a restarted process (no validators): full fetch and parse, every entry already seen.

It uses a namespace of its own and deletes its topics and keys at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HOSTS = 50


def document(feed: int, items: int) -> bytes:
    entries = "".join(
        f"<item><title>قصف صاروخي على قاعدة في المحافظة {feed} - الخبر {i}</title>"
        f"<link>https://outlet{feed % HOSTS}.example/news/{feed}/{i}?utm_source=rss</link>"
        f"<guid>f{feed}-{i}</guid><pubDate>Mon, 23 Nov 2026 09:{i % 60:02d}:00 GMT</pubDate>"
        f"<description>&lt;p&gt;أعلنت خلية الإعلام الأمني أن {i} صواريخ سقطت قرب القاعدة "
        f"الجوية في المحافظة {feed} من دون إصابات، وفق بيان رسمي.&lt;/p&gt;</description></item>"
        for i in range(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Outlet {feed}</title><language>ar</language>{entries}</channel></rss>"
    ).encode()


def serve(port: int, feeds: int, items: int) -> None:
    from aiohttp import web

    docs = {f: document(f, items) for f in range(feeds)}

    async def handler(request: web.Request) -> web.Response:
        feed = int(request.match_info["feed"])
        etag = f'"{feed}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=docs[feed], content_type="application/rss+xml", headers={"ETag": etag}
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{feed}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for host in range(1, HOSTS + 1):
            await web.TCPSite(runner, f"127.0.0.{host}", port).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def usage() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss // 1024


async def bench(port: int, n_feeds: int, items: int) -> None:
    import httpx

    from rasd.connectors.config import Feed, FeedsConfig, PollerConfig
    from rasd.connectors.parse import parse
    from rasd.connectors.poller import RssConnector
    from rasd.devstack.namespace import drop_namespace
    from rasd.settings import Settings
    from rasd.topics import ensure_topics

    base = Settings()
    settings = Settings(
        kafka_bootstrap=base.kafka_servers,
        redis_url=base.redis_dsn,
        namespace=f"bench{uuid.uuid4().hex[:8]}",
    )
    ensure_topics(settings)
    urls = [f"http://127.0.0.{f % HOSTS + 1}:{port}/feed/{f}" for f in range(n_feeds)]
    config = FeedsConfig(
        poller=PollerConfig(interval=3600),
        feeds=[Feed(name=f"f{f}", outlet=f"Outlet {f}", url=u) for f, u in enumerate(urls)],
    )
    entries = n_feeds * items
    rows = []

    def row(name: str, seconds: float, cpu: float, parsed: int, produced: int) -> None:
        rows.append((name, seconds, cpu, parsed / seconds, produced / seconds))

    try:
        cpu0, _ = usage()
        t0 = time.perf_counter()
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(
            limits=limits, timeout=httpx.Timeout(30, pool=None), trust_env=False
        ) as client:
            bodies = await asyncio.gather(*(client.get(u) for u in urls))
        row("baseline: fetch only", time.perf_counter() - t0, usage()[0] - cpu0, 0, 0)

        cpu0, _ = usage()
        t0 = time.perf_counter()
        parsed = sum(len(parse(b.content).entries) for b in bodies)
        assert parsed == entries
        row("baseline: parse only", time.perf_counter() - t0, usage()[0] - cpu0, parsed, 0)
        del bodies

        connector = RssConnector(settings, config)
        await connector.start()
        try:
            for name in ("cycle 1: all new", "cycle 2: 304 not modified"):
                cpu0, _ = usage()
                t0 = time.perf_counter()
                produced_before = _produced(settings)
                await connector.poll_once()
                produced = _produced(settings) - produced_before
                seen = entries if name.startswith("cycle 1") else 0
                row(name, time.perf_counter() - t0, usage()[0] - cpu0, seen, produced)
        finally:
            await connector.close()
        restarted = RssConnector(settings, config)
        await restarted.start()
        try:
            cpu0, _ = usage()
            t0 = time.perf_counter()
            await restarted.poll_once()
            produced = _produced(settings) - produced_before - produced
            row("cycle 3: restart, all seen", time.perf_counter() - t0, usage()[0] - cpu0,
                entries, produced)  # fmt: skip
        finally:
            await restarted.close()
        health_errors = _errors(settings)
    finally:
        drop_namespace(settings)

    print(f"\n{n_feeds} feeds x {items} entries = {entries} entries, {HOSTS} hosts, one process")
    print(f"{'run':30} {'wall s':>8} {'cpu s':>8} {'parsed/s':>10} {'produced/s':>11}")
    for name, seconds, cpu, parse_rate, produce_rate in rows:
        print(f"{name:30} {seconds:8.2f} {cpu:8.2f} {parse_rate:10.0f} {produce_rate:11.0f}")
    print(f"peak RSS: {usage()[1]} MiB; feeds in error: {health_errors}")


def _produced(settings) -> int:
    from rasd.connections import redis_client
    from rasd.connectors.health import FeedHealthStore

    client = redis_client(settings)
    try:
        return sum(h.items_total for h in FeedHealthStore(settings, client).all())
    finally:
        client.close()


def _errors(settings) -> int:
    from rasd.connections import redis_client
    from rasd.connectors.health import FeedHealthStore

    client = redis_client(settings)
    try:
        return sum(h.status == "error" for h in FeedHealthStore(settings, client).all())
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.feeds, args.items)
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", f"--port={args.port}", f"--feeds={args.feeds}",
         f"--items={args.items}"],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        if server.stdout.readline().strip() != b"ready":
            raise SystemExit("the feed server did not start")
        asyncio.run(bench(args.port, args.feeds, args.items))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
