"""The Kafka topics rasd uses, created with the partition count from settings."""

from __future__ import annotations

import contextlib

from rasd.settings import TOPIC_NAMES, Settings

# Topics whose records are replaced by key rather than accumulated.
COMPACTED = {"rules"}


def ensure_topics(settings: Settings) -> list[str]:
    """Create any missing rasd topic; return the names created."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers, request_timeout_ms=15000)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=settings.topic(name),
                num_partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication,
                topic_configs={"cleanup.policy": "compact"} if name in COMPACTED else {},
            )
            for name in TOPIC_NAMES
            if settings.topic(name) not in existing
        ]
        if not wanted:
            return []
        # Another process may create them between our listing and our request.
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        admin.close()
