"""Fixture feeds over HTTP -> connector ingest -> Kafka -> `rasd worker` -> outbox."""

from __future__ import annotations

import asyncio
import functools
import http.server
import threading
from pathlib import Path

import pytest
from streams_harness import (
    WITHDRAWAL,
    loaded_rules,
    outbox,
    wait_for,
    wait_group,
    wait_outbox,
)

from rasd.connectors.ingest import ingest as connectors_ingest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "streams" / "feeds"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def feed_server():
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(FEEDS))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def ingest(settings, url: str) -> None:
    """What `rasd ingest URL` does, in this process (a subprocess would add seconds of imports)."""
    report = asyncio.run(connectors_ingest(settings, [url]))
    assert report.errors == [] and report.new > 0


def test_feeds_through_connector_kafka_and_worker_to_the_outbox(
    settings, rules_dir, workers, feed_server
):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    workers()
    wait_group(settings, 1, 60)
    wait_for(lambda: loaded_rules(settings), 30, "the worker's rules")

    ingest(settings, f"{feed_server}/aljazeera.xml")
    ((key, revision, alert),) = wait_outbox(settings, 1, 30)
    assert (key, revision) == (f"story:troop-withdrawal:{alert.articles[0].article_id}", 0)
    assert alert.articles[0].outlet == "الجزيرة نت"
    assert alert.title.startswith("كادت تتسبب بحرب مفتوحة مع إيران")

    ingest(settings, f"{feed_server}/skynews.xml")
    ingest(settings, f"{feed_server}/bbc.xml")
    entries = wait_outbox(settings, 3, 30)
    assert [(k, r) for k, r, _ in entries] == [(key, 0), (key, 1), (key, 2)]
    latest = entries[-1][2]
    assert [a.outlet for a in latest.articles] == ["الجزيرة نت", "سكاي نيوز عربية", "BBC News"]
    assert {a.url for a in latest.articles} == {
        "https://www.aljazeera.net/news/2020/3/29/kirkuk",
        "https://www.skynewsarabia.com/middle-east/kirkuk",
        "https://www.bbc.com/news/world-middle-east-kirkuk",
    }
    assert len(outbox(settings)) == 3
