"""Real `rasd worker` processes and the records around them, for the streams tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from kafka.admin import KafkaAdminClient

from rasd.connections import kafka_admin, kafka_consumer, kafka_producer, redis_client
from rasd.keys import RedisKeys
from rasd.models import Alert, Article
from rasd.settings import Settings
from rasd.streams.app import candidates_topic
from rasd.streams.candidates import read as read_candidates
from rasd.streams.state import StateStore

REPO = Path(__file__).resolve().parents[3]
# The rule most tests use (the seed article and its reports match it).
WITHDRAWAL = """\
id: troop-withdrawal
title: Withdrawal of troops or handover of a base
severity: high
tags: [withdrawal]
match:
  any:
    - near:
        terms:
          - [انسحاب, سحب, تسليم, withdraw, withdrawal, handed]
          - [قوات, قاعدة, troops, forces, base]
        within: 5
  none: [cash withdrawal]
"""

# Short enough that a killed worker's partitions move quickly (the broker's minimum is 6 s).
FAST = {
    "RASD_STREAMS_SESSION_TIMEOUT": "6",
    "RASD_STREAMS_HEARTBEAT_INTERVAL": "1",
    "RASD_STREAMS_COMMIT_INTERVAL": "0.5",
    "RASD_STREAMS_RULES_POLL_INTERVAL": "0.5",
}


# Workers started by a test and not killed on purpose: one that exits fails the wait at once.
RUNNING: list[Worker] = []


def wait_for(
    check: Callable[[], object],
    timeout: float,
    what: str,
    interval: float = 0.1,
    context: Callable[[], object] | None = None,
):
    """Poll ``check`` until it returns something true; fail with ``what`` after ``timeout``.

    The failure shows ``context()`` and the end of each running worker's log.
    """
    deadline = time.monotonic() + timeout
    while True:
        for worker in RUNNING:
            if not worker.alive():
                tail = "\n".join(worker.log_text().splitlines()[-30:])
                raise AssertionError(f"worker exited while waiting for {what}:\n{tail}")
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            details = [f"timed out after {timeout}s waiting for {what}"]
            if context is not None:
                details.append(f"state: {context()!r}")
            for worker in RUNNING:
                interesting = [
                    line
                    for line in worker.log_text().splitlines()
                    if "[WARNING]" in line or "[ERROR]" in line or "Recovery" in line
                ]
                details.append(f"{worker.log.name}:\n" + "\n".join(interesting[-15:]))
            raise AssertionError("\n".join(details))
        time.sleep(interval)


class Worker:
    """One `python -m rasd worker` subprocess, logging to a file."""

    def __init__(self, settings: Settings, rules_dir: Path, log: Path, env: dict[str, str]):
        self.log = log
        self.env = {
            **os.environ,
            "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
            "RASD_REDIS_URL": settings.redis_dsn,
            "RASD_NAMESPACE": settings.namespace,
            "RASD_TOPIC_PARTITIONS": str(settings.topic_partitions),
            "RASD_STATE_DIR": str(settings.state_dir),
            "RASD_RULES_DIR": str(rules_dir),
            **FAST,
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rasd", "worker"],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        RUNNING.append(self)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit, no producer flush."""
        if self in RUNNING:
            RUNNING.remove(self)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        if self in RUNNING:
            RUNNING.remove(self)
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def produce(
    settings: Settings,
    records: Iterable[Article | tuple[bytes, bytes]],
    partition: int | None = None,
) -> None:
    """Send articles (or raw key/value pairs) to the articles topic and wait for the acks."""
    producer = kafka_producer(settings, acks="all")
    try:
        for record in records:
            if isinstance(record, Article):
                key, value = record.id.encode(), record.model_dump_json().encode()
            else:
                key, value = record
            producer.send(settings.topic("articles"), key=key, value=value, partition=partition)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def outbox(settings: Settings) -> list[tuple[str, int, Alert]]:
    """Every outbox entry as (key, revision, alert), oldest first."""
    client = redis_client(settings)
    try:
        entries = client.xrange(RedisKeys(settings).outbox)
    finally:
        client.close()
    return [
        (fields["key"], int(fields["revision"]), Alert.model_validate_json(fields["alert"]))
        for _, fields in entries
    ]


def read_topic(settings: Settings, name: str, expected: int, timeout: float = 10.0) -> list:
    """At least ``expected`` records of a topic (all it has once that many arrived)."""
    consumer = kafka_consumer(
        settings,
        settings.topic(name),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=500,
    )
    records: list = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records += list(consumer)
            if len(records) >= expected:
                records += list(consumer)
                break
    finally:
        consumer.close()
    return records


def group_members(settings: Settings, admin: KafkaAdminClient | None = None) -> int:
    """How many members the workers' consumer group has once it is stable (else 0)."""
    own = admin is None
    admin = admin or kafka_admin(settings)
    try:
        (group,) = admin.describe_consumer_groups([settings.group("streams")])
    finally:
        if own:
            admin.close()
    return len(group.members) if group.state == "Stable" else 0


def wait_group(settings: Settings, members: int, timeout: float) -> None:
    """Wait until the workers' group is stable with ``members`` members."""
    admin = kafka_admin(settings)
    try:
        wait_for(
            lambda: group_members(settings, admin) == members,
            timeout,
            f"{members} workers in a stable group",
            interval=0.25,
        )
    finally:
        admin.close()


def wait_outbox(settings: Settings, count: int, timeout: float) -> list[tuple[str, int, Alert]]:
    """The outbox once it holds at least ``count`` entries."""

    def enough():
        entries = outbox(settings)
        return entries if len(entries) >= count else None

    def summary():
        return [
            (key, rev, [a.article_id for a in alert.articles])
            for key, rev, alert in outbox(settings)
        ]

    return wait_for(enough, timeout, f"{count} outbox entries", context=summary)


def loaded_rules(settings: Settings) -> list[dict[str, str]]:
    """The rule versions each running worker says it uses."""
    client = redis_client(settings)
    try:
        values = client.hvals(RedisKeys(settings).rules_loaded)
    finally:
        client.close()
    return [json.loads(v)["rules"] for v in values]


def rule_errors(settings: Settings) -> dict[str, list[str]]:
    client = redis_client(settings)
    try:
        errors = client.hgetall(RedisKeys(settings).rules_errors)
    finally:
        client.close()
    return {where: json.loads(v) for where, v in errors.items()}


def all_records(settings: Settings, topic: str) -> list:
    """Every record of ``topic`` now (read from the start until nothing more comes)."""
    consumer = kafka_consumer(
        settings,
        topic,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=1500,
    )
    try:
        return list(consumer)
    finally:
        consumer.close()


def committed_offsets(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """The committed offsets of ``group`` on ``topic``'s partitions (those it has one for)."""
    admin = kafka_admin(settings)
    try:
        offsets = admin.list_consumer_group_offsets(group)
    finally:
        admin.close()
    return {tp.partition: m.offset for tp, m in offsets.items() if tp.topic == topic}


def recovered_articles(settings: Settings, rule_id: str) -> set[str]:
    """The article ids in the rule's stories, as a worker recovers the table from its changelog."""
    table: dict[str, bytes] = {}
    for record in all_records(settings, f"{settings.group('streams')}-rule-state-changelog"):
        key = json.loads(record.key)  # faust's JSON key serializer
        if record.value is None:
            table.pop(key, None)
        else:
            table[key] = record.value
    state = StateStore(table).get(rule_id)
    return {article_id for story in state.stories for article_id in story.article_ids}


def committed_without_state(
    settings: Settings, rule_id: str = "troop-withdrawal"
) -> list[tuple[int, int, str]]:
    """Candidates below the stories group's committed offsets whose article is in no story of
    the rule's state a worker would recover: a restart would not read them again."""
    topic = candidates_topic(settings)
    marks = committed_offsets(settings, settings.group("streams"), topic)
    known = recovered_articles(settings, rule_id)
    lost = []
    for record in all_records(settings, topic):
        if record.offset < marks.get(record.partition, 0):
            for candidate in read_candidates(record.value):
                article_id = candidate.article.article_id
                if article_id not in known:
                    lost.append((record.partition, record.offset, article_id))
    return lost
