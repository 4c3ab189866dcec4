"""faust's aiokafka transport with a consumer that never commits past a record it did not finish.

faust-streaming 0.15 can hand a record to nobody after a rebalance and still commit past it
(ARCHITECTURE.md, Streams, "Records skipped after a rebalance"): the records fetched while the
recovery seeks to the committed offsets are cleared from the agents' queues, the fetch position
has moved past them, and faust's commit counts an offset gap as processed and steps over the
first offset after the committed one (its check is off by one). :class:`Consumer` keeps the
commit logic to itself for the agents' input topics:

- the offset to commit comes from :class:`~rasd.streams.offsets.ProcessedOffsets`: offsets the
  agents reported finished (:func:`finished`), continuing the committed offset one by one; faust's
  acks and offset gaps do not move it;
- a record never handed to the agent shows as a position behind finished offsets: the partition
  is sought back to it and read again (replays are harmless, see ARCHITECTURE.md).

It also makes the first records after a backlog wait less: its consumer's fetches wait
:data:`FETCH_MAX_WAIT_MS` for new records, the consumer looks again as soon as an agent's
buffer drains rather than a second later (:meth:`Consumer._wait_next_records`), and the app
fetches :data:`PARTITION_FETCH_BYTES` per partition, so that one topic's backlog does not keep
another's records from the agents.

faust's consumer runs on the worker's event loop, not in a thread of its own
(:class:`ConsumerOnLoop`). Everything else in faust's aiokafka driver is used as shipped. faust
finds this transport by the URL scheme ``rasd://`` through the ``faust.transports`` entry point
(pyproject.toml).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP, EventT
from mode import Service
from mode.utils.futures import maybe_async

from rasd.streams.metrics import SKIPPED_RECORDS
from rasd.streams.offsets import ProcessedOffsets

log = logging.getLogger(__name__)

# How long the broker may hold a fetch that finds no new record (faust fixes 1.5 s). A partition
# faust resumes after pausing it (its buffers were full: a backlog) is fetched only by the next
# request, so the first records after a backlog waited up to 1.5 s; an idle worker now sends
# ten empty fetches a second, which the broker answers from memory.
FETCH_MAX_WAIT_MS = 100
# How much the broker returns per partition and fetch (faust's consumer_max_fetch_size; faust
# and aiokafka default to 1 MiB). faust's drain loop hands every record of one fetch to the
# agents before it fetches again, and a partition is fetched again only once its records are
# all handed over: when faust also read the articles, with 1 MiB a backlog of 5,000 came in one
# fetch, and the candidates produced meanwhile reached the stories agent only after the whole
# backlog (the first steady reports then waited 1.7-2.5 s behind them). faust now reads the
# candidates alone (the match stage reads the articles), and a fetch of 64 KiB, a few dozen
# candidates a partition, keeps one partition's backlog from holding back the others'. A record
# larger than this still comes (the broker returns at least one batch), on its own.
PARTITION_FETCH_BYTES = 64 * 1024
# How often the worker's group consumers refresh their metadata (Kafka's default is 5 min). A
# group's leader assigns only the topics its metadata names, and a broker just restarted may not
# name them yet ("Ignoring missing topic"): the members then had no partition of them until the
# next refresh. aiokafka rejoins the group once a refresh finds a subscribed topic's partitions.
METADATA_MAX_AGE_MS = 10_000


class ConsumerOnLoop(aiokafka_driver.AIOKafkaConsumerThread):
    """faust's aiokafka consumer (its "consumer thread"), run on the app's own event loop.

    faust runs it in a thread with an event loop of its own and hands every call across (each
    fetch, commit and position: a method queue, a future set from the other thread, a wake-up
    of the other loop). The worker's loop already runs the match stage's aiokafka consumer and
    faust's producer; the thread added a second loop that asked for the interpreter lock each
    time it woke, while the first was matching (ARCHITECTURE.md, Streams, "Sixteenth round").
    Here the calls are awaited where they are made. The rebalance callbacks still reach faust's
    consumer through its method queue, as from the thread, in the order aiokafka makes them, and
    the consumer heartbeats from this loop as the match stage's consumer does.
    """

    def __init__(self, consumer: Any, *, loop: asyncio.AbstractEventLoop, **kwargs: Any) -> None:
        super().__init__(consumer, loop=loop, thread_loop=loop, **kwargs)

    async def start(self) -> None:
        # Without on_thread_started: the method queue it starts served only the calls that
        # call_thread and cast_thread now make directly.
        self._thread_started.set()
        await self._default_start()  # on_start: the aiokafka consumer

    async def stop(self) -> None:
        if not self._started.is_set() or self._stopped.is_set():
            return
        self._stopped.set()
        await self.on_stop()
        # What faust's thread runs as it ends: the aiokafka consumer, the children, the tasks;
        # then the shutdown is set.
        await self._shutdown_thread()
        await self.on_shutdown()

    async def call_thread(self, fun: Any, *args: Any, **kwargs: Any) -> Any:
        return await maybe_async(fun(*args, **kwargs))

    async def cast_thread(self, fun: Any, *args: Any, **kwargs: Any) -> None:
        await maybe_async(fun(*args, **kwargs))

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by AIOKafkaConsumer.start() when it builds its fetcher; faust passes no setting.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class Consumer(aiokafka_driver.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.processed: ProcessedOffsets[TP] = ProcessedOffsets()
        self._buffer_dropped = asyncio.Event()

    def _new_consumer_thread(self) -> ConsumerOnLoop:
        return ConsumerOnLoop(self, loop=self.loop, beacon=self.beacon)

    def on_buffer_drop(self, tp: TP) -> None:
        super().on_buffer_drop(tp)
        self._buffer_dropped.set()

    async def _wait_next_records(self, timeout: float) -> Any:
        if self.flow_active and self._buffered_partitions and not self._get_active_partitions():
            # Every partition is out of the fetch because the agents' buffers are full (a
            # backlog): faust sleeps a whole second before it looks again, and the first records
            # after a backlog waited for it. Here it looks again once a buffer has drained.
            self._buffer_dropped.clear()
            await self.wait_for_stopped(self._buffer_dropped, timeout=1.0)
            return {}, set()
        return await super()._wait_next_records(timeout)

    def _guarded(self, tp: TP) -> bool:
        # Transactions put control records between offsets; changelogs are compacted.
        return (
            not self.in_transaction
            and self.app.topics.acks_enabled_for(tp.topic)
            and not self._is_changelog_tp(tp)
        )

    def finished(self, event: EventT) -> None:
        message = event.message
        if message.generation_id != self.app.consumer_generation_id:
            # Fetched before the last rebalance: it is read again from the committed offset.
            return
        if self._guarded(message.tp):
            self.processed.finished(message.tp, message.offset)

    def in_order(self, events: list[EventT]) -> tuple[list[EventT], list[EventT]]:
        """``events`` split into those to process and those to leave: a record past the next
        offset its partition expects, and the partition's records after it.

        Records after a skipped one would otherwise be grouped before it, when the seek back
        brings it: a replay then saw a story's reports in another order than the run before
        the crash, and could key the story by another report (two stories for one event). Left
        records are read again, in order, from the position (the seek back of
        :meth:`_read_skipped_again`, which :meth:`ProcessedOffsets.ahead` makes due).
        """
        kept: list[EventT] = []
        left: list[EventT] = []
        expected: dict[TP, int | None] = {}
        reported: set[TP] = set()  # partitions with a record left, logged once each
        for event in events:
            message = event.message
            tp = message.tp
            if message.generation_id != self.app.consumer_generation_id or not self._guarded(tp):
                kept.append(event)
                continue
            if tp not in expected:
                expected[tp] = self.processed.expected(tp)
            offset = expected[tp]
            if offset is None:
                kept.append(event)
            elif message.offset > offset:
                if tp not in reported:
                    reported.add(tp)
                    log.warning(
                        "%s: handed offset %d before %d; left to be read again in order",
                        _name(tp),
                        message.offset,
                        offset,
                    )
                self.processed.ahead(tp)
                left.append(event)
            else:
                kept.append(event)
                expected[tp] = max(offset, message.offset + 1)
        return kept, left

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        guarded = [tp for tp in committed if self._guarded(tp)]
        # A partition never committed is read from its first record (auto_offset_reset).
        unknown = [tp for tp in guarded if committed[tp] is None]
        earliest = await self.earliest_offsets(*unknown) if unknown else {}
        for tp in guarded:
            offset = committed[tp]
            self.processed.reset(tp, offset if offset is not None else earliest.get(tp, 0))
        # Records of partitions no longer ours finished after the revocation: not ours to commit.
        self.processed.forget(tp for tp in self.processed.partitions() if tp not in committed)
        if guarded:
            log.info(
                "reading from committed offsets: %s",
                ", ".join(f"{_name(tp)}={self.processed.position(tp)}" for tp in sorted(guarded)),
            )
        return committed

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self.processed.forget(revoked)
        await super().on_partitions_revoked(revoked)

    def _filter_tps_with_pending_acks(self, topics: Any = None) -> Iterator[TP]:
        pending = set(super()._filter_tps_with_pending_acks(topics))
        pending.update(
            tp
            for tp in self.processed.pending()
            if topics is None or tp in topics or tp.topic in topics
        )
        return iter(pending)

    def _new_offset(self, tp: TP) -> int | None:
        if not self._guarded(tp):
            return super()._new_offset(tp)
        # faust's acks are kept for its own waiting (wait_empty), not for committing.
        self._acked[tp].clear()
        self._acked_index[tp].clear()
        return self.processed.advance(tp)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        if not self._guarded(tp):
            await super()._add_gap(tp, offset_from, offset_to)
            return
        # faust would count these offsets as processed; they were fetched and not delivered.
        log.warning(
            "%s: offsets %d..%d did not reach the agent; not committed past them",
            _name(tp),
            offset_from,
            offset_to - 1,
        )

    @Service.task
    async def _read_skipped_again(self) -> None:
        while not self.should_stop:
            await self.sleep(self.commit_interval)
            if self.app.rebalancing or not self.flow_active:
                continue
            assignment = self.assignment()
            try:
                fetched = {
                    tp: await self.position(tp)
                    for tp in self.processed.partitions()
                    if tp in assignment
                }
                busy = {message.tp for message in self.unacked if not message.acked}
                skipped = self.processed.skipped(time.monotonic(), fetched, busy)
                skipped = {tp: offset for tp, offset in skipped.items() if tp in assignment}
                if skipped:
                    await self._seek_back(skipped)
            except Exception as exc:  # noqa: BLE001 - broker away or a rebalance: next check
                log.warning("could not seek back to skipped records yet: %r", exc)

    async def _seek_back(self, skipped: dict[TP, int]) -> None:
        earliest = await self.earliest_offsets(*skipped)
        for tp, offset in list(skipped.items()):
            first = earliest.get(tp, offset)
            if offset < first:
                # Retention deleted them before any worker read them: nothing left to read.
                log.error(
                    "%s: records %d..%d expired before they were processed",
                    _name(tp),
                    offset,
                    first - 1,
                )
                self.processed.reset(tp, first)
                del skipped[tp]
                continue
            SKIPPED_RECORDS.labels(tp.topic).inc()
            log.warning(
                "%s: the record at offset %d was skipped by the consumer; reading again from it",
                _name(tp),
                offset,
            )
        if skipped:
            await self.seek_wait(skipped)


class Transport(aiokafka_driver.Transport):
    Consumer = Consumer


def finished(app: Any, event: EventT) -> None:
    """Tell the consumer an agent is done with ``event`` (call before ``event.ack()``)."""
    app.consumer.finished(event)


def in_order(app: Any, events: list[EventT]) -> tuple[list[EventT], list[EventT]]:
    """The events an agent may process now, and those to ack and leave (Consumer.in_order)."""
    return app.consumer.in_order(events)


def _name(tp: TP) -> str:
    return f"{tp.topic}[{tp.partition}]"
