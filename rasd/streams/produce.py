"""The stories agent's records to Kafka: one aiokafka batch per partition, not one send each.

aiokafka's ``send`` (and faust's around it) pays per record a signal, a metadata wait, a size
check, the partitioner and a future resolved when the broker answers; the stories agent sends
a batch's alerts and changelog writes, a few hundred records over a backlog's batch, to a few
partitions. Here they go through the same aiokafka producer's batch builder (``create_batch``,
``send_batch``): the same key and value bytes, no headers, the time of the append, on the
partition ``send`` would choose (:func:`partitioner`) or the one given (a changelog write goes
to its rule's partition), one future a batch. The match stage's sends do the same (the send
work's ``rasd.streams.sending``); the two may share one module once both are in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def partitioner(producer: Any, topic: str) -> Callable[[bytes, bytes | None], int]:
    """The partition aiokafka's ``send`` would choose for a keyed record of ``topic``."""
    await producer.partitions_for(topic)  # the partitioner needs the topic's metadata

    def partition(key: bytes, value: bytes | None) -> int:
        return producer._partition(topic, None, key, value, key, value)

    return partition


async def send_in_order(
    producer: Any, topic: str, partition: int | None, records: list[tuple[bytes, bytes | None]]
) -> list[asyncio.Future]:
    """Hand ``records`` to aiokafka ``producer`` for ``partition`` as batches, in their order.

    A full batch (the producer's batch size) is handed over and the next one started, and a
    record larger than a batch goes alone in one, as ``send`` does; aiokafka takes a
    partition's next batch only once the one before is drained, so they land in order. A batch
    is closed when handed over: nothing else joins it, and the sender takes it at once.
    """
    if partition is None:  # not co-partitioned: as faust would, the key's partition each
        return [await producer.send(topic, value, key=key) for key, value in records]
    sent = []
    batch = producer.create_batch()
    for key, value in records:
        if batch.append(timestamp=None, key=key, value=value) is None:
            batch.close()
            sent.append(await producer.send_batch(batch, topic, partition=partition))
            batch = producer.create_batch()
            batch.append(timestamp=None, key=key, value=value)  # the first always fits
    batch.close()
    sent.append(await producer.send_batch(batch, topic, partition=partition))
    return sent
