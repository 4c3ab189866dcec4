"""A notifier killed (SIGKILL) after sending but before recording: another one takes the
group over, and the receiver gets the message at most twice (the documented guarantee)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from notify_harness import config, config_text, eventually, idle, outcomes, put, running
from notify_samples import arabic_alert

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
SLACK = "  - {name: desk-slack, type: slack, url_env: SLACK_URL}\n"
ROUTE = "  receiver: desk-slack\n  group_wait: 100ms\n"


async def test_killed_between_send_and_record_gives_at_most_one_duplicate(
    settings, redis_client, http_sink, tmp_path
):
    receivers = tmp_path / "receivers.yaml"
    receivers.write_text(config_text(SLACK, ROUTE, timeout="500ms", lease="1s"))
    rules = tmp_path / "rules"
    rules.mkdir()
    env = {
        **os.environ,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_REDIS_URL": settings.redis_dsn,
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "SLACK_URL": f"{http_sink.url}/slack",
    }
    victim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rasd",
            "notify",
            "run",
            "-c",
            str(receivers),
            "--consumer",
            "victim",
            # No rule names a receiver (the shipped rules name ones this file lacks).
            "--rules",
            str(rules),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The Slack stand-in has the message when the notifier dies: it never learns it was sent.
    http_sink.on_request = lambda _request: os.kill(victim.pid, signal.SIGKILL)
    try:
        await put(redis_client, settings, arabic_alert())
        await eventually(lambda: http_sink.posts("/slack"), timeout=30)
    finally:
        victim.kill()
        victim.wait(timeout=10)
    assert victim.returncode == -signal.SIGKILL
    http_sink.on_request = None
    assert [o for o, _ in await outcomes(redis_client, settings)] == ["queued"]

    cfg = config(SLACK, ROUTE, timeout="500ms", lease="1s")
    async with running(settings, cfg, env={"SLACK_URL": f"{http_sink.url}/slack"}, consumer="heir"):
        await eventually(lambda: _sent(redis_client, settings))
        await eventually(lambda: idle(redis_client, settings))
    first, second = http_sink.posts("/slack")  # exactly one duplicate, no more
    assert first.body == second.body


async def _sent(client, settings):
    return ("sent", "desk-slack") in await outcomes(client, settings)
