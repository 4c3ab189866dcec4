"""A running `rasd connectors run` process switches to a new feeds.yaml: a feed added to the
file is polled and its articles reach Kafka; an invalid edit is refused (status, log,
metrics) while the old feeds keep polling; fixing the file recovers. Also on SIGHUP."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import sys
import urllib.request
from pathlib import Path

import polling
import pytest

from tests.integration.connectors.conftest import closed_port, health, read_articles

pytestmark = pytest.mark.integration

# Most checks read the whole articles topic: every 0.2 s is often enough.
eventually = functools.partial(polling.eventually, interval=0.2)
ROOT = Path(__file__).parents[3]
POLLER = "poller: {interval: 1, max_backoff: 2, lease_ttl: 3, connect_timeout: 2}\n"


def feeds_yaml(server, *feeds: tuple[str, str], url: str | None = None) -> str:
    lines = [f"  - {{name: {name}, outlet: Outlet {name}, url: '{url or server.url(path)}'}}"
             for name, path in feeds]  # fmt: skip
    return POLLER + "feeds:\n" + "\n".join(lines) + "\n"


def env(settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "RASD_REDIS_URL": settings.redis_dsn,
        "COLUMNS": "200",
        **extra,
    }


async def feeds_with_articles(settings) -> set[str]:
    return {article.feed for _, article in await asyncio.to_thread(read_articles, settings)}


async def status(settings) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rasd", "connectors", "status", cwd=ROOT, env=env(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


class Connectors:
    def __init__(self, settings, feeds: Path, log: Path, **extra: str):
        self.metrics_port = closed_port()
        self.log = log
        self._args = [sys.executable, "-m", "rasd", "connectors", "run", "--feeds", str(feeds),
                      "--metrics-port", str(self.metrics_port)]  # fmt: skip
        self._env = env(settings, **extra)

    async def __aenter__(self):
        self._out = self.log.open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            *self._args, cwd=ROOT, env=self._env, stdout=self._out, stderr=self._out
        )
        return self

    async def __aexit__(self, *exc) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._out.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")


async def test_edit_add_break_fix_while_running(settings, feed_server, tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(feeds_yaml(feed_server, ("seed", "/feed/seed-aljazeera-ar.xml")))
    async with Connectors(
        settings, path, tmp_path / "run.log", RASD_CONFIG_POLL_INTERVAL="0.2"
    ) as run:
        await eventually(lambda: _has(settings, "seed"), what="the first feed's articles in Kafka")

        # Added while running: its articles arrive.
        path.write_text(
            feeds_yaml(
                feed_server,
                ("seed", "/feed/seed-aljazeera-ar.xml"),
                ("gulf", "/feed/gulfwire-en.atom"),
            )
        )
        await eventually(lambda: _has(settings, "gulf"), what="the added feed's articles")

        # Broken: refused with its location everywhere; the running feeds keep polling.
        path.write_text(
            feeds_yaml(
                feed_server,
                ("seed", "/feed/seed-aljazeera-ar.xml"),
                ("gulf", "/feed/gulfwire-en.atom"),
            )
            + "  - {name: bad, outlet: Bad, url: 'ftp://127.0.0.1/x'}\n"
        )
        where = f"{path}:5:"
        report = await eventually(
            lambda: _refused(settings, where), what="the refusal in `connectors status`"
        )
        assert "feeds.2.url" in report
        await eventually(lambda: where in run.text(), what="the refusal in the log")
        page = metrics(run.metrics_port)
        assert 'rasd_config_reload_errors_total{config="feeds"} 1.0' in page
        assert 'rasd_config_last_reload_successful{config="feeds"} 0.0' in page
        polls = feed_server.requests["gulfwire-en.atom"]
        await eventually(
            lambda: feed_server.requests["gulfwire-en.atom"] >= polls + 2,
            what="the old feeds still polled",
        )

        # Fixed (and the first feed removed): recovered; the new feed polls, the old leaves.
        path.write_text(
            feeds_yaml(
                feed_server,
                ("gulf", "/feed/gulfwire-en.atom"),
                ("rafidain", "/feed/rafidain-ar-windows-1256.xml"),
            )
        )
        await eventually(lambda: _has(settings, "rafidain"), what="the feed of the fix")
        await eventually(lambda: set(health(settings)) == {"gulf", "rafidain"})
        text = await status(settings)
        assert "refused" not in text and f"{path}: version" in text
        page = metrics(run.metrics_port)
        assert 'rasd_config_last_reload_successful{config="feeds"} 1.0' in page
        assert 'rasd_config_reloads_total{config="feeds"} 2.0' in page
    assert run.proc.returncode == 0, run.text()


async def test_sighup_reloads_at_once(settings, feed_server, tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(feeds_yaml(feed_server, ("seed", "/feed/seed-aljazeera-ar.xml")))
    # The file is not looked at by itself during the test: only SIGHUP makes it reload.
    async with Connectors(
        settings, path, tmp_path / "run.log", RASD_CONFIG_POLL_INTERVAL="3600"
    ) as run:
        await eventually(lambda: _has(settings, "seed"), what="the first feed's articles")
        path.write_text(
            feeds_yaml(
                feed_server,
                ("seed", "/feed/seed-aljazeera-ar.xml"),
                ("gulf", "/feed/gulfwire-en.atom"),
            )
        )
        run.proc.send_signal(signal.SIGHUP)
        await eventually(lambda: _has(settings, "gulf"), what="the feed added before SIGHUP")
        assert run.proc.returncode is None
    assert run.proc.returncode == 0, run.text()


async def _has(settings, feed: str) -> bool:
    return feed in await feeds_with_articles(settings)


async def _refused(settings, where: str) -> str | None:
    text = await status(settings)
    return text if "refused" in text and where in text else None


async def test_changed_url_starts_afresh_and_removed_feed_leaves(settings, feed_server):
    from aiohttp import web

    from rasd.connectors.config import Feed
    from tests.integration.connectors.conftest import FIXTURES, Running, feeds_config

    validators: list[str | None] = []

    async def moved_feed(request: web.Request) -> web.Response:
        validators.append(request.headers.get("If-None-Match"))
        body = (FIXTURES / "dates.xml").read_bytes()
        return web.Response(body=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/moved", moved_feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    moved_url = f"http://127.0.0.1:{runner.addresses[0][1]}/moved"

    config = feeds_config([("a", feed_server.url("/etag")), ("b", feed_server.url("/etag"))])
    try:
        async with Running(settings, config) as connector:
            task = asyncio.create_task(connector.run())
            try:
                # The /etag document is answered 304 once its ETag comes back.
                await eventually(lambda: feed_server.conditional_hits >= 1, what="a 304")
                moved = Feed(name="a", outlet="Outlet a", url=moved_url)
                await connector.reconfigure(config.model_copy(update={"feeds": [moved]}))
                # Same name, new URL: fetched without the old document's ETag.
                await eventually(
                    lambda: _from(settings, "a", "clockless.example"),
                    what="the new URL's articles under a",
                )
                assert validators[0] is None
                assert set(health(settings)) == {"a"}
                assert health(settings)["a"].url == moved_url
            finally:
                connector.stop()
                await asyncio.wait_for(task, 30)
    finally:
        await runner.cleanup()


async def _from(settings, feed: str, word: str) -> bool:
    articles = await asyncio.to_thread(read_articles, settings)
    return any(a.feed == feed and word in a.url for _, a in articles)
