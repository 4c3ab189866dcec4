"""Fixtures of the streams tests: a rules directory and worker processes killed at teardown."""

from __future__ import annotations

import pytest
from streams_harness import Worker

from rasd.devstack.namespace import drop_namespace


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
    # The workers' topics, faust's internal ones included.
    drop_namespace(settings)
