"""A worker started while Kafka is down waits for it instead of exiting."""

from __future__ import annotations

import pytest
from kafka.errors import NoBrokersAvailable

from rasd.streams import worker


def test_the_topic_check_is_retried_with_backoff_until_kafka_answers(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(worker.time, "sleep", waits.append)
    attempts = iter([NoBrokersAvailable(), NoBrokersAvailable(), NoBrokersAvailable(), None])

    def check():
        failure = next(attempts)
        if failure is not None:
            raise failure

    worker._wait_for_kafka(check, max_delay=1.5)
    assert waits == [0.5, 1.0, 1.5]


def test_other_errors_are_not_retried():
    def check():
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        worker._wait_for_kafka(check)


def test_the_connection_check_of_a_broker_not_up_yet_is_retried(monkeypatch):
    """The topic check starts with rasd's own connection check: a broker that does not answer
    (here a port nobody listens on, really connected to) is waited for like the others."""
    import socket

    from rasd.connections import check_kafka
    from rasd.settings import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = Settings(kafka_bootstrap=f"127.0.0.1:{port}")
    waits: list[float] = []
    monkeypatch.setattr(worker.time, "sleep", waits.append)

    def check():
        if len(waits) < 2:
            check_kafka(down, timeout=2)

    worker._wait_for_kafka(check)
    assert waits == [0.5, 1.0]


def test_a_refused_login_is_not_retried():
    from rasd.connections import KafkaUnreachable

    def check():
        raise KafkaUnreachable("SASL authentication failed", refused=True)

    with pytest.raises(KafkaUnreachable):
        worker._wait_for_kafka(check)


def test_a_worker_started_while_redis_is_down_waits_for_it(monkeypatch):
    """Really refused connections first (a port nobody listens on), then Redis answers."""
    import asyncio
    import socket

    import redis.asyncio

    from rasd.streams import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []

    async def no_wait(delay):
        waits.append(delay)

    monkeypatch.setattr(app.asyncio, "sleep", no_wait)

    async def run():
        down = redis.asyncio.Redis(host="127.0.0.1", port=port, socket_connect_timeout=2)
        try:

            async def ping():
                if len(waits) < 2:
                    await down.ping()

            await app.wait_for_redis(ping, max_delay=0.75)
        finally:
            await down.aclose()

    asyncio.run(run())
    assert waits == [0.5, 0.75]


def test_the_workers_group_consumers_refresh_their_metadata_within_seconds(monkeypatch):
    """A group leader that met a broker just restarted, naming none of a member's topics yet,
    assigns it nothing until a refresh finds them (and rejoins): seconds, not Kafka's 5 minutes.
    Both groups: the stories agent's (faust's consumer) and the match stage's."""
    import asyncio

    from rasd.settings import Settings
    from rasd.streams import matching
    from rasd.streams.app import Runtime, create_app
    from rasd.streams.config import StreamsSettings

    settings, config = Settings(), StreamsSettings()
    app = create_app(settings, config, Runtime(settings, config))
    assert app.conf.consumer_metadata_max_age_ms <= 10_000

    options: dict = {}

    def consumer(settings, **given):
        options.update(given)
        raise RuntimeError("only the options were wanted")

    monkeypatch.setattr(matching, "aiokafka_consumer", consumer)
    stage = matching.MatchStage(settings, config, None, lambda: None, "candidates")
    with pytest.raises(RuntimeError):
        asyncio.run(stage._start_consumer())
    assert options["metadata_max_age_ms"] <= 10_000
