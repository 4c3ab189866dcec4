"""Shared fixtures: the real Kafka and Redis, and a fresh namespace per test.

The session fixture uses RASD_KAFKA_BOOTSTRAP / RASD_REDIS_URL when they are set, and
otherwise starts the local stack (`rasd dev up`), stopping it at the end only if it started it.
Every test gets its own namespace, so its topics, consumer groups and Redis keys are its own.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from rasd.devstack.namespace import drop_namespace
from rasd.settings import Settings


@pytest.fixture(scope="session")
def services() -> Settings:
    from rasd.devstack.kafka import KafkaBroker
    from rasd.devstack.redis import RedisServer
    from rasd.devstack.stack import services_down, services_up

    base = Settings()
    was_running = (not base.kafka_is_local or KafkaBroker(base).process.pid() is not None) and (
        not base.redis_is_local or RedisServer(base).process.pid() is not None
    )
    services_up(base, log=lambda _msg: None)
    yield base
    if not was_running:
        services_down(base, log=lambda _msg: None)


@pytest.fixture
def settings(services: Settings, tmp_path) -> Settings:
    """Settings pointing at the real services, in a namespace of this test's own."""
    from rasd.topics import ensure_topics

    namespace = f"t{uuid.uuid4().hex[:12]}"
    s = Settings(
        kafka_bootstrap=services.kafka_servers,
        redis_url=services.redis_dsn,
        namespace=namespace,
        topic_partitions=services.topic_partitions,
        state_dir=tmp_path / "state",
    )
    ensure_topics(s)
    yield s
    drop_namespace(s)


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    """Fail a test that leaves threads running (faust's conftest does the same)."""
    before = set(threading.enumerate())
    yield
    new_threads = [
        t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
    ]
    for thread in new_threads:
        thread.join(timeout=5)
    leaked = [t.name for t in new_threads if t.is_alive()]
    assert not leaked, f"test leaked threads: {leaked}"
