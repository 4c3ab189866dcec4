"""The match stage's batched sends (rasd.streams.sending) through faust's producer on real Kafka.

A keyed record must land on the partition faust's own ``producer.send`` gives its key (the
stories table is co-partitioned with the candidates by rule id), each partition's records in
the order they were given, also when a partition's records fill several batches.
"""

from __future__ import annotations

import faust
import pytest
from streams_harness import read_topic

from rasd.connections import faust_broker_settings
from rasd.streams.sending import acknowledged, send

pytestmark = pytest.mark.integration


async def test_records_land_on_the_producers_own_partition_in_order_across_full_batches(settings):
    app = faust.App(
        settings.group("streams"),
        **faust_broker_settings(settings),
        autodiscover=False,
        # Small batches, so that a partition's records fill several.
        producer_max_batch_size=2048,
    )
    await app.producer.start()
    try:
        topic = settings.topic("matches")
        keys = [f"rule-{i}".encode() for i in range(30)]
        own = {}
        for key in keys:
            sent = await app.producer.send(topic, key, b"probe", None, None, None)
            own[key] = (await sent).partition
        assert len(set(own.values())) > 1  # the keys spread: a wrong choice would show
        outputs = [(topic, keys[i % len(keys)], b"%04d:" % i + b"x" * 300) for i in range(600)]
        outputs += [(topic, None, b"%04d:" % i) for i in range(600, 620)]
        acks = await send(app.producer._ensure_producer(), outputs)
        await acknowledged(acks)
        assert len(acks) > len({p for p in own.values()}) + 1  # full batches were split
    finally:
        await app.producer.stop()

    records = [r for r in read_topic(settings, "matches", 650) if r.value != b"probe"]
    assert sorted(r.value for r in records) == sorted(v for _, _, v in outputs)
    for r in records:
        if r.key is not None:
            assert r.partition == own[r.key], r.key
    sent_order = {v: i for i, (_, _, v) in enumerate(outputs)}
    for partition in {r.partition for r in records}:
        logged = sorted((r for r in records if r.partition == partition), key=lambda r: r.offset)
        order = [sent_order[r.value] for r in logged]
        assert order == sorted(order), partition
