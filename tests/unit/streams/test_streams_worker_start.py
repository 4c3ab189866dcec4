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
