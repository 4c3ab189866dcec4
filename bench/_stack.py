"""The local Kafka and Redis for a benchmark: started when they are local and not running (as
the tests' session fixture does), and stopped again at the end only if this run started them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rasd.settings import Settings


def start_local_stack(base: Settings) -> bool:
    """Start what is local and not running; True when this run started it and should stop it."""
    from rasd.devstack.kafka import KafkaBroker
    from rasd.devstack.redis import RedisServer
    from rasd.devstack.stack import services_up

    running = (not base.kafka_is_local or KafkaBroker(base).process.pid() is not None) and (
        not base.redis_is_local or RedisServer(base).process.pid() is not None
    )
    if not running:
        services_up(base, log=lambda _msg: None)
    return not running


def stop_local_stack(base: Settings) -> None:
    from rasd.devstack.stack import services_down

    services_down(base, log=lambda _msg: None)


@contextmanager
def local_stack(base: Settings) -> Iterator[bool]:
    """The stack for the length of a ``with``; yields whether this run started it."""
    started = start_local_stack(base)
    try:
        yield started
    finally:
        if started:
            stop_local_stack(base)
