"""RedisOutage: one log line at each end of an outage, the metrics and the status file."""

import json
import logging

import redis.exceptions
from prometheus_client import CollectorRegistry

from rasd.outage import RedisOutage
from rasd.procstatus import StatusFile, read_status
from rasd.settings import Settings


async def test_an_outage_is_logged_once_at_each_end_and_shown_in_metrics_and_status(
    tmp_path, caplog
):
    registry = CollectorRegistry()
    status = StatusFile(Settings.model_construct(state_dir=tmp_path), "notify")
    outage = RedisOutage(
        "notify", logging.getLogger("t"), status=status, registry=registry, initial=0.001
    )
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) <= 4:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        return "PONG"

    with caplog.at_level(logging.WARNING, logger="t"):
        assert await outage.call(flaky) == "PONG"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("redis unreachable (ConnectionError: Error 111")
    assert messages[1].startswith("redis back after")
    assert registry.get_sample_value("rasd_notify_redis_errors_total") == 4
    assert registry.get_sample_value("rasd_notify_redis_up") == 1
    assert read_status(tmp_path, status.fields["pid"])["redis"] == "up"

    outage.failed(redis.exceptions.TimeoutError("Timeout reading from socket"))
    assert registry.get_sample_value("rasd_notify_redis_up") == 0
    written = json.loads(status.path.read_text())
    assert written["redis"] == "down" and "Timeout reading" in written["error"]
    status.remove()
    assert not status.path.exists()


def test_backoff_doubles_up_to_the_cap_with_jitter():
    outage = RedisOutage(
        "x", logging.getLogger("t"), registry=CollectorRegistry(), initial=1, maximum=8
    )
    delays = [outage.failed(ConnectionError("refused")) for _ in range(6)]
    for delay, full in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert full / 2 <= delay <= full
