"""The Kafka topics rasd uses, created with the partition count from settings."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from rasd.connections import check_kafka, kafka_admin
from rasd.settings import TOPIC_NAMES, Settings

# Topics whose records are replaced by key rather than accumulated.
COMPACTED = {"rules"}


def topic_configs(settings: Settings, name: str) -> dict[str, str]:
    """Kafka topic settings rasd wants for one of its topics."""
    if name in COMPACTED:
        return {"cleanup.policy": "compact"}
    if name == "articles":
        return {"retention.ms": str(settings.articles_retention_days * 86_400_000)}
    return {}


def ensure_topics(settings: Settings, extra: Iterable[str] = ()) -> list[str]:
    """Create any missing rasd topic, and any missing one of ``extra`` (full names, created
    with the same partitions and replication and no settings of their own); return the names
    created."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    # Every process creates its topics first, so a refused login stops it here, with the reason.
    check_kafka(settings)
    admin = kafka_admin(settings, request_timeout_ms=15000)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=settings.topic(name),
                num_partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication,
                topic_configs=topic_configs(settings, name),
            )
            for name in TOPIC_NAMES
            if settings.topic(name) not in existing
        ] + [
            NewTopic(
                name=name,
                num_partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication,
            )
            for name in extra
            if name not in existing
        ]
        if settings.topic("articles") in existing:
            _keep_retention(admin, settings)
        if not wanted:
            return []
        # Another process may create them between our listing and our request.
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        admin.close()


def _keep_retention(admin, settings: Settings) -> None:
    """An existing articles topic gets the configured retention (it may predate the setting)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    wanted = topic_configs(settings, "articles")
    resource = ConfigResource(ConfigResourceType.TOPIC, settings.topic("articles"))
    current = admin.describe_configs([resource])
    values = {
        name: value
        for response in current
        for resource_data in response.resources
        for name, value, *_ in resource_data[4]
    }
    if values.get("retention.ms") != wanted["retention.ms"]:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, resource.name, wanted)])
