"""The Kafka topics rasd uses, created with the partition count from settings."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from rasd.connections import check_kafka, kafka_admin
from rasd.settings import TOPIC_NAMES, Settings

# Topics whose records are replaced by key rather than accumulated.
COMPACTED = {"rules"}

# The articles topic's codec, for its producers and for the topic itself (so the broker stores
# zstd whatever a producer sends: an older connector's gzip, an uncompressed test producer).
# Chosen for the backtest, which inflates every retained article: per article of a 16 KB batch
# zstd inflates in 3.6 µs against gzip's 10 (lz4: 3.0 µs at 1.26x zstd's bytes), for about 6 %
# more disk than gzip's level 9 (README, "Rules": the disk cost). The records already on a
# topic keep their codec, and every consumer reads both: kafka-python through `zstandard`,
# aiokafka through `cramjam`.
ARTICLES_COMPRESSION = "zstd"


def topic_configs(settings: Settings, name: str) -> dict[str, str]:
    """Kafka topic settings rasd wants for one of its topics."""
    if name in COMPACTED:
        return {"cleanup.policy": "compact"}
    if name == "articles":
        return {
            "retention.ms": str(settings.articles_retention_days * 86_400_000),
            "compression.type": ARTICLES_COMPRESSION,
        }
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
            _keep_configs(admin, settings, "articles")
        if not wanted:
            return []
        # Another process may create them between our listing and our request.
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        admin.close()


def _keep_configs(admin, settings: Settings, name: str) -> None:
    """An existing topic gets the settings rasd wants for it (it may predate one: the articles'
    retention setting, their zstd); the topic's other settings stay as they are."""
    from kafka.admin import ConfigResource, ConfigResourceType

    wanted = topic_configs(settings, name)
    resource = ConfigResource(ConfigResourceType.TOPIC, settings.topic(name))
    current = admin.describe_configs([resource])
    entries = [
        entry for response in current for resource_data in response.resources
        for entry in resource_data[4]
    ]  # fmt: skip
    values = {key: value for key, value, *_ in entries}
    if all(values.get(key) == value for key, value in wanted.items()):
        return
    # kafka-python has only the non-incremental AlterConfigs, which makes the topic's overrides
    # exactly what it sends: the others it has (an operator's segment.ms, say) are sent along.
    overrides = {key: value for key, value, _ro, source, *_ in entries if source == _TOPIC_OVERRIDE}
    admin.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, resource.name, overrides | wanted)]
    )


# DescribeConfigs' config_source of a setting made on the topic itself (DYNAMIC_TOPIC_CONFIG).
_TOPIC_OVERRIDE = 1
