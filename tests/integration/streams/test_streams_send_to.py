"""The stories agent's batched sends on the real Kafka: the records, partitions and order of
one ``send`` per record."""

from __future__ import annotations

import pytest

from rasd.connections import aiokafka_consumer, aiokafka_producer
from rasd.streams.config import StreamsSettings
from rasd.streams.sending import acknowledged, send_to

pytestmark = pytest.mark.integration


async def _read(settings, topic: str, count: int) -> list:
    from aiokafka import TopicPartition

    consumer = aiokafka_consumer(settings, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(settings.topic_partitions)])
        records: list = []
        while len(records) < count:
            fetched = await consumer.getmany(timeout_ms=10_000)
            assert fetched, f"only {len(records)} of {count} records arrived"
            for batch in fetched.values():
                records += batch
        return records
    finally:
        await consumer.stop()


async def test_batches_land_in_order_on_the_partitions_send_chooses(settings):
    topic = settings.topic("alerts")
    producer = aiokafka_producer(settings)
    await producer.start()
    try:
        # Several batches' worth (16 KiB each) for some partitions, tombstones among them.
        records = [
            (f"story:r:{n % 5}".encode(), None if n % 7 == 3 else f"{n:04d}".encode() * 300)
            for n in range(60)
        ]
        await producer.partitions_for(topic)

        def partition(key, value):
            return producer._partition(topic, None, key, value, key, value)

        grouped: dict[int, list] = {}
        for key, value in records:
            grouped.setdefault(partition(key, value), []).append((key, value))
        assert len(grouped) > 1
        sent = []
        for where, part in grouped.items():
            sent += await send_to(producer, topic, where, part)
        assert len(sent) > len(grouped)  # some partition took more than one batch
        for delivery in sent:
            await delivery
        # One send per record, as before: the partition it chose for each key.
        chosen = {
            key: (await (await producer.send(topic, b"", key=key))).partition for key, _ in records
        }
    finally:
        await producer.stop()

    read = await _read(settings, topic, len(records) + len(chosen))
    assert all(partition(key, None) == where for key, where in chosen.items())
    for where, part in grouped.items():
        got = [(r.key, r.value) for r in read if r.partition == where][: len(part)]
        assert got == part
        assert all(chosen[key] == where for key, _ in part)


@pytest.mark.parametrize("batch_bytes", [16 * 1024, StreamsSettings().producer_batch_bytes])
async def test_the_workers_producer_takes_a_partitions_delivery_in_batches_of_its_setting(
    settings, batch_bytes
):
    """A rule's story states of one stories batch are tens of KB on one changelog partition;
    each batch is a request of its own, sent after the one before it
    (RASD_STREAMS_PRODUCER_BATCH_BYTES)."""
    from rasd.streams.app import Runtime, create_app

    config = StreamsSettings(producer_batch_bytes=batch_bytes)
    # The producer faust makes for the worker, from the app's settings.
    producer = create_app(settings, config, Runtime(settings, config)).producer._new_producer()
    topic = settings.topic("alerts")
    records = [(b"rule-state:r:%d" % n, b"%04d" % n * 1150) for n in range(40)]  # 4.6 KB each
    await producer.start()
    try:
        sent = await send_to(producer, topic, 0, records)
        await acknowledged(sent)
    finally:
        await producer.stop()
    size = sum(len(k) + len(v) for k, v in records)
    if batch_bytes > size:
        assert len(sent) == 1
    else:  # each batch is full but for its last record, which did not fit
        assert size // batch_bytes < len(sent) <= 2 * size // batch_bytes
    read = await _read(settings, topic, len(records))
    assert [(r.key, r.value) for r in read] == records
