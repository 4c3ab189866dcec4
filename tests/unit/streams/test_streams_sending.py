"""rasd.streams.sending's grouping: a partition's records in their order, one question a key."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import KafkaTimeoutError

from rasd.streams.sending import acknowledged, by_partition


def test_each_partitions_records_keep_their_order_across_topics():
    outputs = [
        ("m", b"r1", b"1"),
        ("c", b"r1", b"2"),
        ("m", b"r2", b"3"),
        ("m", b"r1", b"4"),
        ("c", b"r2", b"5"),
        ("m", b"r2", b"6"),
    ]
    grouped = by_partition(outputs, lambda topic, key, value: int(key[1:]) % 2)
    assert grouped == {
        ("m", 1): [(b"r1", b"1"), (b"r1", b"4")],
        ("c", 1): [(b"r1", b"2")],
        ("m", 0): [(b"r2", b"3"), (b"r2", b"6")],
        ("c", 0): [(b"r2", b"5")],
    }
    # Every record is there once, and a partition's records are its outputs in their order.
    assert sorted(v for records in grouped.values() for _, v in records) == [
        v for _, _, v in outputs
    ]


def test_a_key_is_placed_once_per_topic_and_a_record_without_one_each_time():
    asked: list[tuple[str, bytes | None]] = []
    spread = iter(range(100))

    def partition(topic, key, value):
        asked.append((topic, key))
        return next(spread) if key is None else len(key)

    outputs = [("m", b"a", b"1"), ("m", b"a", b"2"), ("c", b"a", b"3"), ("d", None, b"4")]
    outputs += [("d", None, b"5"), ("m", b"bb", b"6"), ("m", b"a", b"7")]
    grouped = by_partition(outputs, partition)
    assert asked == [("m", b"a"), ("c", b"a"), ("d", None), ("d", None), ("m", b"bb")]
    assert grouped[("m", 1)] == [(b"a", b"1"), (b"a", b"2"), (b"a", b"7")]
    assert grouped[("d", 0)] == [(None, b"4")] and grouped[("d", 1)] == [(None, b"5")]


async def test_every_acknowledgement_is_waited_for_before_the_first_failure_is_raised():
    loop = asyncio.get_running_loop()
    first, second, third = loop.create_future(), loop.create_future(), loop.create_future()
    first.set_exception(KafkaTimeoutError("first"))
    second.set_exception(KafkaTimeoutError("second"))
    loop.call_soon(third.set_result, None)
    with pytest.raises(KafkaTimeoutError, match="first"):
        await acknowledged([first, second, third])
    assert third.done()
    await acknowledged([])
