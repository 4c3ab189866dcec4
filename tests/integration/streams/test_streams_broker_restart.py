"""A running worker whose Kafka broker is killed with SIGKILL and started again.

The broker is one of this module's own (the session's is shared by every test), on free ports
and with its data kept across the restart, as a crashed machine's disk keeps it. The worker is
not restarted: its faust group (the stories agent) and the match stage's group must rejoin by
themselves and group the reports produced after the restart into the story that was opened
before it.

What this guards: after a broker restart, the faust group's leader could rejoin before the
restarted broker named the candidates topic again, leave it out of the assignment ("Ignoring
missing topic"), and the stories agent got no partition until the next metadata refresh, five
minutes later by Kafka's default (chaos seed 7; ARCHITECTURE.md, Streams). The workers now
refresh every 10 s (`rasd.streams.transport.METADATA_MAX_AGE_MS`), so the reports must be
grouped well within ``RECOVERY``. That race needs an unlucky moment, so a run without the fix
usually passes too: what this test proves every run is that nothing produced after the
restart is lost, and that the worker does not need a restart of its own.
"""

from __future__ import annotations

import os
import signal
import uuid

import pytest
from own_redis import free_port
from streams_harness import WITHDRAWAL, produce, wait_for, wait_outbox
from test_streams_worker import STARTUP, seed_story

from rasd.devstack.kafka import KafkaBroker
from rasd.devstack.process import port_in_use
from rasd.settings import Settings
from rasd.topics import ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

# Far under the five minutes of Kafka's default metadata refresh; the chaos campaign's workers
# caught up 20-35 s after a broker kill.
RECOVERY = 90


@pytest.fixture
def broker(tmp_path) -> KafkaBroker:
    local = Settings(
        state_dir=tmp_path / "broker",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        kafka_heap="256m",
    )
    broker = KafkaBroker(local)
    broker.start()
    yield broker
    pid = broker.process.pid()
    if pid is not None:
        os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def settings(broker, services, tmp_path) -> Settings:
    """Settings on this module's broker and the session's Redis (overrides the conftest's)."""
    s = Settings(
        kafka_bootstrap=broker.address,
        redis_url=services.redis_dsn,
        namespace=f"t{uuid.uuid4().hex[:12]}",
        topic_partitions=services.topic_partitions,
        state_dir=tmp_path / "state",
    )
    ensure_topics(s)
    return s


def kill_and_restart(broker: KafkaBroker) -> None:
    """SIGKILL to the broker's whole process group, as bench/chaos.py kills it, then a start."""
    os.killpg(broker.process.pid(), signal.SIGKILL)
    wait_for(lambda: broker.process.pid() is None, 30, "the killed broker's process to be gone")
    port = broker.settings.kafka_port
    wait_for(lambda: not port_in_use(port), 30, f"port {port} to be free")
    broker.start()


def test_reports_after_a_broker_restart_join_the_story_opened_before_it(
    broker, settings, rules_dir, workers
):
    (rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    seed, *others = seed_story()
    worker = workers()
    produce(settings, [seed])
    key = "story:troop-withdrawal:aj-kirkuk-handover"
    assert [(k, rev) for k, rev, _ in wait_outbox(settings, 1, STARTUP)] == [(key, 0)]

    kill_and_restart(broker)
    produce(settings, others)

    # The seed's two other reports (skynews, bbc) join its story, in one revision each.
    entries = wait_outbox(settings, 3, RECOVERY)
    assert [(k, rev) for k, rev, _ in entries] == [(key, 0), (key, 1), (key, 2)]
    latest = entries[-1][2]
    assert {a.outlet for a in latest.articles} == {"aljazeera", "skynewsarabia", "bbc"}
    assert worker.alive(), worker.log_text()[-3000:]
