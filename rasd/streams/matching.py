"""The match stage: articles -> matches and story candidates, on a plain aiokafka consumer.

    rasd.articles ──MatchStage──► rasd.matches            (Match JSON, key = rule id)
                            └───► <ns>-streams-story-candidates  (key = rule id; faust's stories)
                            └───► rasd.dead-letters       (records that are not Articles)

Each Match is a record of its own (``rasd.matches`` is a public contract); the story candidates
of a batch go as one record per rule (:mod:`rasd.streams.candidates`: a JSON array of the rule's
candidates in the batch's order, split under a byte limit), since the stories agent pays
faust's per-record path once per record, whatever the record holds.

Matching is stateless, so it needs none of faust's machinery (tables, changelogs, co-partitioning)
and paid for all of its per-record path (fetcher, conductor, channel queue, the drain loop's
tasks, event objects, acks): about 160 us an article before any matching. Here a loop takes
what the consumer has fetched (``getmany``, up to ``batch_max`` records), matches the batch back
to back, sends every output, waits until Kafka has acknowledged each of them, and only then
commits the batch's offsets (``{partition: last offset + 1}``) in the stage's own consumer group
(``<ns>-match``), before it takes the next batch.

**Why nothing is lost.** A committed offset is where the partition's next owner starts. It
moves only after every output of every record below it was delivered, and it moves to exactly
one past the batch's last record of the partition; the consumer hands over a partition's records
in offset order, with no holes (the articles topic is neither compacted nor transactional), and
the next batch starts where this one ended. So a committed offset never passes a record whose
outputs are not in Kafka. (faust needed a commit guard of its own, :mod:`rasd.streams.transport`,
because *its* consumer could hand a record to nobody after a rebalance and commit past it; a
plain consumer whose loop commits what it has delivered has no such path.) A failed send or a
broker away is retried with backoff, never skipped; the batch is not committed meanwhile.

**Replays.** A worker killed mid-batch, a commit refused because the group has moved on (the
partition has a new owner), or a stop half-way through a batch: the records after the last
commit are read again, by this worker or the partition's new owner. That repeats Match records
(``rasd.matches`` is at-least-once) and candidates, which the stories agent and the outbox
absorb: a report already in a story changes nothing, and a revision computed again is
recognised by the outbox (ARCHITECTURE.md, Streams, "Crashes and replays").

**Rebalances.** On a revocation the stage lets the batch in progress finish and commit before
the partitions go (:meth:`MatchStage._on_revoked`), so the new owner starts after it.

**Upgrading from the faust agent.** Before this stage existed the faust app's group
(``<ns>-streams``) consumed the articles topic; its committed offsets are the only record of
what was processed, and the topic keeps 30 days. A partition assigned with no committed offset
in the stage's group starts at the faust group's committed offset when it has one, else at the
log start (``auto_offset_reset``): an upgrade does not re-match (and re-page) a month of news.

The stage sends through faust's producer (one aiokafka producer per process: the stories
agent's alerts and changelog writes and the stage's records share its connections), so it is
started by the app once the app runs (:func:`rasd.streams.app.create_app`), and stopped before
it. It hands a batch's records to it as one aiokafka batch per partition
(:mod:`rasd.streams.sending`: one acknowledgement to wait for a batch rather than a future and
faust's and aiokafka's per-record path each), on the partitions ``send`` would have chosen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import mode
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from faust.exceptions import ProducerSendError
from pydantic import ValidationError

from rasd.codec import encode, read_article
from rasd.connections import aiokafka_admin, aiokafka_consumer
from rasd.models import Article
from rasd.settings import Settings
from rasd.startup import collector_paused
from rasd.streams.candidates import records as candidate_records
from rasd.streams.config import StreamsSettings
from rasd.streams.deadletters import dead_letter
from rasd.streams.metrics import ARTICLES, DEAD_LETTERS, MATCHES, STAGE_CPU, CpuSteps
from rasd.streams.rulesync import RuleSync
from rasd.streams.sending import Output, acknowledged, send
from rasd.streams.similarity import Fingerprint
from rasd.streams.stories import Candidate
from rasd.streams.transport import METADATA_MAX_AGE_MS

log = logging.getLogger(__name__)

# How long one getmany waits for records when none are there (an idle stage loops this often).
FETCH_WAIT_MS = 100
# Backoff of a failed send, fetch or start (doubling).
RETRY_START, RETRY_MAX = 0.5, 10.0

# The steps of the stage's loop whose CPU time is counted (rasd_stream_stage_cpu_seconds_total):
# fetch (getmany), match (parse and match a batch), outputs (fingerprints and the records' JSON),
# deliver (sends and their acknowledgements), commit, stories_turn (the app's after_batch).
STEPS = ("fetch", "match", "outputs", "deliver", "commit", "stories_turn")


def reason(exc: Exception) -> str:
    """A dead letter's reason: where the record is not an Article, or what the analyser raised."""
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        return f"not an Article: {where}: {first['msg']}"
    return f"{type(exc).__name__}: {exc}"


class MatchStage(mode.Service):
    """Consume the articles topic in group ``<ns>-match``; produce matches and candidates.

    ``producer()`` is the aiokafka producer to send through (faust's, asked for each batch);
    ``candidates`` is the stories agent's input topic; ``after_batch``
    is awaited after each committed batch (the app lets its stories agent catch up). The stage waits
    until ``rules`` has read the rules topic to its end, and takes its current matcher once per
    batch (a reload applies from the next batch).
    """

    def __init__(
        self,
        settings: Settings,
        config: StreamsSettings,
        rules: RuleSync,
        producer: Callable[[], Any],
        candidates: str,
        after_batch: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.config = config
        self.rules = rules
        self._producer = producer
        self._after_batch = after_batch
        self.articles = settings.topic("articles")
        self.matches = settings.topic("matches")
        self.dead_letters = settings.topic("dead-letters")
        self.candidates = candidates
        self.group_id = settings.group("match")
        # The faust app's group, which consumed the articles before this stage (upgrades).
        self.legacy_group_id = settings.group("streams")
        self.consumer: Any = None
        # Held from the moment a batch is taken until it is committed (or abandoned).
        self._batch = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    async def on_stop(self) -> None:
        # Service.stop cancels the loop only after on_stop; a batch in progress is abandoned
        # (not committed) here, so that the consumer leaves the group with nothing half-done.
        for future in list(self._futures):
            future.cancel()
        if self._futures:
            await asyncio.wait(list(self._futures), timeout=10)
        if self.consumer is not None:
            await self.consumer.stop()

    @mode.Service.task
    async def _run(self) -> None:
        await self.wait_for_stopped(self.rules.ready)
        if self.should_stop:
            return
        await self._retrying("start the articles consumer", self._start_consumer)
        steps = CpuSteps(STAGE_CPU, STEPS)
        while not self.should_stop:
            records = await self._retrying("fetch articles", self._fetch)
            steps.charge("fetch")
            if records:
                await self._process_batch(records, steps)
                if self._after_batch is not None:
                    await self._after_batch()
                    steps.charge("stories_turn")

    async def _start_consumer(self) -> None:
        c = self.config
        consumer = aiokafka_consumer(
            self.settings,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(c.session_timeout * 1000),
            heartbeat_interval_ms=int(c.heartbeat_interval * 1000),
            fetch_max_wait_ms=FETCH_WAIT_MS,
            # The stage gets its partitions seconds after a broker restart, not minutes.
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        consumer.subscribe([self.articles], listener=_Handover(self))
        # The group is joined in the background and the listener may run before start returns.
        self.consumer = consumer
        try:
            await consumer.start()
        except BaseException:
            self.consumer = None
            await consumer.stop()
            raise

    async def _fetch(self) -> dict[TopicPartition, list]:
        return await self.consumer.getmany(
            timeout_ms=FETCH_WAIT_MS, max_records=self.config.batch_max
        )

    async def _retrying(self, what: str, step: Callable[[], Awaitable[Any]]) -> Any:
        """``step()``, again after a backoff while Kafka fails it (never skipping anything)."""
        delay = RETRY_START
        while True:
            try:
                return await step()
            except (KafkaError, ProducerSendError, OSError) as exc:
                if self.should_stop:
                    raise asyncio.CancelledError from exc
                log.warning("could not %s (%r); retrying in %.1fs", what, exc, delay)
                await self.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    # -- one batch ---------------------------------------------------------------------------
    async def _process_batch(self, fetched: dict[TopicPartition, list], steps: CpuSteps) -> None:
        async with self._batch:
            # A partition revoked between the fetch and here is the new owner's: its records
            # were not committed by us and are read again there.
            assigned = self.consumer.assignment()
            fetched = {tp: records for tp, records in fetched.items() if tp in assigned}
            if not fetched:
                return
            outputs = self._outputs([r for records in fetched.values() for r in records], steps)
            await self._retrying("send the matches", lambda: self._deliver(outputs))
            steps.charge("deliver")
            await self._commit({tp: records[-1].offset + 1 for tp, records in fetched.items()})
            steps.charge("commit")

    def _outputs(self, records: list, steps: CpuSteps) -> list[Output]:
        """Every record to send for ``records``: matched back to back, then their outputs in order.

        Matching is the one long synchronous step; done for the whole batch at once, it is not
        interleaved with the consumer's and the producer's work.
        """
        matcher = self.rules.matcher
        ARTICLES.inc(len(records))
        # Only the records with outputs are kept to the end of the batch: an article that
        # matches nothing (most) is freed as soon as it is matched, so the next one is built in
        # the memory it leaves and the collector never sees it (kept, the batch's articles
        # doubled its time in matching: 4-5 against 2 us an article, bench/pipeline.py's backlog).
        with collector_paused():
            kept = [
                (record, article, found)
                for record in records
                for article, found in (_read(record, matcher),)
                if found
            ]
        steps.charge("match")
        outputs: list[Output] = []
        candidates: dict[bytes, list[bytes]] = {}
        for record, article, found in kept:
            if article is None:
                outputs.append(self._dead_letter(record, found))
            elif found:
                outputs += self._published(article, found, candidates)
        outputs += (
            (self.candidates, key, value)
            for key, encoded in candidates.items()
            for value in candidate_records(encoded)
        )
        steps.charge("outputs")
        return outputs

    def _dead_letter(self, record: Any, why: str) -> Output:
        log.warning("dead letter %s[%d]@%d: %s", record.topic, record.partition, record.offset, why)
        DEAD_LETTERS.inc()
        letter = dead_letter(record.topic, record.partition, record.offset, why, record.value)
        return self.dead_letters, record.key, letter

    def _published(
        self, article: Article, found: list, candidates: dict[bytes, list[bytes]]
    ) -> Iterable[Output]:
        """A Match on the matches topic for each rule that matched; its story candidate is added
        to the rule's in ``candidates`` (sent once per rule and batch, :mod:`.candidates`)."""
        fingerprint = Fingerprint.of(article.title, article.summary, article.lang)
        for m in found:
            MATCHES.labels(m.rule_id).inc()
            key = m.rule_id.encode()
            yield self.matches, key, encode(m)
            candidate = Candidate.from_match(m, article, fingerprint)
            candidates.setdefault(key, []).append(encode(candidate))

    async def _deliver(self, outputs: list[Output]) -> None:
        """Send every output, then wait until Kafka acknowledged each one."""
        await acknowledged(await send(self._producer(), outputs))

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved on (this member was fenced or lost the partitions): the new owner
            # reads the batch again, which the outbox absorbs.
            log.warning("batch not committed, the group has rebalanced: %r", exc)
        except KafkaError as exc:
            # The next batch's commit covers these offsets too; a crash before it replays them.
            log.warning("batch not committed (%r); the next commit covers it", exc)

    # -- rebalances --------------------------------------------------------------------------
    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        # The batch in progress is finished and committed before the partitions go.
        async with self._batch:
            pass

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        if not assigned:
            return
        # The fetcher starts on the new assignment while this listener awaits the broker: paused,
        # the partitions return no record fetched from a position not yet decided. (aiokafka logs
        # and swallows a listener's exception: should one escape, they stay paused, and are not
        # read from the log start.)
        self.consumer.pause(*assigned)
        await self._retrying("read the committed offsets", lambda: self._positions(assigned))
        self.consumer.resume(*assigned)

    async def _positions(self, assigned: set[TopicPartition]) -> None:
        """Seek the partitions the group never committed to where the faust agent stopped."""
        committed = await _group_offsets(self.settings, self.group_id, assigned)
        fresh = [tp for tp in assigned if tp not in committed]
        if not fresh:
            return
        legacy = await _group_offsets(self.settings, self.legacy_group_id, fresh)
        for tp, offset in sorted(legacy.items()):
            log.info(
                "%s[%d]: no offset of %s yet; starting where %s stopped, at %d",
                tp.topic,
                tp.partition,
                self.group_id,
                self.legacy_group_id,
                offset,
            )
            self.consumer.seek(tp, offset)


class _Handover(ConsumerRebalanceListener):
    def __init__(self, stage: MatchStage) -> None:
        self.stage = stage

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.stage._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.stage._on_assigned(assigned)


def _read(record: Any, matcher: Any) -> tuple[Article | None, list | str]:
    """The record's article and its matches, or None and why it is a dead letter."""
    try:
        article = read_article(record.value)  # pydantic's ValidationError when not one
        return article, matcher.match(article)
    except Exception as exc:  # noqa: BLE001 - one bad record must not stop the stage
        return None, reason(exc)


async def _group_offsets(
    settings: Settings, group_id: str, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """The committed offsets of ``group_id`` for ``partitions`` (those it has one for)."""
    admin = aiokafka_admin(settings)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group_id, partitions=list(partitions))
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}
