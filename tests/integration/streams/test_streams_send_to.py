"""The stories agent's batched sends on the real Kafka: the records, partitions and order of
one ``send`` per record."""

from __future__ import annotations

import pytest

from rasd.connections import aiokafka_consumer, aiokafka_producer
from rasd.streams.sending import send_to

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
