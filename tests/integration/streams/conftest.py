"""Fixtures of the streams tests: a rules directory and worker processes killed at teardown."""

from __future__ import annotations

import pytest
from kafka.admin import KafkaAdminClient
from streams_harness import Worker


@pytest.fixture
def rules_dir(tmp_path):
    path = tmp_path / "rules"
    path.mkdir()
    return path


@pytest.fixture
def workers(settings, rules_dir, tmp_path):
    """``workers(**env)`` starts one more worker; all of them are stopped at teardown."""
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(settings, rules_dir, tmp_path / f"worker-{len(started)}.log", env)
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.kill()
    # The workers' topics (rasd's and faust's internal ones): every client reads the metadata of
    # all topics on the broker, so leftovers slow down everyone sharing it.
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    try:
        mine = [
            t
            for t in admin.list_topics()
            if t.startswith((f"{settings.namespace}.", f"{settings.namespace}-"))
        ]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()
