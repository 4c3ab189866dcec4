"""The record batches of a topic as the broker stores them: their codecs, read with a raw fetch
(the Kafka clients decompress without saying what they found), and an articles topic as a rasd
from before zstd created it, whose records stay gzip."""

from __future__ import annotations

from collections import Counter

from polling import poll

from rasd.connections import kafka_admin, kafka_options, kafka_producer
from rasd.models import Article
from rasd.settings import Settings
from rasd.topics import topic_configs

_CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
_MAX_BYTES = 4 * 1024 * 1024


def batch_codecs(settings: Settings, name: str) -> Counter[str]:
    """How many record batches of each codec the topic ``name`` (rasd's name) holds."""
    from kafka import TopicPartition
    from kafka.client_async import KafkaClient
    from kafka.protocol.fetch import FetchRequest
    from kafka.record import MemoryRecords

    topic = settings.topic(name)
    client = KafkaClient(**kafka_options(settings))
    codecs: Counter[str] = Counter()
    try:
        client.poll(future=client.set_topics([topic]))
        for partition in sorted(client.cluster.partitions_for_topic(topic) or ()):
            node = client.cluster.leader_for_partition(TopicPartition(topic, partition))
            assert client.await_ready(node), f"no connection to broker {node}"
            offset, end = 0, None
            while end is None or offset < end:
                # v10: the first fetch version a broker answers with zstd batches (KIP-110).
                request = FetchRequest[10](
                    -1, 100, 1, _MAX_BYTES, 0, 0, -1,
                    [(topic, [(partition, -1, offset, -1, _MAX_BYTES)])], [],
                )  # fmt: skip
                response = client.send_and_receive(node, request)
                ((_topic, partitions),) = response.topics
                ((_p, error, end, _stable, _start, _aborted, data),) = partitions
                assert error == 0, f"fetch of {topic}-{partition} failed with error {error}"
                records, before = MemoryRecords(data), offset
                while (batch := records.next_batch()) is not None:
                    if batch.base_offset >= offset:
                        codecs[_CODECS[batch.compression_type]] += 1
                        offset = batch.next_offset
                assert offset > before or offset >= end, f"no batch at {topic}-{partition}:{offset}"
    finally:
        client.close()
    return codecs


def articles_config(settings: Settings, key: str) -> str | None:
    """The broker's value of one setting of the articles topic."""
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = kafka_admin(settings)
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, settings.topic("articles"))]
        )
    finally:
        admin.close()
    values = {
        name: value
        for response in described
        for resource in response.resources
        for name, value, *_ in resource[4]
    }
    return values.get(key)


def make_topic_old(settings: Settings, **operators: str) -> None:
    """The articles topic as a rasd before zstd created it: its retention only, the codec left
    to each producer (the broker's default, ``producer``), and ``operators`` settings (with
    ``_`` for ``.``) as someone may have set on it. Returns once the broker applies it (a KRaft
    broker takes the change from the metadata log a moment after the answer)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    old = {k: v for k, v in topic_configs(settings, "articles").items() if k != "compression.type"}
    old |= {key.replace("_", "."): value for key, value in operators.items()}
    admin = kafka_admin(settings)
    try:
        admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, settings.topic("articles"), old)]
        )
    finally:
        admin.close()
    poll(
        lambda: articles_config(settings, "compression.type") == "producer",
        timeout=15,
        what="the articles topic's codec left to the producers",
    )


def produce_gzip(settings: Settings, articles: list[Article]) -> None:
    """Onto the articles topic as the connectors wrote before zstd."""
    producer = kafka_producer(settings, acks="all", compression_type="gzip", linger_ms=20)
    try:
        for article in articles:
            producer.send(
                settings.topic("articles"),
                key=article.id.encode(),
                value=article.model_dump_json().encode(),
            )
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)
