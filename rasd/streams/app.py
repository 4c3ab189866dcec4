"""The faust app of `rasd worker`: the agent `stories`, the rule-state table, the match stage.

    articles ──MatchStage──► matches           (Match JSON, key = rule id; for other consumers)
                       └───► story-candidates  (internal, key = rule id) ──stories──► outbox
                                                                                  └─► alerts

Matching is stateless and runs outside faust's per-record path, in
:class:`~rasd.streams.matching.MatchStage` (a plain aiokafka consumer in its own group
``<ns>-match``, committing each batch once its outputs are delivered), which the app starts
once it runs and which sends through the app's producer. ``stories`` owns the table
``rule-state`` (one :class:`~rasd.streams.stories.RuleState` per rule id, changelogged to Kafka,
in memory), so the candidates topic and the table are co-partitioned by rule id: one worker at a
time decides about all reports of a rule, whichever partition the articles came from. faust's
group (``<ns>-streams``) consumes the candidates topic only. A candidates record holds a rule's
candidates of one match-stage batch, or one candidate as workers before wrote it
(:mod:`rasd.streams.candidates`); it is one event, finished once all its candidates are grouped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from contextlib import contextmanager

import faust
import faust.streams as faust_streams
import mode

from rasd.codec import encode
from rasd.connections import async_redis_client, faust_broker_settings
from rasd.outbox import Bounds, Outbox, Written
from rasd.settings import Settings
from rasd.streams.candidates import read as read_candidates
from rasd.streams.config import StreamsSettings
from rasd.streams.matching import MatchStage
from rasd.streams.metrics import ALERTS, STORIES_CPU, CpuSteps
from rasd.streams.rulesync import RuleSync
from rasd.streams.sending import acknowledged
from rasd.streams.sending import send as send_batches
from rasd.streams.state import ChangelogTable, StateStore
from rasd.streams.stories import Limits, Revision, RuleState, advance
from rasd.streams.transport import (
    METADATA_MAX_AGE_MS,
    PARTITION_FETCH_BYTES,
    finished,
    in_order,
)

log = logging.getLogger(__name__)

# How long the match stage waits, after a batch, for the stories agent to empty its buffer.
STORIES_TURN = 0.25


class Runtime(mode.Service):
    """The connections the agents share; started by the worker before the app.

    ``loaded`` is called once the rule set is read and compiled (the worker freezes what it has
    loaded then, :func:`rasd.startup.freeze_loaded`).
    """

    def __init__(
        self,
        settings: Settings,
        config: StreamsSettings,
        publish_rules: bool = True,
        loaded: Callable[[], object] | None = None,
    ):
        super().__init__()
        self.settings = settings
        self.config = config
        self.publish_rules = publish_rules
        self._loaded = loaded
        self.redis = None
        self.rule_sync: RuleSync | None = None
        self.outbox: Outbox | None = None

    async def on_start(self) -> None:
        self.redis = async_redis_client(self.settings)
        await wait_for_redis(self.redis.ping)
        c = self.config
        bounds = Bounds(
            outbox_max_age=c.outbox_max_age,
            outbox_max_entries=c.outbox_max_entries,
            alerts_max_age=c.alerts_max_age,
            alerts_max=c.alerts_max,
            trim_interval=c.trim_interval,
        )
        self.outbox = Outbox(self.redis, self.settings, ttl=c.idempotency_ttl, bounds=bounds)
        self.rule_sync = RuleSync(self.settings, self.redis, self.settings.rules_dir)
        await self.rule_sync.start(publish=self.publish_rules)
        log.info("rules loaded: %s", sorted(self.rule_sync.rules))
        if self._loaded is not None:
            self._loaded()

    async def on_stop(self) -> None:
        if self.rule_sync is not None:
            await self.rule_sync.stop()
        if self.redis is not None:
            await self.redis.aclose()


async def wait_for_redis(ping, max_delay: float = 10.0) -> None:
    """Call ``ping`` until Redis answers: a worker started during an outage waits it out.

    The rule set reports itself to Redis and the outbox lives there, so a worker cannot start
    without it; a start-up that fails exits, and would do so again at each restart.
    """
    import redis.exceptions

    delay = 0.5
    while True:
        try:
            await ping()
            return
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            log.warning("Redis unreachable (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


@contextmanager
def _current(event):
    """Make ``event`` faust's current event, as inside ``async for event in stream``.

    A table write goes to the changelog partition of the current event's partition, which
    faust knows only while a stream hands over one event at a time; a batch body has to say
    which event a write belongs to (all candidates of a rule share its partition).
    """
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


async def _batches(stream, max_size: int, wait: float = 0.0):
    """The events of ``stream`` in batches: those in its buffer once the first one came.

    A batch starts with the next event (an idle agent sleeps until one comes), then takes,
    ``wait`` seconds later, the events that arrived meanwhile, up to ``max_size``. Without the
    wait there is nothing to take: faust's drain loop hands records over one at a time, and an
    agent waiting for its next event runs as soon as one is there, so the two took turns per
    record (a loop turn, a wake-up and faust's per-record tasks each time, and matching
    interleaved with all of it). faust's ``take_events`` waits too, but wakes up every
    ``within`` seconds while idle, with a few tasks each time, and hands events over through a
    background task; this is the plain event iteration. The events stay unacked until the
    caller acks them (``stream`` is a ``noack()`` stream), and none is held while the agent
    waits for the next record: a batch ends when the buffer is empty.
    """
    queue = stream.channel.queue
    batch: list = []
    async for event in stream.events():
        if not batch and wait:
            await asyncio.sleep(wait)
        batch.append(event)
        if len(batch) >= max_size or queue.empty():
            yield batch
            batch = []


def candidates_topic(settings: Settings) -> str:
    """The stories agent's input: the match stage's candidates, keyed by rule id."""
    return f"{settings.group('streams')}-story-candidates"


def create_app(settings: Settings, config: StreamsSettings, runtime: Runtime) -> faust.App:
    app = faust.App(
        settings.group("streams"),
        # rasd:// is faust's aiokafka transport with our commit guard (rasd.streams.transport).
        **faust_broker_settings(settings, scheme="rasd"),
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=config.session_timeout,
        broker_heartbeat_interval=config.heartbeat_interval,
        broker_commit_interval=config.commit_interval,
        # A matching article sends a Match, a candidate per rule, then a changelog write and
        # its alerts: gathered into one produce request rather than one request each.
        producer_linger=config.producer_linger,
        producer_max_batch_size=config.producer_batch_bytes,
        # Small fetches, so that the candidates interleave with a backlog of articles.
        consumer_max_fetch_size=PARTITION_FETCH_BYTES,
        # The stories agent gets its partitions seconds after a broker restart, not minutes.
        consumer_metadata_max_age_ms=METADATA_MAX_AGE_MS,
        web_enabled=config.web_port > 0,
        web_port=config.web_port or 6066,
        datadir=str(settings.state_dir / "faust"),
    )
    raw = {"key_serializer": "raw", "value_serializer": "raw"}
    alerts_topic = settings.topic("alerts")
    candidates = app.topic(
        candidates_topic(settings),
        partitions=settings.topic_partitions,
        internal=True,
        **raw,
    )
    # As app.Table() makes it, of the class whose changelog writes can be awaited.
    rule_state = app.tables.add(
        ChangelogTable(
            app,
            name="rule-state",
            beacon=app.tables.beacon,
            # Keys in faust's default JSON; values are JSON bytes, one entry per story and a
            # head per rule (rasd.streams.state).
            key_type=str,
            value_type=bytes,
            partitions=settings.topic_partitions,
        )
    )
    states = StateStore(rule_state)
    limits = Limits.from_config(config)

    # Revisions delivered to the alerts topic whose outbox claims still say "unpublished":
    # marked in the next batch's outbox round trip rather than in one of their own.
    unmarked: list[Revision] = []

    async def group(events) -> None:
        """Advance the rule states by a batch of candidates; each rule's state is written once.

        Outbox first, topic second, state last: if the worker dies in between, the replay
        computes the same revisions, the outbox recognises them and says whether the topic
        still lacks one (at least once on the topic, exactly once in Redis). A batch keeps that
        order as a whole: every alert is in the outbox, then delivered to Kafka, then the
        states are written and delivered to the changelog, and only then are the records
        finished (a committed record's state is never lost: the replay starts from a state
        that holds every record before it). The outbox learns that the batch's alerts are on
        the topic with the next batch's writes: until then a replay of them sends them to the
        topic again, which a worker dying before the mark did anyway.
        """
        # advance: the candidates parsed, grouped and their alerts encoded; state: the table writes.
        steps = CpuSteps(STORIES_CPU, ("advance", "state"))
        changed: dict[str, RuleState] = {}
        last_event = {}  # per rule: a table write goes to the changelog partition of its event
        found: list[Revision] = []
        try:
            for event in events:
                rule_id = event.key.decode()
                rule = runtime.rule_sync.rules.get(rule_id)
                # advance() changes the state in place: it is `changed` from here on.
                state = changed[rule_id] if rule_id in changed else states.get(rule_id)
                changed[rule_id], last_event[rule_id] = state, event
                # A record holds the rule's candidates of one match-stage batch (or, written
                # by a worker of before, one candidate), in their order.
                for candidate in read_candidates(event.value):
                    state, revisions = advance(state, candidate, rule, limits)
                    changed[rule_id] = state
                    found += revisions
            pairs = [(r.alert, r.revision) for r in found]
            # Encoded once, for the outbox and the alerts topic.
            values = [encode(alert) for alert, _ in pairs]
            steps.charge("advance")
            marks = [(r.alert, r.revision) for r in unmarked]
            written_all = await runtime.outbox.write_many(pairs, values, published=marks)
            del unmarked[: len(marks)]
            publishing = []
            for revision, value, written in zip(found, values, written_all, strict=True):
                if written is Written.NEW:
                    ALERTS.labels(revision.alert.kind).inc()
                if written.publish:
                    publishing.append((revision, value))
            if publishing:
                # faust's aiokafka producer, one batch a partition (rasd.streams.sending):
                # faust's Topic.send and producer.send cost more a record than the record.
                sent = await send_batches(
                    app.producer._ensure_producer(),
                    [(alerts_topic, r.alert.key.encode(), value) for r, value in publishing],
                )
                await acknowledged(sent)  # delivered to Kafka before the outbox says so
                unmarked.extend(revision for revision, _ in publishing)
            steps.restart()  # the waits for Redis and Kafka ran other tasks
        except BaseException:
            for rule_id in changed:
                states.forget(rule_id)  # the cached objects may be half-changed
            raise
        for rule_id, state in changed.items():
            with _current(last_event[rule_id]):
                states.put(rule_id, state)
        steps.charge("state")
        await rule_state.delivered()

    # Acks are manual: faust acks an event when the agent leaves it, even when the agent was
    # cancelled (shutdown, rebalance) half-way through it, and a half-processed record whose
    # offset is committed is never processed again. Here an event is acked once it is done,
    # and `finished` tells the consumer which offsets it may commit (rasd.streams.transport).
    # The agent takes its events in batches (`_batches`: what arrives within `batch_wait` of
    # the first, up to `batch_max`); a batch's events are finished, in order, only after all
    # of the batch's outputs, so a worker dying half-way through a batch commits none of it,
    # and a busy rule's state is written once per batch rather than once per match.
    @app.agent(candidates)
    async def stories(stream):
        await runtime.rule_sync.ready.wait()
        queue = stream.channel.queue
        async for batch in _batches(stream.noack(), config.batch_max, config.batch_wait):
            caught_up.clear()
            # A partition's candidates are grouped in offset order only, as in the run before a
            # crash: one handed over after a skipped one waits for it (rasd.streams.transport).
            events, left = in_order(app, batch)
            for event in left:
                event.ack()  # not finished: read again from the partition's position
            if events:
                await group(events)
            for event in events:
                finished(app, event)
                event.ack()
            if queue.empty():
                caught_up.set()

    # Set while the stories agent has no candidate waiting in its buffer (see stories_turn).
    caught_up = asyncio.Event()
    caught_up.set()

    async def stories_turn() -> None:
        """Let the stories agent catch up on its buffered candidates (for at most STORIES_TURN s).

        Through a backlog the match stage would otherwise hold the event loop, between short
        waits for its deliveries, and the stories agent, whose candidates cost more each, fell
        behind: the backlog's candidates were grouped after it, and the first steady reports
        waited 0.5-1.4 s behind them. Only this worker's agent counts, and only for a while: the
        candidates may belong to another worker's partitions, and matching must go on.
        """
        if not caught_up.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(caught_up.wait(), STORIES_TURN)

    @app.timer(interval=config.rules_poll_interval, on_leader=True)
    async def publish_rules():
        if runtime.publish_rules and runtime.rule_sync is not None:
            try:
                await runtime.rule_sync.publish()
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("publishing the rules directory failed")

    @app.task
    async def match_articles():
        # Started once the app runs: the stage sends through the app's producer, and the
        # candidates topic exists by then. A child of the app, it is stopped before the producer.
        stage = MatchStage(
            settings,
            config,
            runtime.rule_sync,
            # faust's aiokafka producer (faust's Producer.send wraps each record's send in a
            # signal and a coroutine of its own; the stage sends whole batches to it).
            producer=app.producer._ensure_producer,
            candidates=candidates.get_topic_name(),
            after_batch=stories_turn,
        )
        await app.add_runtime_dependency(stage)

    return app
