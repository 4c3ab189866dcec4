"""Hot reload of rules: the rules directory -> the compacted rules topic -> every worker.

**Publishing.** :func:`plan` compares the rule files with what the topic holds and says what to
publish: one record per rule (key = rule id, value = :class:`PublishedRule`: the file's YAML text
and metadata), a tombstone for a rule whose file is gone or no longer defines it. A file that
does not parse publishes nothing, so every rule in it keeps its last good version; its errors go
to the log, the ``rasd_rule_errors_total`` metric and the Redis hash ``<ns>:rules:errors``
(field = file path, value = JSON list of ``file:line:column: message``), where the console shows
them. Each worker publishes once at start-up; afterwards only faust's leader does, every
``rules_poll_interval`` seconds (see :mod:`rasd.streams.app`).

Each worker records the rule versions it uses in the Redis hash ``<ns>:rules:loaded`` (field =
``host:pid``, value = JSON ``{"rules": {id: version}, "at": time}``), so that one can see that
all workers agree.

**Reading.** :class:`RuleSync` reads the whole topic from the beginning with a group-less
consumer in every worker, keeps the last good :class:`~rasd.rules.Rule` per id and recompiles
the :class:`~rasd.rules.Matcher` when something changed. All workers read the same log, so they
agree on the rule set once they have read to its end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import redis.exceptions
from pydantic import BaseModel, ConfigDict

from rasd.keys import RedisKeys
from rasd.models import utcnow
from rasd.settings import Settings
from rasd.streams.metrics import RULE_ERRORS, RULES_LOADED

if TYPE_CHECKING:
    import redis.asyncio

    from rasd.rules import LoadResult, Matcher, Rule

log = logging.getLogger(__name__)


class PublishedRule(BaseModel):
    """The value of one record on the rules topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    yaml: str
    version: str
    published_at: datetime


@dataclass
class Plan:
    publish: dict[str, PublishedRule] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    ok_paths: list[str] = field(default_factory=list)


def rule_files(rules_dir: Path) -> dict[str, str]:
    """Relative path -> text of every rule file (:mod:`rasd.rules.directory` says which)."""
    from rasd.rules.directory import rule_file_names

    return {
        name: (rules_dir / name).read_text(encoding="utf-8") for name in rule_file_names(rules_dir)
    }


@lru_cache(maxsize=1024)
def _parse(text: str, path: str) -> LoadResult:
    """Rule files are compared every second; only a changed text is parsed again."""
    from rasd.rules import parse_rules

    return parse_rules(text, path)


def plan(files: dict[str, str], current: dict[str, PublishedRule]) -> Plan:
    """What to publish so that the topic reflects ``files`` (path -> YAML text)."""
    from rasd.rules.directory import duplicate_ids

    result = Plan()
    defined: dict[str, str] = {}
    parsed = {path: (text, _parse(text, path)) for path, text in files.items()}
    duplicates = duplicate_ids(parsed)
    for path, (text, loaded) in parsed.items():
        errors = [str(e) for e in (*loaded.errors, *duplicates.get(path, {}).values())]
        if errors:
            result.errors[path] = errors
            continue
        result.ok_paths.append(path)
        for rule in loaded.rules:
            defined[rule.id] = path
            old = current.get(rule.id)
            if old is None or old.version != rule.version or old.path != path:
                result.publish[rule.id] = PublishedRule(
                    path=path, yaml=text, version=rule.version, published_at=utcnow()
                )
    for rule_id, old in current.items():
        file_gone = old.path not in files
        dropped = old.path in result.ok_paths and rule_id not in defined
        if file_gone or dropped:
            result.delete.append(rule_id)
    return result


def load_record(rule_id: str, value: PublishedRule) -> tuple[Rule | None, list[str]]:
    """The rule ``rule_id`` from a topic record, or None and the reasons it could not load."""
    loaded = _parse(value.yaml, value.path)
    if loaded.errors:
        return None, [str(e) for e in loaded.errors]
    for rule in loaded.rules:
        if rule.id == rule_id:
            return rule, []
    return None, [f"{value.path}: no rule with id {rule_id!r} in the published file"]


class RuleSync:
    """Keeps this process's rule set equal to the rules topic; publishes the rules directory."""

    def __init__(self, settings: Settings, redis_client: redis.asyncio.Redis, rules_dir: Path):
        self.settings = settings
        self._keys = RedisKeys(settings)
        self.rules_dir = rules_dir
        self.ready = asyncio.Event()
        self.records: dict[str, PublishedRule] = {}
        self.rules: dict[str, Rule] = {}
        self._redis = redis_client
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._matcher: Matcher | None = None
        self._consumer = None
        self._producer = None
        self._task: asyncio.Task | None = None

    @property
    def matcher(self) -> Matcher:
        """The current rule set, compiled (once it has been read, and again after a change)."""
        if self._matcher is None:
            from rasd.rules import Matcher

            self._matcher = Matcher(self.rules.values())
        return self._matcher

    async def start(self, publish: bool = True) -> None:
        """Read the topic to its end (publishing the directory first if asked), then follow it."""
        from rasd.connections import aiokafka_consumer, aiokafka_producer

        # Without a group id the consumer is assigned every partition and starts at the beginning.
        self._consumer = aiokafka_consumer(
            self.settings,
            self.settings.topic("rules"),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._producer = aiokafka_producer(self.settings, acks="all")
        await self._consumer.start()
        await self._producer.start()
        await self.catch_up()
        if publish:
            await self.publish()
        await self._report_loaded()
        # Compiled now rather than in the first batch of articles, so that a process can keep it
        # out of the collector's reach with the rest of what it loaded (rasd.startup).
        self.matcher  # noqa: B018
        self.ready.set()
        self._task = asyncio.create_task(self._follow(), name="rasd-rule-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            await self._redis.hdel(self._keys.rules_loaded, self.worker_id)
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()

    async def publish(self) -> Plan:
        """Publish what changed in the rules directory and wait until this worker has read it."""
        files = await asyncio.to_thread(rule_files, self.rules_dir)
        todo = plan(files, self.records)
        topic = self.settings.topic("rules")
        sends = [
            await self._producer.send(
                topic, key=rule_id.encode(), value=v.model_dump_json().encode()
            )
            for rule_id, v in todo.publish.items()
        ] + [
            await self._producer.send(topic, key=rule_id.encode(), value=None)
            for rule_id in todo.delete
        ]
        await asyncio.gather(*sends)
        try:
            await self._report_file_errors(todo)
        except (redis.exceptions.RedisError, OSError) as exc:
            log.warning("could not record the rule file errors in Redis: %s", exc)
        if sends:
            log.info("published %d rule(s), deleted %d", len(todo.publish), len(todo.delete))
            await self.catch_up()
        return todo

    async def catch_up(self, timeout: float = 30.0) -> None:
        """Read the topic up to the end offsets it has now."""
        consumer = self._consumer
        async with asyncio.timeout(timeout):
            while not consumer.assignment():
                await self._poll(timeout_ms=50)
            ends = await consumer.end_offsets(list(consumer.assignment()))
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                await self._poll(timeout_ms=100)

    async def _follow(self) -> None:
        while True:
            try:
                await self._poll(timeout_ms=500)
            except Exception:  # noqa: BLE001 - keep following; the consumer reconnects
                log.exception("reading the rules topic failed; retrying")
                await asyncio.sleep(1.0)

    async def _poll(self, timeout_ms: int) -> None:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms)
        changed = False
        status: dict[str, list[str] | None] = {}  # error field -> errors, None clears it
        for records in batches.values():
            for record in records:
                changed |= self._apply(record.key.decode(), record.value, status)
        if changed:
            self._matcher = None
            if self.ready.is_set():
                self.matcher  # noqa: B018 - compiled once here, not in the next batch
            RULES_LOADED.set(len(self.rules))
            log.info("rule set now has %d rule(s): %s", len(self.rules), sorted(self.rules))
        await self._record_status(status, changed)

    def _apply(self, rule_id: str, raw: bytes | None, status: dict) -> bool:
        """Apply one topic record to the rule set; say whether the rule set changed."""
        error_field = f"topic:{rule_id}"
        status[error_field] = None
        if raw is None:
            self.records.pop(rule_id, None)
            return self.rules.pop(rule_id, None) is not None
        try:
            value = PublishedRule.model_validate_json(raw)
            rule, errors = load_record(rule_id, value)
        except ValueError as exc:
            rule, errors = None, [f"rule record {rule_id!r}: {exc}"]
        if rule is None:
            status[error_field] = errors
            return False  # the last good version of the rule stays
        self.records[rule_id] = value
        self.rules[rule_id] = rule
        return True

    async def _record_status(self, status: dict[str, list[str] | None], changed: bool) -> None:
        """Errors and loaded versions into Redis; Redis being away must not stop the reload."""
        try:
            for where, errors in status.items():
                if errors is None:
                    await self._redis.hdel(self._keys.rules_errors, where)
                else:
                    await self._record_errors(where, errors)
            if changed:
                await self._report_loaded()
        except (redis.exceptions.RedisError, OSError) as exc:
            log.warning("could not record the rule set in Redis: %s", exc)

    async def _report_loaded(self) -> None:
        """Say which rule versions this worker uses (the console compares the workers)."""
        loaded = {"rules": {i: r.version for i, r in sorted(self.rules.items())}, "at": utcnow()}
        await self._redis.hset(
            self._keys.rules_loaded, self.worker_id, json.dumps(loaded, default=str)
        )

    async def _report_file_errors(self, todo: Plan) -> None:
        for path, errors in todo.errors.items():
            await self._record_errors(path, errors)
        known = await self._redis.hkeys(self._keys.rules_errors)
        stale = [f for f in known if not f.startswith("topic:") and f not in todo.errors]
        if stale:
            await self._redis.hdel(self._keys.rules_errors, *stale)

    async def _record_errors(self, where: str, errors: Iterable[str]) -> None:
        errors = list(errors)
        key = self._keys.rules_errors
        if await self._redis.hget(key, where) == json.dumps(errors):
            return  # already known: report a broken file once, not on every poll
        for error in errors:
            log.error("rule not loaded, keeping the last good version: %s", error)
        RULE_ERRORS.inc()
        await self._redis.hset(key, where, json.dumps(errors))
