"""The console rides out a Redis outage: it starts while Redis is down, answers 503 (not 500,
not a dead process) meanwhile, reports it in its metrics, and a browser's live stream stays
open through a Redis crash and gets the alerts written after it. A real console server against
a real redis-server of the test's own, killed and restarted."""

import re
import threading

import httpx
import pytest
from console_server import PASSWORD, USER, console_settings, publish_alert, running_console
from notify_samples import arabic_alert
from own_redis import OwnRedis
from polling import poll

from rasd.settings import Settings

pytestmark = pytest.mark.integration


def redis_up(client: httpx.Client) -> float | None:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("rasd_console_redis_up "):
            return float(line.split()[1])
    return None


class LiveReader:
    """Reads the console's server-sent events in a thread, as a browser's EventSource does."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.lines: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, name="live-reader")
        self.thread.start()

    def _read(self) -> None:
        with self.client.stream("GET", "/api/alerts/live?after=0-0") as response:
            for line in response.iter_lines():
                self.lines.append(line)
                if self.done.is_set():
                    return

    def text(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        self.done.set()
        self.thread.join(timeout=20)


def test_console_starts_without_redis_and_its_live_stream_survives_a_crash(settings, tmp_path):
    server = OwnRedis(tmp_path / "redis")
    own = Settings(**{**settings.model_dump(), "redis_url": server.url})
    cs = console_settings(own, tmp_path / "rules")
    try:
        with (
            running_console(cs) as console,
            httpx.Client(base_url=console.url, timeout=15) as client,
        ):
            # Redis is down from the start: the console runs and says so.
            health = client.get("/healthz")
            assert health.status_code == 503 and "Redis is unreachable" in health.text
            assert poll(lambda: redis_up(client) == 0)
            # Logging in needs no Redis (users are settings, the session is a signed cookie).
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
            form = {"username": USER, "password": PASSWORD, "csrf_token": token.group(1)}
            assert client.post("/login", data=form).status_code == 303
            listing = client.get("/api/alerts")
            assert listing.status_code == 503 and listing.headers["retry-after"]
            page = client.get("/alerts")
            assert page.status_code == 503 and "Redis is unreachable" in page.text

            server.start()
            poll(lambda: client.get("/healthz").status_code == 200)
            poll(lambda: redis_up(client) == 1)
            reader = LiveReader(client)
            try:
                publish_alert(cs, arabic_alert(key="story:console:first", title="first report"))
                poll(lambda: "story:console:first" in reader.text())

                server.kill()
                poll(lambda: "redis unreachable" in reader.text())
                assert client.get("/api/alerts").status_code == 503
                server.start()
                publish_alert(cs, arabic_alert(key="story:console:second", title="second"))
                # The same connection carries on after the outage.
                poll(lambda: "story:console:second" in reader.text())
                assert client.get("/api/alerts").status_code == 200
            finally:
                reader.close()
            assert reader.text().count("event: alert") == 2
    finally:
        server.stop()
