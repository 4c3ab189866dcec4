"""The issue's "done when": a fixture feed served locally ends up in the articles topic exactly
once per article, across restarts and across two real connector processes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from rasd.connections import redis_client
from rasd.connectors.articles import canonical_url
from rasd.keys import RedisKeys
from tests.integration.connectors.conftest import (
    FIXTURES,
    Running,
    feeds_config,
    health,
    read_articles,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[3]


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS document of (guid, title, link) items."""
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>{link}</link>"
        f"<pubDate>Mon, 23 Nov 2026 09:00:00 GMT</pubDate>"
        f"<description>{title} - تفاصيل الخبر</description></item>"
        for guid, title, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Desk</title><language>ar</language>{body}</channel></rss>"
    ).encode()


def items(feed: int, start: int, stop: int) -> list[tuple[str, str, str]]:
    return [
        (f"f{feed}-{i}", f"خبر عاجل رقم {i} من المكتب {feed}", f"https://desk{feed}.example/n/{i}")
        for i in range(start, stop)
    ]


async def until(condition, timeout: float, what: str) -> float:
    """Poll ``condition`` until true; return the seconds it took, fail after ``timeout``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)
    return time.monotonic() - started


def assert_exactly_once(settings, expected_urls: set[str]) -> None:
    records = read_articles(settings)
    counts = Counter(key for key, _ in records)
    assert [k for k, n in counts.items() if n > 1] == []
    assert all(key == article.id for key, article in records)
    assert {a.url for _, a in records} == expected_urls


async def test_seed_feed_exactly_once_across_restarts_and_feeds(settings, feed_server):
    seed = (FIXTURES / "seed-aljazeera-ar.xml").read_bytes()
    feed_server.documents["a"] = seed
    # A second feed carries the seed feed's first article too (same URL, other tracking).
    feed_server.documents["b"] = rss(
        [
            (
                "b-1",
                "كادت تتسبب بحرب مفتوحة مع إيران.. التحالف الدولي يسحب قواته من قاعدة مهمة بالعراق",
                "https://www.aljazeera.net/news/2020/3/29/kirkuk-base-handover?utm_medium=x",
            )
        ]
    )
    config = feeds_config(
        [("aj", feed_server.url("/doc/a")), ("mirror", feed_server.url("/doc/b"))], interval=0.3
    )
    expected = {
        "https://www.aljazeera.net/news/2020/3/29/kirkuk-base-handover",
        "https://www.aljazeera.net/news/2020/3/29/baghdad-airport-rockets",
        "https://www.aljazeera.net/news/2020/3/28/iraq-budget-parliament",
    }

    for run in range(2):
        async with Running(settings, config) as connector:
            task = asyncio.create_task(connector.run())
            polls = feed_server.requests["a"]
            await until(lambda p=polls: feed_server.requests["a"] >= p + 3, 30, "three polls")
            connector.stop()
            await asyncio.wait_for(task, 30)
        if run == 0:
            # Between the runs the outlet publishes one more article.
            extra = (
                b"<item><title>\xd8\xae\xd8\xa8\xd8\xb1 \xd8\xac\xd8\xaf\xd9\x8a\xd8\xaf</title>"
            )
            extra += b"<link>https://www.aljazeera.net/news/2020/3/30/new</link></item>"
            feed_server.documents["a"] = seed.replace(b"</channel>", extra + b"</channel>")
            expected.add("https://www.aljazeera.net/news/2020/3/30/new")

    assert_exactly_once(settings, expected)
    h = health(settings)
    assert h["aj"].items_total + h["mirror"].items_total == 4
    records = {a.url: a for _, a in read_articles(settings)}
    first = records["https://www.aljazeera.net/news/2020/3/29/kirkuk-base-handover"]
    assert first.title.startswith("كادت تتسبب بحرب مفتوحة مع إيران")
    assert "alert(1)" not in (first.body or "")
    rockets = records["https://www.aljazeera.net/news/2020/3/29/baghdad-airport-rockets"]
    assert rockets.summary.startswith("سقطت ثلاثة صواريخ") and "<" not in rockets.summary
    budget = records["https://www.aljazeera.net/news/2020/3/28/iraq-budget-parliament"]
    assert budget.published_at.isoformat() == "2020-03-28T16:05:00+00:00"
    assert {a.outlet for a in records.values()} <= {"Outlet aj", "Outlet mirror"}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
async def test_two_processes_split_feeds_and_take_over(settings, feed_server, tmp_path, stop):
    n_feeds = 12
    for f in range(n_feeds):
        feed_server.documents[f"f{f}"] = rss(items(f, 0, 3))
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(
        yaml.safe_dump(
            {
                "poller": {"interval": "500ms", "lease_ttl": "3s", "max_backoff": "2s"},
                "feeds": [
                    {"name": f"f{f}", "outlet": "Desk", "url": feed_server.url(f"/doc/f{f}")}
                    for f in range(n_feeds)
                ],
            }
        )
    )
    env = {
        **os.environ,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "RASD_REDIS_URL": settings.redis_dsn,
        "RASD_TOPIC_PARTITIONS": str(settings.topic_partitions),
    }
    client = redis_client(settings)

    def leases() -> dict[str, str | None]:
        return {
            f"f{f}": client.get(RedisKeys(settings).feed_lease(f"f{f}")) for f in range(n_feeds)
        }

    def produced() -> int:
        return sum(h.items_total for h in health(settings).values())

    procs = []
    try:
        for i in range(2):
            log = (tmp_path / f"connector{i}.log").open("wb")
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "rasd",
                    "connectors",
                    "run",
                    "--feeds",
                    str(feeds_file),
                    "--metrics-port",
                    "0",
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )
            log.close()
        owner_of = {p.pid: f"-{p.pid}-" for p in procs}

        def split() -> bool:
            held = leases().values()
            return all(held) and all(any(tag in o for o in held) for tag in owner_of.values())

        await until(split, 60, "both processes to hold leases")
        await until(lambda: produced() == 3 * n_feeds, 60, "the first articles")

        for f in range(n_feeds):
            feed_server.documents[f"f{f}"] = rss(items(f, 0, 5))
        await until(lambda: produced() == 5 * n_feeds, 60, "the second articles")

        # A stopped process hands its leases over at once; a killed one's expire (lease_ttl).
        procs[0].send_signal(stop)
        assert await asyncio.wait_for(procs[0].wait(), 60) == (0 if stop == signal.SIGTERM else -9)
        survivor = owner_of[procs[1].pid]
        took = await until(
            lambda: all(v and survivor in v for v in leases().values()), 60, "the takeover"
        )
        assert took < 60
        for f in range(n_feeds):
            feed_server.documents[f"f{f}"] = rss(items(f, 0, 7))
        await until(lambda: produced() == 7 * n_feeds, 60, "articles after the takeover")
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            await asyncio.wait_for(proc.wait(), 60)
        client.close()
    assert procs[1].returncode == 0
    assert_exactly_once(
        settings,
        {canonical_url(link) for f in range(n_feeds) for _, _, link in items(f, 0, 7)},
    )
