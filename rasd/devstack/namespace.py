"""Remove everything one namespace owns: its Kafka topics and its Redis keys.

Tests and benchmarks each run in a namespace of their own on a shared Kafka and Redis; this
is how they leave nothing behind. Every partition costs the broker heap and every client reads
the metadata of all topics, so leftovers slow down, and finally break, everyone sharing it.
"""

from __future__ import annotations

import contextlib

from rasd.connections import kafka_admin, redis_client
from rasd.keys import RedisKeys
from rasd.settings import Settings


def drop_namespace(settings: Settings) -> None:
    """Delete the namespace's topics (rasd's and faust's internal ones) and Redis keys."""
    from kafka.errors import UnknownTopicOrPartitionError

    prefixes = (f"{settings.namespace}.", f"{settings.namespace}-")
    admin = kafka_admin(settings, request_timeout_ms=15000)
    try:
        mine = [topic for topic in admin.list_topics() if topic.startswith(prefixes)]
        if mine:
            # Another cleaner may have deleted some of them first.
            with contextlib.suppress(UnknownTopicOrPartitionError):
                admin.delete_topics(mine)
    finally:
        admin.close()
    client = redis_client(settings)
    try:
        keys = list(client.scan_iter(match=RedisKeys(settings).everything, count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()
