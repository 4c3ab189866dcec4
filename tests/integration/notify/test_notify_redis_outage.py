"""`rasd notify run` rides out Redis outages: it starts while Redis is down, reports the
outage in its log, metrics and status file, and delivers what was waiting once Redis is back.
A real notifier process against a real redis-server of the test's own, killed and restarted."""

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from notify_harness import config_text, eventually, put
from notify_samples import arabic_alert
from own_redis import OwnRedis, free_port

from rasd.connections import async_redis_client
from rasd.keys import RedisKeys
from rasd.procstatus import status_path
from rasd.settings import Settings

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
SLACK = "  - {name: desk-slack, type: slack, url_env: SLACK_URL}\n"
ROUTE = "  receiver: desk-slack\n  group_wait: 300ms\n  group_interval: 300ms\n"


def metric(port: int, name: str) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def status_of(state_dir: Path, pid: int) -> dict:
    try:
        return json.loads(status_path(state_dir, pid).read_text())
    except (OSError, ValueError):
        return {}


async def test_notifier_starts_while_redis_is_down_and_delivers_after_a_crash(
    tmp_path, http_sink, services
):
    server = OwnRedis(tmp_path / "redis")
    settings = Settings(
        redis_url=server.url, kafka_bootstrap=services.kafka_servers, namespace="outage"
    )
    receivers = tmp_path / "receivers.yaml"
    receivers.write_text(config_text(SLACK, ROUTE))
    state_dir = tmp_path / "state"
    metrics_port = free_port()
    log_path = tmp_path / "notify.log"
    empty_rules = tmp_path / "rules"
    empty_rules.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RASD_")},
        "RASD_NAMESPACE": settings.namespace,
        "RASD_REDIS_URL": server.url,
        "RASD_KAFKA_BOOTSTRAP": services.kafka_servers,
        "RASD_STATE_DIR": str(state_dir),
        "SLACK_URL": f"{http_sink.url}/slack",
    }
    with open(log_path, "wb") as log:
        notifier = subprocess.Popen(
            [sys.executable, "-m", "rasd", "notify", "run", "-c", str(receivers)]
            # No rules: the shipped ones name receivers this test's file does not define.
            + ["--rules", str(empty_rules), "--metrics-port", str(metrics_port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = async_redis_client(settings)
    try:
        # Started with Redis down: it waits, says so, and does not exit.
        await eventually(lambda: metric(metrics_port, "rasd_notify_redis_up") == 0, timeout=30)
        await eventually(lambda: status_of(state_dir, notifier.pid).get("redis") == "down")
        assert "Error 111" in status_of(state_dir, notifier.pid)["error"]
        assert "redis unreachable" in log_path.read_text()
        assert notifier.poll() is None

        server.start()
        await eventually(lambda: metric(metrics_port, "rasd_notify_redis_up") == 1, timeout=30)
        first = arabic_alert(key="story:outage:first", title="first report from Kirkuk")
        await put(client, settings, first)
        await eventually(lambda: len(http_sink.posts("/slack")) == 1, timeout=30)

        # An alert waits (its group_wait has not passed, or it is not even read yet) when
        # Redis is killed; nothing of it lives in the notifier's memory, so nothing is lost.
        second = arabic_alert(key="story:outage:second", title="second report from Basra")
        await put(client, settings, second)
        server.kill()
        await eventually(lambda: metric(metrics_port, "rasd_notify_redis_up") == 0, timeout=30)
        await eventually(lambda: status_of(state_dir, notifier.pid).get("redis") == "down")
        # An outage that lasts: the notifier keeps retrying rather than exiting.
        errors = metric(metrics_port, "rasd_notify_redis_errors_total")
        await eventually(
            lambda: metric(metrics_port, "rasd_notify_redis_errors_total") >= errors + 3,
            timeout=30,
        )
        assert notifier.poll() is None

        server.start()
        await eventually(lambda: len(http_sink.posts("/slack")) >= 2, timeout=30)
        await eventually(lambda: status_of(state_dir, notifier.pid).get("redis") == "up")
        bodies = [r.body.decode() for r in http_sink.posts("/slack")]
        assert len(bodies) == 2
        assert first.title in bodies[0] and second.title in bodies[1]
        assert "redis back after" in log_path.read_text()
    finally:
        notifier.send_signal(signal.SIGTERM)
        code = notifier.wait(timeout=30)
        await client.aclose()
        server.stop()
    assert code == 0, log_path.read_text()[-2000:]
    assert not status_path(state_dir, notifier.pid).exists()


async def test_a_redis_that_came_back_empty_gets_its_consumer_group_again(
    settings, redis_client, http_sink
):
    """Without an append-only file a restarted Redis has lost the outbox and its group: the
    notifier creates the group again and delivers what is written from then on."""
    from notify_harness import config, running

    cfg = config(SLACK, ROUTE)
    async with running(settings, cfg, env={"SLACK_URL": f"{http_sink.url}/slack"}):
        await put(redis_client, settings, arabic_alert(key="story:empty:1", title="before"))
        await eventually(lambda: len(http_sink.posts("/slack")) == 1)
        await redis_client.delete(RedisKeys(settings).outbox)  # the stream and its group are gone
        await put(redis_client, settings, arabic_alert(key="story:empty:2", title="after"))
        await eventually(lambda: len(http_sink.posts("/slack")) == 2)
    assert b"after" in http_sink.posts("/slack")[1].body
