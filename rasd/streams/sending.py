"""The worker's sends: one aiokafka batch per partition, one acknowledgement to wait for each.

The match stage's matches and candidates, the stories agent's alerts and its table's changelog
writes all go this way, through faust's one aiokafka producer.

``producer.send`` per record (faust's, then aiokafka's) pays, for every record, faust's
``on_produce_message`` signal, aiokafka's metadata wait, size check and partitioner, a future
and its result when the broker answers; a stage batch of a backlog sends a few hundred records
to a few partitions. Here the records are grouped by partition in their order, appended to the
producer's own batch builder (``create_batch``) and handed over with ``send_batch``: one future
a batch. The records are the bytes ``send`` writes (same key, value, no headers, the time of the
append), on the partition ``send`` would choose: the same aiokafka producer, the same
``_partition`` (the stories table is co-partitioned with the candidates by rule id).

>>> by_partition([("t", b"a", b"1"), ("t", b"b", b"2"), ("t", b"a", b"3")],
...              lambda topic, key, value: len(key) % 2)
{('t', 1): [(b'a', b'1'), (b'b', b'2'), (b'a', b'3')]}

Order: a partition's records are appended in their order, its batches handed over one after
another (aiokafka takes a partition's next batch only once the one before is drained, and sends
a partition one request at a time), so they land in the order ``send`` would have given them.
A full batch (the producer's ``max_batch_size``) is handed over and a new one started; a record
larger than a batch goes alone in one, as with ``send``. Batches are closed when handed over:
nothing else is added to them and the sender takes them without lingering (the stage waits for
them at once; all of a stage batch's batches are handed over before the sender runs, so they
still share one produce request per broker).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

# (topic, key, value) of one record to send (a value of None is a tombstone).
Output = tuple[str, bytes | None, bytes | None]
Partition = Callable[[str, bytes | None, bytes | None], int]


def by_partition(
    outputs: Iterable[Output], partition: Partition
) -> dict[tuple[str, int], list[tuple[bytes | None, bytes | None]]]:
    """The records of ``outputs`` per (topic, partition), in their order.

    A keyed record's partition depends on its topic and key only (while the topic's partitions
    stay the same), so it is asked once per key; a record without a key is asked each time
    (the partitioner picks one at random).
    """
    grouped: dict[tuple[str, int], list[tuple[bytes | None, bytes | None]]] = {}
    known: dict[tuple[str, bytes], int] = {}
    for topic, key, value in outputs:
        if key is None:
            where = partition(topic, key, value)
        else:
            where = known.get((topic, key))
            if where is None:
                where = known[topic, key] = partition(topic, key, value)
        records = grouped.get((topic, where))
        if records is None:
            records = grouped[topic, where] = []
        records.append((key, value))
    return grouped


async def send(producer: Any, outputs: Iterable[Output]) -> list[Awaitable[Any]]:
    """Hand ``outputs`` to the aiokafka ``producer`` in batches, each record on the partition
    the producer's ``send`` would choose for it; their acknowledgements."""
    outputs = list(outputs)
    for topic in {topic for topic, _, _ in outputs}:
        await producer.partitions_for(topic)  # the partitioner needs the topic's metadata

    def partition(topic: str, key: bytes | None, value: bytes | None) -> int:
        return producer._partition(topic, None, key, value, key, value)

    acks = []
    for (topic, where), records in by_partition(outputs, partition).items():
        acks += await send_to(producer, topic, where, records)
    return acks


async def send_to(
    producer: Any, topic: str, partition: int, records: list[tuple[bytes | None, bytes | None]]
) -> list[Awaitable[Any]]:
    """Hand ``records`` (key, value) to the aiokafka ``producer`` for one ``partition`` of
    ``topic``, in their order, in as many batches as they fill; their acknowledgements."""
    acks = []
    batch = producer.create_batch()
    for key, value in records:
        # send's check: MessageSizeTooLargeError above the producer's max_request_size.
        producer._serialize(key, value, [])
        if batch.append(timestamp=None, key=key, value=value) is None:
            acks.append(await _hand_over(producer, batch, topic, partition))
            batch = producer.create_batch()
            batch.append(timestamp=None, key=key, value=value)  # the first always fits
    acks.append(await _hand_over(producer, batch, topic, partition))
    return acks


async def _hand_over(producer: Any, batch: Any, topic: str, partition: int) -> Awaitable[Any]:
    batch.close()
    return await producer.send_batch(batch, topic, partition=partition)


async def acknowledged(acks: list[Awaitable[Any]]) -> None:
    """Wait for every acknowledgement; raise the first failure once all have ended."""
    failure: BaseException | None = None
    for ack in acks:
        try:
            await ack
        except Exception as exc:  # noqa: BLE001 - every batch is waited for, then it is raised
            failure = failure or exc
    if failure is not None:
        raise failure


__all__ = ["Output", "acknowledged", "by_partition", "send", "send_to"]
