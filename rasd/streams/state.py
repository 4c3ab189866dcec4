"""The rule states in faust's changelogged table: one entry per story, and a head per rule.

A busy rule keeps up to ``story_max_open`` stories of up to ``story_max_articles`` reports,
hundreds of kilobytes of JSON, while a candidate changes one story. Written as one value per
rule, every batch sent the whole state to the changelog again (10 MB/s on the pipeline bench's
steady stream). Here a state is stored as

- ``<rule id>``: the head, the state without its stories' contents: clock, escalation windows,
  and the stories as ``[id, revision]`` pairs, in order;
- ``<rule id>\\x1f<story id>\\x1f<revision>``: one story's JSON.

A story changes only through :func:`~rasd.streams.stories.advance`, which raises its revision
(a new story is revision 0), so within one line of states a story's id and revision name its
content, and a write sends only the stories whose revision the table does not hold yet.

A batch's writes reach the changelog in order (one partition: the rule's), and a worker can
die between any two of them. They are ordered so that every prefix recovers a whole state: the
new story entries first, then the head that names them, and only then the tombstones of the
entries the head no longer names. A recovered state is therefore the old one or the new one,
never a mix, and the replayed candidates compute the same revisions again (the outbox knows
them). Entries written before a head that never came are named by no head; the replay writes
the same keys again and the next writes delete them as usual.

A value written before this layout (a rule's whole state as one JSON object, its stories
inside) is read as it is, and the next write stores that rule in this layout.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import faust

from rasd.codec import encode
from rasd.streams.sending import send, send_to
from rasd.streams.stories import RuleState, Story

log = logging.getLogger(__name__)

SEPARATOR = "\x1f"  # not in rule ids (schema) and not in article ids in practice


def story_key(rule_id: str, story_id: str, revision: int) -> str:
    """The table key of one revision of one story of a rule."""
    return f"{rule_id}{SEPARATOR}{story_id}{SEPARATOR}{revision}"


class ChangelogTable(faust.Table):
    """faust's table, whose changelog writes can be awaited (:meth:`delivered`).

    A table write goes to the changelog through faust's producer buffer, and faust's commit
    does not wait for it: its ``flush()`` of that buffer gives up after 0.1 s without a send,
    and does not count the write its sender task has taken from the buffer and not yet handed
    to aiokafka. A record could then be committed while its state was still in the worker,
    and a kill -9 lost the state with the record no longer read again (the next report of
    that event started a second story). The stories agent waits here before it finishes its
    records, so that a committed record's state is in the changelog.

    The writes themselves are sent by :meth:`delivered`, in their order, straight to faust's
    aiokafka producer, with the topic, partition, key and value bytes faust's buffer would send:
    faust's way, a future message with its callbacks and sensors per write, handed over through
    a buffer and a task of its own, cost more than the write. They go as one aiokafka batch per
    partition (a rule's writes all go to its partition) rather than one ``send`` each, whose
    signal, metadata wait, size check and future per record cost more than the record's bytes.
    Recovery and standbys read them as any changelog record. A write only waits in the table
    until its batch calls :meth:`delivered`, which the stories agent does right after its writes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sending: list[asyncio.Future] = []
        self._unsent: list[tuple[int | None, Any, Any]] = []

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        sent = super().send_changelog(*args, **kwargs)
        self._sending.append(sent)
        return sent

    def on_key_set(self, key: Any, value: Any) -> None:
        # faust's on_key_set also keeps key expiry (not used: no window, no TTL) and sensors.
        self._unsent.append((self.partition_for_key(key), key, value))

    def on_key_del(self, key: Any) -> None:
        self._unsent.append((self.partition_for_key(key), key, None))

    async def delivered(self) -> None:
        """Return once every changelog write made so far is in Kafka (raise if one failed)."""
        unsent, self._unsent = self._unsent, []
        if unsent:
            topic = self.changelog_topic
            # The bytes faust would send: its key and value serializers (a deletion is a
            # tombstone: no value, which faust sends as None with "raw").
            writes: dict[int | None, list[tuple[bytes, bytes | None]]] = {}
            for partition, key, value in unsent:
                key_bytes, _ = topic.prepare_key(key, self.key_serializer)
                value_bytes = (
                    None if value is None else topic.prepare_value(value, self.value_serializer)[0]
                )
                writes.setdefault(partition, []).append((key_bytes, value_bytes))
            name = topic.get_topic_name()
            producer = self.app.producer._ensure_producer()
            for partition, records in writes.items():
                if partition is None:  # a table that uses the partitioner: the key's, as send's
                    self._sending += await send(producer, [(name, k, v) for k, v in records])
                else:
                    self._sending += await send_to(producer, name, partition, records)
        sending, self._sending = self._sending, []
        if sending:
            await asyncio.gather(*sending)


class StateStore:
    """Rule states as objects, in front of the table that holds their entries.

    Decoding a rule's state on every batch would cost as much as the grouping itself, so the
    object is kept with the head value it was read from or written as: after a rebalance or a
    recovery the table holds another head, and the state is read afresh from the table.
    """

    def __init__(self, table: MutableMapping[str, bytes]) -> None:
        self._table = table
        # rule id -> (head value, the state, {story id: revision} the table holds for it)
        self._objects: dict[str, tuple[bytes, RuleState, dict[str, int]]] = {}

    def get(self, rule_id: str) -> RuleState:
        head = self._table.get(rule_id)
        cached = self._objects.get(rule_id)
        if cached is not None and head is not None and cached[0] is head:
            return cached[1]
        if not head:
            self._objects.pop(rule_id, None)
            return RuleState(rule_id=rule_id)
        state, stored = self._read(rule_id, head)
        self._objects[rule_id] = (head, state, stored)
        return state

    def put(self, rule_id: str, state: RuleState) -> None:
        """Write ``state`` as entries: changed stories, then the head, then stale entries."""
        cached = self._objects.get(rule_id)
        stored = cached[2] if cached is not None else self._stored_now(rule_id)
        head = b""
        for key, value in self.writes(rule_id, state, stored):
            if value is None:
                if key in self._table:
                    del self._table[key]
                continue
            self._table[key] = value
            if key == rule_id:
                head = value
        self._objects[rule_id] = (head, state, {s.id: s.revision for s in state.stories})

    def forget(self, rule_id: str) -> None:
        """Drop the object kept for ``rule_id`` (it may have been changed half-way)."""
        self._objects.pop(rule_id, None)

    @staticmethod
    def writes(
        rule_id: str, state: RuleState, stored: dict[str, int]
    ) -> Iterator[tuple[str, bytes | None]]:
        """The table writes, in order, that turn ``stored`` (story id -> revision in the
        table) into ``state``; a value of None deletes the key."""
        for story in state.stories:
            if stored.get(story.id) != story.revision:
                yield story_key(rule_id, story.id, story.revision), encode(story)
        yield rule_id, _head(state)
        current = {s.id: s.revision for s in state.stories}
        for story_id, revision in stored.items():
            if current.get(story_id) != revision:
                yield story_key(rule_id, story_id, revision), None

    def _stored_now(self, rule_id: str) -> dict[str, int]:
        head = self._table.get(rule_id)
        return _refs(head) if head else {}

    def _read(self, rule_id: str, head: bytes) -> tuple[RuleState, dict[str, int]]:
        data = json.loads(head)
        if "refs" not in data:  # the layout before: the whole state in one value
            return RuleState.model_validate(data), {}
        stories = []
        for story_id, revision in data.pop("refs"):
            value = self._table.get(story_key(rule_id, story_id, revision))
            if value is None:
                # Cannot happen through put(): a head is written after the entries it names.
                log.error(
                    "rule %s: story %s@%d missing from the table", rule_id, story_id, revision
                )
                continue
            stories.append(Story.model_validate_json(value))
        state = RuleState.model_validate({**data, "stories": []})
        state.stories = stories
        return state, {s.id: s.revision for s in stories}


_NOT_IN_HEAD = frozenset({"stories"})


def _head(state: RuleState) -> bytes:
    """The state's JSON without its stories' contents, naming them by id and revision."""
    # One encoding (json.dumps took 38 us for a busy rule's 118 pairs alone); heads written by
    # json.dumps, with a space after each comma, read the same.
    refs = [[s.id, s.revision] for s in state.stories]
    return encode(state, exclude=_NOT_IN_HEAD, extra={"refs": refs})


def _refs(head: bytes) -> dict[str, int]:
    data = json.loads(head)
    return {story_id: revision for story_id, revision in data.get("refs", ())}
