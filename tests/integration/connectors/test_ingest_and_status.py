"""`rasd ingest` (JSONL, folder of feed documents, URL) with the poller's dedup, and
`rasd connectors status` showing the health the connectors recorded."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from rasd.connectors.ingest import ingest, sources
from tests.integration.connectors.conftest import (
    FIXTURES,
    Running,
    feeds_config,
    health,
    read_articles,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[3]


def env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "RASD_REDIS_URL": settings.redis_dsn,
        "COLUMNS": "200",
    }


async def rasd(settings, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rasd", *args, cwd=ROOT, env=env(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode()


async def test_ingest_jsonl_folder_and_url_with_dedup(settings, feed_server, tmp_path):
    jsonl = tmp_path / "articles.jsonl"
    records = [
        {"id": "r1", "title": "قصف صاروخي على قاعدة عين الأسد", "summary": "<b>ثلاثة</b> صواريخ",
         "lang": "ar", "url": "https://desk.example/ain-al-asad?utm_source=x",
         "published": "2026-11-24T08:00:00+03:00", "expected": ["rocket-attack"]},
        {"id": "r2", "title": "Drone downed near Erbil airport", "description": "Officials said."},
    ]  # fmt: skip
    jsonl.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n{not json\n",
        encoding="utf-8",
    )
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(FIXTURES / "seed-aljazeera-ar.xml", folder)
    shutil.copy(FIXTURES / "gulfwire-en.atom", folder)

    report = await ingest(settings, sources(str(jsonl)))
    assert (report.seen, report.new) == (2, 2)
    assert report.errors == [f"{jsonl}:3:1: " + report.errors[0].split(":3:1: ", 1)[1]]
    assert (await ingest(settings, sources(str(jsonl)))).new == 0

    code, out = await rasd(settings, "ingest", str(folder))
    assert code == 0, out
    assert "5 new articles of 5 read from 2 source(s)" in out

    # The same document by URL, and the poller on it: nothing new.
    report = await ingest(settings, [feed_server.url("/feed/seed-aljazeera-ar.xml")])
    assert (report.seen, report.new, report.errors) == (3, 0, [])
    config = feeds_config([("aj", feed_server.url("/feed/seed-aljazeera-ar.xml"))])
    async with Running(settings, config) as connector:
        await connector.poll_once()

    articles = {a.url: a for _, a in read_articles(settings)}
    assert len(articles) == 7
    rocket = articles["https://desk.example/ain-al-asad"]
    assert (rocket.summary, rocket.lang, rocket.published_at.hour) == ("ثلاثة صواريخ", "ar", 5)
    drone = next(a for a in articles.values() if a.id == "r2")
    assert (drone.url, drone.summary, drone.lang) == (None, "Officials said.", "en")


async def test_ingest_says_when_a_document_needed_a_guess(settings):
    path = FIXTURES / "nahrain-iso-8859-6-undeclared.xml"
    code, out = await rasd(settings, "ingest", str(path))
    assert code == 0, out
    assert "warning: nahrain-iso-8859-6-undeclared: read as iso-8859-6: encoding-guessed=1" in out
    assert "3 new articles of 3" in out
    assert {a.title for _, a in read_articles(settings)} >= {
        "الحكومة تعلن خطة لإعادة تأهيل جسر الصرافية في بغداد"
    }


async def test_ingest_of_a_missing_path_fails_cleanly(settings):
    code, out = await rasd(settings, "ingest", "/nonexistent/feeds")
    assert code == 2 and "no such file" in out


async def test_status_table_shows_real_health(settings, feed_server):
    config = feeds_config(
        [
            ("gulfwire", feed_server.url("/feed/gulfwire-en.atom")),
            ("gone", feed_server.url("/status/404")),
            ("guessed", feed_server.url("/feed/nahrain-utf8-declared-windows-1256.xml")),
        ]
    )
    async with Running(settings, config) as connector:
        await connector.poll_once()
    code, out = await rasd(settings, "connectors", "status")
    assert code == 0, out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("g")}
    assert "ok" in lines["gulfwire"] and " 200 " in lines["gulfwire"]
    assert "error" in lines["gone"] and "404" in lines["gone"] and "http-error" in lines["gone"]
    # The table fits 80 columns (a warning is cut short there); --json has the whole record.
    assert "degraded" in lines["guessed"] and "encoding-mis" in lines["guessed"]
    code, out = await rasd(settings, "connectors", "status", "--json")
    assert code == 0, out
    guessed = next(h for h in json.loads(out) if h["name"] == "guessed")
    assert guessed["status"] == "degraded" and "encoding-mismatch=1" in guessed["warnings"]
    assert (guessed["encoding"], guessed["declared_encoding"]) == ("utf-8", "windows-1256")


async def test_a_feed_removed_from_the_list_leaves_health(settings, feed_server):
    url = feed_server.url("/feed/empty.xml")
    async with Running(settings, feeds_config([("kept", url), ("dropped", url)])) as connector:
        await connector.poll_once()
    assert set(health(settings)) == {"kept", "dropped"}
    async with Running(settings, feeds_config([("kept", url)])):
        pass
    assert set(health(settings)) == {"kept"}
    assert health(settings)["kept"].status == "ok"


async def test_ingest_of_a_file_has_the_fetched_feed_size_cap(settings, tmp_path):
    from rasd.connectors.config import PollerConfig

    feed = FIXTURES / "seed-aljazeera-ar.xml"
    big = tmp_path / "big.xml"
    body = feed.read_bytes()
    big.write_bytes(body.replace(b"</channel>", b"<!--" + b"x" * 4096 + b"--></channel>"))
    report = await ingest(settings, [str(big), str(feed)], PollerConfig(max_bytes=len(body) + 10))
    assert len(report.errors) == 1 and "too-large" in report.errors[0]
    assert str(big) in report.errors[0] and "max_bytes" in report.errors[0]
    # The other file is not lost because one was refused.
    assert report.new > 0 and report.seen == report.new
