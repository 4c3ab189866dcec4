"""Redis memory after 100,000 articles through the real pipeline with the default bounds.

    python bench/state.py [--articles 100000] [--days 10]

Articles go in as the connectors put them (``ArticleSink``: Kafka plus the Redis dedup mark),
with fetch times spread over ``--days`` ending now (about 10,000 articles a day by default, a
few hundred feeds); one real `rasd worker` with the shipped ``rules/`` matches and groups
them; one real `rasd notify run` delivers the alerts to a webhook sink on 127.0.0.1. Redis is
a redis-server of the benchmark's own (no other data in it), Kafka the local dev stack (or
RASD_KAFKA_BOOTSTRAP). Once everything is delivered, the worker's bounds are applied once
more (as its next trim would be) and the benchmark prints:

- Redis ``used_memory`` empty (the baseline, same run) and after, and the difference per
  article;
- per key family (dedup marks, outbox, alerts, notify records, ...): keys and bytes
  (``MEMORY USAGE``);
- the bounded structures against their bounds (outbox entries, alerts, dead letters).

Articles come from ../shared/eval (real Arabic and English news, repeated with fresh ids;
``--eval DIR`` elsewhere) when it is present, else from tests/fixtures/streams (it says
which). Takes a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import redis  # noqa: E402

from bench import pipeline  # noqa: E402
from bench._sink import WebhookSink  # noqa: E402
from bench.pipeline import corpus, stop_worker  # noqa: E402
from rasd.connections import (  # noqa: E402
    async_redis_client,
    kafka_admin,
    kafka_consumer,
    redis_client,
)
from rasd.devstack.namespace import drop_namespace  # noqa: E402
from rasd.keys import RedisKeys  # noqa: E402
from rasd.settings import Settings  # noqa: E402
from rasd.streams.app import candidates_topic  # noqa: E402
from rasd.streams.config import StreamsSettings  # noqa: E402
from rasd.topics import ensure_topics  # noqa: E402

RECEIVERS = """\
receivers:
  - {{name: desk, type: webhook, url: "{url}/desk", secret_env: BENCH_SECRET}}
  - {{name: iraq-desk, type: webhook, url: "{url}/iraq-desk", secret_env: BENCH_SECRET}}
route:
  receiver: desk
  group_by: [rule]
  group_wait: 1s
  group_interval: 2s
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis_client(Settings(redis_url=url))
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start") from None
            time.sleep(0.05)
    client.close()
    return proc, url


def process_env(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RASD_")},
        "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
        "RASD_REDIS_URL": settings.redis_dsn,
        "RASD_NAMESPACE": settings.namespace,
        "RASD_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "RASD_STATE_DIR": str(settings.state_dir),
        "RASD_RULES_DIR": str(REPO / "rules"),
        "RASD_LOG_LEVEL": "WARNING",
        **extra,
    }


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rasd", *args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def produce(settings: Settings, n: int, days: float) -> tuple[int, str, float]:
    """``n`` articles through the connectors' sink; (produced, corpus origin, seconds)."""

    from rasd.connectors.sink import ArticleSink

    base, where = corpus()
    end = datetime.now(UTC)
    step = timedelta(days=days) / n
    client = async_redis_client(settings)
    sink = ArticleSink(settings, client, "bench-state", seen_ttl=14 * 86400)
    produced, started = 0, time.monotonic()
    try:
        for start in range(0, n, 500):
            batch = [
                base[i % len(base)].model_copy(
                    update={"id": f"s{i}", "fetched_at": end - (n - i) * step}
                )
                for i in range(start, min(n, start + 500))
            ]
            produced += len(await sink.publish(batch))
    finally:
        await sink.close()
        await client.aclose()
    return produced, where, time.monotonic() - started


def consumer_lag(settings: Settings) -> int:
    """Records the worker's consumer group has not committed yet, over all its topics."""
    admin = kafka_admin(settings)
    consumer = kafka_consumer(settings)
    try:
        # The match stage's group reads the articles, faust's the candidates.
        wanted = {
            settings.group("match"): settings.topic("articles"),
            settings.group("streams"): candidates_topic(settings),
        }
        committed = {}
        for group, topic in wanted.items():
            offsets = admin.list_consumer_group_offsets(group)
            committed.update({tp: m.offset for tp, m in offsets.items() if tp.topic == topic})
        if len({tp.topic for tp in committed}) < len(wanted):
            return -1
        ends = consumer.end_offsets(list(committed))
        return sum(ends[tp] - offset for tp, offset in committed.items())
    finally:
        consumer.close()
        admin.close()


def outbox_waiting(client: redis.Redis, settings: Settings) -> int:
    try:
        groups = client.xinfo_groups(RedisKeys(settings).outbox)
    except redis.exceptions.ResponseError:
        return -1
    if not groups:
        return -1
    return sum(int(g["pending"]) + int(g.get("lag") or 0) for g in groups)


def wait_until_done(client, settings, worker, notifier, timeout: float) -> float:
    started = time.monotonic()
    quiet_since = None
    while time.monotonic() - started < timeout:
        for name, proc in (("worker", worker), ("notifier", notifier)):
            if proc.poll() is not None:
                raise SystemExit(f"the {name} exited with {proc.returncode}; see its log")
        done = consumer_lag(settings) == 0 and outbox_waiting(client, settings) == 0
        due = client.zcard(RedisKeys(settings).notify_due)
        if done and due == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 5:  # nothing new for a few seconds
                return time.monotonic() - started
        else:
            quiet_since = None
        time.sleep(1)
    raise SystemExit(f"the pipeline did not finish within {timeout:.0f}s")


def families(client: redis.Redis, settings: Settings) -> dict[str, tuple[int, int]]:
    """Key family (the key with ids replaced by *) -> (keys, bytes)."""
    namespace = settings.namespace
    out: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    keys = list(client.scan_iter(match=RedisKeys(settings).everything, count=5000))
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.memory_usage(key, samples=0)
        for key, size in zip(chunk, pipe.execute(), strict=True):
            family = _family(key, namespace)
            out[family][0] += 1
            out[family][1] += size or 0
    return {name: (count, size) for name, (count, size) in out.items()}


def _family(key: str, namespace: str) -> str:
    parts = key.removeprefix(namespace + ":").split(":")
    shapes = {
        "seen": "seen:<article>",
        "alert": "alert:<key>:rev:<n>",
        "feed": "feed:<name>:...",
    }
    if parts[0] in shapes:
        return shapes[parts[0]]
    if parts[:2] == ["notify", "status"]:
        return "notify:status:<alert>"
    if parts[:2] == ["notify", "sent"]:
        return "notify:sent:<receiver>:<alert>"
    if parts[:2] == ["notify", "rule-sent"]:
        return "notify:rule-sent:<receiver>:<rule>"
    if parts[:2] == ["notify", "group"]:
        return "notify:group:<id>[:alerts]"
    return ":".join(parts)


def mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--eval",
        type=Path,
        default=pipeline.EVAL,
        help="the shared eval folder (default ../shared/eval next to the repository)",
    )
    args = parser.parse_args()
    pipeline.EVAL = args.eval

    from rasd.devstack.stack import services_up

    base = Settings()
    if base.kafka_is_local:
        services_up(base, log=lambda _m: None)
    work = Path(tempfile.mkdtemp(prefix="rasd-bench-state-"))
    redis_proc, redis_url = start_redis(work)
    settings = Settings(
        kafka_bootstrap=base.kafka_servers,
        redis_url=redis_url,
        namespace=f"bstate{uuid.uuid4().hex[:8]}",
        topic_partitions=base.topic_partitions,
        state_dir=work / "state",
    )
    ensure_topics(settings)
    client = redis_client(settings)
    baseline = client.info("memory")["used_memory"]
    sink = WebhookSink()
    receivers = work / "receivers.yaml"
    receivers.write_text(RECEIVERS.format(url=sink.url))
    env = process_env(settings, {"BENCH_SECRET": "bench"})
    worker = spawn(["worker"], env, work / "worker.log")
    notifier = spawn(["notify", "run", "-c", str(receivers)], env, work / "notify.log")
    ok = False
    try:
        produced, where, produce_s = asyncio.run(produce(settings, args.articles, args.days))
        print(f"articles: {produced:,} produced in {produce_s:.0f}s, from {where}")
        drained = wait_until_done(client, settings, worker, notifier, args.timeout)
        print(f"pipeline drained {drained:.0f}s after the last article was produced")
        from rasd.outbox import Bounds, Outbox

        config = StreamsSettings()
        bounds = Bounds(
            outbox_max_age=config.outbox_max_age,
            outbox_max_entries=config.outbox_max_entries,
            alerts_max_age=config.alerts_max_age,
            alerts_max=config.alerts_max,
        )

        async def trim():
            aclient = async_redis_client(settings)
            try:
                return await Outbox(aclient, settings, bounds=bounds).trim()
            finally:
                await aclient.aclose()

        trimmed = asyncio.run(trim())
        print(f"final trim (as the worker's next one): {trimmed.entries} entries, "
              f"{trimmed.alerts} alerts")  # fmt: skip
        used = client.info("memory")["used_memory"]
        print(
            f"redis used_memory: empty {mib(baseline)}, after {mib(used)}; "
            f"{(used - baseline) / max(1, produced):,.0f} bytes per article"
        )
        rows = sorted(families(client, settings).items(), key=lambda r: -r[1][1])
        total = sum(size for _, (_, size) in rows)
        print(f"{'key family':40} {'keys':>9} {'memory':>12} {'share':>6}")
        for name, (count, size) in rows:
            print(f"{name:40} {count:9,} {mib(size):>12} {size / total:6.1%}")
        keys = RedisKeys(settings)
        sizes = {name: size for name, (_, size) in rows}
        counts = {name: count for name, (count, _) in rows}
        entries, alerts = client.xlen(keys.outbox), client.hlen(keys.alerts)
        per_day = produced / args.days
        at_bounds = {
            "outbox": sizes.get("outbox", 0) / max(1, entries) * bounds.outbox_max_entries,
            "alerts + index": (sizes.get("alerts", 0) + sizes.get("alerts:by-time", 0))
            / max(1, alerts)
            * bounds.alerts_max,
            "seen marks (14 days)": sizes.get("seen:<article>", 0)
            / max(1, counts.get("seen:<article>", 1))
            * per_day
            * 14,
        }
        print(
            f"at the bounds (this run's bytes per entry, {per_day:,.0f} articles a day): "
            + ", ".join(f"{name} {mib(size)}" for name, size in at_bounds.items())
        )
        print(
            f"outbox: {client.xlen(keys.outbox):,} entries (bound {bounds.outbox_max_entries:,}"
            f", {bounds.outbox_max_age / 3600:g} h); alerts: {client.hlen(keys.alerts):,} "
            f"(bound {bounds.alerts_max:,}, {bounds.alerts_max_age / 86400:g} days); "
            f"dead letters: {client.xlen(keys.notify_dead):,}; "
            f"alerts delivered to the sink: {sink.delivered():,}"
        )
        ok = True
    finally:
        stop_worker(worker)
        stop_worker(notifier)
        sink.close()
        client.close()
        drop_namespace(settings)
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"logs kept in {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
