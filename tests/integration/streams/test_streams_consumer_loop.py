"""faust's consumer runs on the worker's event loop (rasd.streams.transport.ConsumerOnLoop).

faust ships it in a thread of its own; these tests start it against the real broker and check
that no thread is started, that its calls are answered on the caller's loop, and that stopping
it closes its connections and leaves no task of its own behind.
"""

from __future__ import annotations

import asyncio
import threading

import faust
from faust.types import TP
from streams_harness import produce

from rasd.connections import faust_broker_settings
from rasd.streams.transport import ConsumerOnLoop


def _app(settings) -> faust.App:
    return faust.App(
        settings.group("consumer-loop"),
        **faust_broker_settings(settings, scheme="rasd"),
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        datadir=str(settings.state_dir / "faust"),
    )


async def test_the_consumer_starts_no_thread_and_answers_on_the_callers_loop(settings):
    topic = settings.topic("articles")
    await asyncio.to_thread(produce, settings, [(b"k", b"record %d" % i) for i in range(3)], 0)
    app = _app(settings)
    consumer = app.consumer
    on_loop = consumer._thread
    assert isinstance(on_loop, ConsumerOnLoop)
    threads = set(threading.enumerate())

    await on_loop.start()
    try:
        assert set(threading.enumerate()) == threads
        assert on_loop.thread_loop is asyncio.get_running_loop()
        # A call faust would hand to its thread: the broker's end offset of a real partition.
        tp = TP(topic, 0)
        assert await consumer.highwaters(tp) == {tp: 3}
        assert await consumer.earliest_offsets(tp) == {tp: 0}
    finally:
        await on_loop.stop()

    assert on_loop._consumer._closed
    assert set(threading.enumerate()) == threads
    assert not [f for f in on_loop._futures if not f.done()]
