"""Chaos campaign: is an alert ever lost or duplicated when processes and services are killed?

    python bench/chaos.py [--seed 1] [--articles 480] [--rate 3] [--keep]

Against the real local stack (`rasd dev up`, or RASD_KAFKA_BOOTSTRAP / RASD_REDIS_URL), in a
namespace of its own: 8 feeds served by an HTTP server on 127.0.0.1 grow while the campaign
runs, and a quarter of the articles arrive as `rasd ingest` batches of JSONL files instead.
Every article is an event of its own, so each expects exactly one alert, delivered to a
webhook stand-in on 127.0.0.1 (each alert its own notify group). Real processes do the work
(`rasd connectors run`, `rasd worker`, `rasd notify run`); with a seeded schedule the campaign
kill -9s connectors, workers and notifiers at random moments (a replacement starts a few
seconds later), runs two of each part for a while, and kills and restarts Redis and the Kafka
broker once each (only when they are the local stack's own processes).

Printed: articles expected / produced (in the articles topic), alerts expected / in the outbox
/ delivered, lost, duplicated (beyond the documented at-most-one duplicate per alert, which
needs a notifier death), dead letters, processes that exited by themselves (restarted and
counted), and the recovery time after each kill: from the kill until every article released
before it has been delivered.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._sink import WebhookSink  # noqa: E402
from bench._stack import local_stack  # noqa: E402
from rasd.keys import RedisKeys  # noqa: E402
from rasd.settings import Settings  # noqa: E402

FEEDS = 8
RULE = """\
id: chaos-withdrawal
title: Withdrawal of troops (chaos campaign)
severity: high
match:
  near:
    terms:
      - [انسحاب, withdraw]
      - [قوات, troops]
    within: 4
"""
NOTIFY = """\
receivers:
  - {{name: sink, type: webhook, url: "{url}/hook", secret_env: CHAOS_SECRET}}
route:
  receiver: sink
  group_by: [key]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
delivery:
  poll_interval: 100ms
  timeout: 2s
  lease: 5s
  reclaim_idle: 5s
  backoff_initial: 200ms
  backoff_max: 2s
  max_attempts: 100
"""
# Short enough that a killed worker's partitions move quickly (the broker's minimum is 6 s).
WORKER_ENV = {
    "RASD_STREAMS_SESSION_TIMEOUT": "6",
    "RASD_STREAMS_HEARTBEAT_INTERVAL": "1",
    "RASD_STREAMS_COMMIT_INTERVAL": "0.5",
}
ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
LATIN = "bcdfghjklmnpqrstvwxz"


# -- articles ------------------------------------------------------------------------------


@dataclass
class Item:
    """One article of the campaign: its number, where it arrives, when it was released."""

    n: int
    channel: str  # "feed-<i>" or "ingest"
    lang: str
    title: str
    summary: str
    released: float | None = None  # wall-clock time (the feed's pubDate)
    released_at: float | None = None  # seconds since the campaign started

    def url(self, base: str) -> str:
        return f"{base}/a/{self.n}"


def make_items(rnd: random.Random, count: int) -> list[Item]:
    """Distinct events: the rule's words plus words no other article has."""

    def words(alphabet: str, k: int) -> str:
        return " ".join("".join(rnd.choice(alphabet) for _ in range(6)) for _ in range(k))

    items = []
    for n in range(count):
        channel = "ingest" if n % 4 == 3 else f"feed-{rnd.randrange(FEEDS)}"
        if n % 2:
            title = f"انسحاب القوات من {words(ARABIC, 8)}"
            items.append(Item(n, channel, "ar", title, words(ARABIC, 12)))
        else:
            title = f"Troops withdraw from {words(LATIN, 8)}"
            items.append(Item(n, channel, "en", title, words(LATIN, 12)))
    return items


def article_number(url: str | None) -> int | None:
    if not url or "/a/" not in url:
        return None
    tail = url.rsplit("/a/", 1)[1]
    return int(tail) if tail.isdigit() else None


class FeedServer:
    """8 RSS documents that grow as items are released; each poll sees all released so far."""

    def __init__(self) -> None:
        self.items: dict[str, list[Item]] = {f"feed-{i}": [] for i in range(FEEDS)}
        self.lock = threading.Lock()
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                name = self.path.strip("/").removesuffix(".xml")
                body = feeds.document(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self, item: Item) -> None:
        with self.lock:
            self.items[item.channel].append(item)

    def document(self, name: str) -> bytes | None:
        with self.lock:
            if name not in self.items:
                return None
            items = list(self.items[name])
        entries = "".join(
            f"<item><title>{escape(i.title)}</title><link>{i.url(self.base)}</link>"
            f"<guid>{i.url(self.base)}</guid><description>{escape(i.summary)}</description>"
            f"<pubDate>{format_datetime(datetime.fromtimestamp(i.released, UTC))}</pubDate>"
            "</item>"
            for i in reversed(items)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{name}</title><link>{self.base}/</link><description>chaos</description>"
            f"{entries}</channel></rss>"
        ).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Webhook(WebhookSink):
    """The receiver's stand-in: every delivery of every alert, with its time."""

    def first_delivery(self) -> dict[int, float]:
        """Article number -> the first delivery of an alert about it."""
        with self.lock:
            numbers = {key: _article_of(alert) for key, alert in self.alerts.items()}
            return {
                numbers[key]: times[0]
                for key, times in self.deliveries.items()
                if numbers[key] is not None
            }


def _article_of(alert: dict) -> int | None:
    urls = [a.get("url") for a in alert.get("articles", [])]
    return article_number(urls[0] if urls else None)


# -- processes -----------------------------------------------------------------------------


class Processes:
    """The rasd processes of the campaign, by kind; a process that exits by itself is restarted."""

    def __init__(self, settings: Settings, work: Path, feeds_file: Path, notify_file: Path):
        self.work = work
        self.env = {
            **os.environ,
            "RASD_KAFKA_BOOTSTRAP": settings.kafka_servers,
            "RASD_REDIS_URL": settings.redis_dsn,
            "RASD_NAMESPACE": settings.namespace,
            "RASD_TOPIC_PARTITIONS": str(settings.topic_partitions),
            "RASD_STATE_DIR": str(work / "state"),
            "RASD_RULES_DIR": str(work / "rules"),
            "RASD_LOG_LEVEL": "INFO",
            "CHAOS_SECRET": "chaos",
            **WORKER_ENV,
        }
        self.argv = {
            "connector": [
                "connectors",
                "run",
                "--feeds",
                str(feeds_file),
                "--interval",
                "2",
                "--lease-ttl",
                "6",
                "--metrics-port",
                "0",
            ],  # fmt: skip
            "worker": ["worker"],
            "notifier": ["notify", "run", "-c", str(notify_file)],
        }
        self.running: dict[str, list[subprocess.Popen]] = {kind: [] for kind in self.argv}
        self.exits: Counter[str] = Counter()
        self.started = 0

    def start(self, kind: str) -> None:
        self.started += 1
        log = self.work / "logs" / f"{kind}-{self.started}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rasd", *self.argv[kind]],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.running[kind].append(proc)

    def kill(self, kind: str, rnd: random.Random) -> bool:
        """kill -9 one running process of ``kind``; False when none runs."""
        procs = [p for p in self.running[kind] if p.poll() is None]
        if not procs:
            return False
        victim = rnd.choice(procs)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.running[kind].remove(victim)
        return True

    def scale(self, kind: str, count: int) -> None:
        """Start or stop (SIGTERM) processes until ``count`` of ``kind`` run."""
        self.restart_exited()
        while len(self.running[kind]) < count:
            self.start(kind)
        while len(self.running[kind]) > count:
            proc = self.running[kind].pop()
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def restart_exited(self) -> None:
        """A process that exited without being killed is counted and started again."""
        for kind, procs in self.running.items():
            for proc in [p for p in procs if p.poll() is not None]:
                procs.remove(proc)
                self.exits[kind] += 1
                self.start(kind)

    def stop_all(self) -> None:
        for kind in self.running:
            self.scale(kind, 0)


# -- the campaign ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the campaign does; the defaults are the issue's campaign."""

    articles: int = 480
    rate: float = 3.0  # articles released per second
    kills: dict[str, int] = field(
        default_factory=lambda: {"connector": 3, "worker": 3, "notifier": 3}
    )
    two_of_each: bool = True
    services: bool = True  # kill and restart Redis and the Kafka broker once each
    settle: float = 240.0  # seconds to wait for the last deliveries


@dataclass
class Report:
    articles_expected: int
    articles_produced: int
    articles_in_kafka_twice: int
    alerts_in_outbox: int
    alerts_delivered: int
    lost_in_streams: list[int]
    lost_in_notify: list[int]
    outbox_duplicates: int
    second_deliveries: int
    duplicated: int
    dead_letters: int
    notify_dead_letters: int
    exits: dict[str, int]
    notifier_deaths: int
    # (what was killed, when, first delivery of a later article, all earlier ones delivered)
    recoveries: list[tuple[str, float, float | None, float | None]]
    skipped: list[str]
    seconds: float

    @property
    def lost(self) -> int:
        return len(self.lost_in_streams) + len(self.lost_in_notify)

    def lines(self) -> list[str]:
        out = [
            f"articles expected {self.articles_expected}, produced {self.articles_produced}"
            f" (in the articles topic more than once: {self.articles_in_kafka_twice})",
            f"alerts expected {self.articles_expected}, in outbox {self.alerts_in_outbox},"
            f" delivered {self.alerts_delivered}",
            f"lost {self.lost} (never in the outbox: {self.lost_in_streams[:20]};"
            f" in the outbox, never delivered: {self.lost_in_notify[:20]})",
            f"duplicated {self.duplicated} (outbox entries repeated: {self.outbox_duplicates};"
            f" second deliveries: {self.second_deliveries}, allowed after"
            f" {self.notifier_deaths} notifier deaths)",
            f"dead letters: streams {self.dead_letters}, notify {self.notify_dead_letters}",
            "processes that exited by themselves (restarted): "
            + (", ".join(f"{k} {v}" for k, v in self.exits.items() if v) or "none"),
            "recovery after each kill: flowing (an article released after it delivered),"
            " caught up (every article released before it delivered), seconds after the kill:",
        ]
        for what, at, flowing, caught_up in self.recoveries:
            out.append(
                f"  at {at:6.1f} s  kill -9 {what:<10} flowing {_seconds(flowing):>7}"
                f"  caught up {_seconds(caught_up):>7}"
            )
        out.extend(f"not done: {reason}" for reason in self.skipped)
        out.append(f"campaign took {self.seconds:.0f} s")
        return out


class Campaign:
    def __init__(self, settings: Settings, work: Path, seed: int, plan: Plan, log=print):
        self.settings = settings
        self.work = work
        self.rnd = random.Random(seed)
        self.plan = plan
        self.log = log
        self.items = make_items(self.rnd, plan.articles)
        self.feeds = FeedServer()
        self.hook = Webhook()
        self.kills: list[tuple[str, float]] = []
        self.skipped: list[str] = []
        self.lock = threading.Lock()
        self.releasing = True
        self.t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def run(self) -> Report:
        from rasd.topics import ensure_topics

        ensure_topics(self.settings)
        (self.work / "rules").mkdir(parents=True, exist_ok=True)
        (self.work / "rules" / "chaos.yaml").write_text(RULE, encoding="utf-8")
        feeds_file, base = self.work / "feeds.yaml", self.feeds.base
        feeds_file.write_text(
            "poller: {max_backoff: 3s, connect_timeout: 2s, read_timeout: 5s}\nfeeds:\n"
            + "".join(
                f"  - {{name: chaos-{i}, outlet: outlet{i}, url: '{base}/feed-{i}.xml'}}\n"
                for i in range(FEEDS)
            ),
            encoding="utf-8",
        )
        notify_file = self.work / "receivers.yaml"
        notify_file.write_text(NOTIFY.format(url=self.hook.url), encoding="utf-8")
        procs = Processes(self.settings, self.work, feeds_file, notify_file)
        try:
            for kind in procs.argv:
                procs.scale(kind, 1)
            self._release_and_kill(procs)
            for kind in procs.argv:
                procs.scale(kind, 1)
            self._settle(procs)
            return self._report(procs)
        finally:
            procs.stop_all()
            self.feeds.close()
            self.hook.close()

    def _events(self, duration: float) -> list[tuple[float, str]]:
        """The seeded schedule: (seconds from the start of the releases, what)."""
        rnd, events = self.rnd, []
        for kind, count in self.plan.kills.items():
            events += [(rnd.uniform(0.1, 0.9) * duration, f"kill {kind}") for _ in range(count)]
        if self.plan.two_of_each:
            events += [(0.25 * duration, "scale 2"), (0.65 * duration, "scale 1")]
        if self.plan.services:
            events += [
                (rnd.uniform(0.3, 0.45) * duration, "kill redis"),
                (rnd.uniform(0.55, 0.75) * duration, "kill kafka"),
            ]
        return sorted(events)

    def _release_and_kill(self, procs: Processes) -> None:
        duration = self.plan.articles / self.plan.rate
        events = self._events(duration)
        batch: list[Item] = []
        batches: list[list[Item]] = []
        ingesting = threading.Thread(target=self._ingest_all, args=(batches,), daemon=True)
        ingesting.start()
        services: list[threading.Thread] = []
        replacements: list[tuple[float, str]] = []
        copies = 1
        start = time.monotonic()
        next_item = 0
        while next_item < len(self.items) or events or replacements:
            elapsed = time.monotonic() - start
            while next_item < len(self.items) and next_item / self.plan.rate <= elapsed:
                item = self.items[next_item]
                item.released = time.time()
                item.released_at = self.now()
                if item.channel == "ingest":
                    batch.append(item)
                else:
                    self.feeds.release(item)
                next_item += 1
            if len(batch) >= 10 or (batch and next_item == len(self.items)):
                with self.lock:
                    batches.append(batch)
                batch = []
            while events and events[0][0] <= elapsed:
                _, what = events.pop(0)
                verb, target = what.split()
                if verb == "scale":
                    copies = int(target)
                    for kind in procs.argv:
                        procs.scale(kind, copies)
                    self.log(f"{self.now():6.1f} s  {copies} of each part")
                elif target in procs.argv:
                    if procs.kill(target, self.rnd):
                        self.kills.append((target, self.now()))
                        self.log(f"{self.now():6.1f} s  kill -9 {target}")
                        replacements.append((elapsed + self.rnd.uniform(1, 8), target))
                    else:  # its replacement is not started yet: kill a little later
                        events = sorted([*events, (elapsed + 1.0, what)])
                else:
                    services.append(threading.Thread(target=self._kill_service, args=(target,)))
                    services[-1].start()
            for due, kind in [r for r in replacements if r[0] <= elapsed]:
                replacements.remove((due, kind))
                procs.scale(kind, max(copies, len(procs.running[kind]) + 1))
            procs.restart_exited()
            time.sleep(0.1)
        for thread in services:
            thread.join()
        self.releasing = False
        ingesting.join()

    def _ingest_all(self, batches: list[list[Item]]) -> None:
        """Run the batches in order; a failed one (Kafka or Redis down) is tried again."""
        while True:
            with self.lock:
                batch = batches[0] if batches else None
            if batch is None:
                if not self.releasing:
                    return
                time.sleep(0.2)
            elif self._ingest(batch):
                with self.lock:
                    batches.pop(0)
            else:
                time.sleep(2)

    def _ingest(self, batch: list[Item]) -> bool:
        """`rasd ingest` of one JSONL file; False (try again later) if it failed."""
        path = self.work / f"ingest-{batch[0].n}.jsonl"
        path.write_text(
            "".join(
                json.dumps(
                    {
                        "url": i.url(self.feeds.base),
                        "title": i.title,
                        "summary": i.summary,
                        "lang": i.lang,
                        "outlet": "ingest",
                        "feed": "ingest",
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for i in batch
            ),  # fmt: skip
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "RASD_KAFKA_BOOTSTRAP": self.settings.kafka_servers,
            "RASD_REDIS_URL": self.settings.redis_dsn,
            "RASD_NAMESPACE": self.settings.namespace,
        }
        try:
            done = subprocess.run(
                [sys.executable, "-m", "rasd", "ingest", str(path)],
                cwd=REPO,
                env=env,
                capture_output=True,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def _kill_service(self, name: str) -> None:
        from rasd.devstack.kafka import KafkaBroker
        from rasd.devstack.redis import RedisServer

        base = Settings()
        local = base.kafka_is_local if name == "kafka" else base.redis_is_local
        service = KafkaBroker(base) if name == "kafka" else RedisServer(base)
        pid = service.process.pid() if local else None
        if pid is None:
            self.skipped.append(f"{name} kill: it is not the local stack's own process")
            return
        # The pid is the service's supervisor, the leader of its process group: killing it
        # alone made its child (the broker, Redis) get SIGTERM and shut down gracefully,
        # holding its ports for seconds, so the restart below found them taken and gave up.
        # The whole group dies at once, as a crashed machine's would.
        os.killpg(pid, signal.SIGKILL)
        while service.process.pid() is not None:
            time.sleep(0.05)
        self.kills.append((name, self.now()))
        self.log(f"{self.now():6.1f} s  kill -9 {name}")
        time.sleep(self.rnd.uniform(2, 5))
        service.start()
        self.log(f"{self.now():6.1f} s  {name} back")

    def _settle(self, procs: Processes) -> None:
        deadline = time.monotonic() + self.plan.settle
        while time.monotonic() < deadline:
            procs.restart_exited()
            if len(self.hook.first_delivery()) >= len(self.items):
                break
            time.sleep(0.5)
        # Late duplicates would show now.
        quiet = time.monotonic() + 8
        while time.monotonic() < quiet:
            procs.restart_exited()
            time.sleep(0.5)

    def _report(self, procs: Processes) -> Report:
        from rasd.models import Alert

        expected = {i.n for i in self.items}
        produced = Counter(
            number
            for number in (article_number(json.loads(v).get("url")) for v in self._articles())
            if number is not None
        )
        client = _redis(self.settings)
        try:
            entries = client.xrange(RedisKeys(self.settings).outbox)
            notify_dead = client.xlen(RedisKeys(self.settings).notify_dead)
        finally:
            client.close()
        pairs = Counter((f["key"], f["revision"]) for _, f in entries)
        keys_of: dict[int, set[str]] = {}
        for _, f in entries:
            alert = Alert.model_validate_json(f["alert"])
            number = article_number(alert.articles[0].url if alert.articles else None)
            if number is not None:
                keys_of.setdefault(number, set()).add(f["key"])
        delivered = self.hook.first_delivery()
        with self.hook.lock:
            counts = {k: len(v) for k, v in self.hook.deliveries.items()}
        deaths = sum(1 for kind, _ in self.kills if kind == "notifier") + procs.exits["notifier"]
        second = sum(1 for c in counts.values() if c == 2)
        beyond = sum(max(0, c - 2) for c in counts.values())
        beyond += sum(len(keys) - 1 for keys in keys_of.values())
        if deaths == 0:
            beyond += second
        return Report(
            articles_expected=len(expected),
            articles_produced=len(expected & set(produced)),
            articles_in_kafka_twice=sum(1 for c in produced.values() if c > 1),
            alerts_in_outbox=len(expected & set(keys_of)),
            alerts_delivered=len(expected & set(delivered)),
            lost_in_streams=sorted(expected - set(keys_of)),
            lost_in_notify=sorted((expected & set(keys_of)) - set(delivered)),
            outbox_duplicates=sum(c - 1 for c in pairs.values()),
            second_deliveries=second,
            duplicated=beyond + sum(c - 1 for c in pairs.values()),
            dead_letters=len(self._records("dead-letters")),
            notify_dead_letters=notify_dead,
            exits=dict(procs.exits),
            notifier_deaths=deaths,
            recoveries=[(kind, at, *self._recovery(at, delivered)) for kind, at in self.kills],
            skipped=self.skipped,
            seconds=self.now(),
        )

    def _recovery(self, at: float, delivered: dict[int, float]) -> tuple[float | None, ...]:
        """Seconds from the kill until the pipeline flows again and until it has caught up."""
        done = {n: t - self.t0 for n, t in delivered.items()}
        released = [i for i in self.items if i.released_at is not None]
        after = [done[i.n] for i in released if i.released_at > at and i.n in done]
        flowing = min(after) - at if after else None
        before = [i for i in released if i.released_at <= at]
        if any(i.n not in done for i in before):
            caught_up = None
        else:
            caught_up = max([0.0, *(done[i.n] - at for i in before)])
        return flowing, caught_up

    def _articles(self) -> list[bytes]:
        return self._records("articles")

    def _records(self, name: str) -> list[bytes]:
        from rasd.connections import kafka_consumer

        consumer = kafka_consumer(
            self.settings,
            self.settings.topic(name),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            consumer_timeout_ms=3000,
        )
        try:
            return [r.value for r in consumer]
        finally:
            consumer.close()


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def _redis(settings: Settings):
    from rasd.connections import redis_client

    return redis_client(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--articles", type=int, default=480)
    parser.add_argument("--rate", type=float, default=3.0, help="articles released per second")
    parser.add_argument("--keep", action="store_true", help="keep the namespace and the logs")
    args = parser.parse_args()

    base = Settings()
    # Stopped at the end if this run started it, the services the campaign killed and
    # restarted included (they were left running before).
    with local_stack(base):
        target = campaign(args, base)
    sys.exit(0 if target else 1)


def campaign(args: argparse.Namespace, base: Settings) -> bool:
    """One campaign on the running stack; True when nothing was lost or duplicated."""
    from rasd.devstack.namespace import drop_namespace

    run_id = f"chaos{args.seed}x{uuid.uuid4().hex[:6]}"
    work = base.state_dir.resolve() / "bench" / run_id
    settings = Settings(
        kafka_bootstrap=base.kafka_servers,
        redis_url=base.redis_dsn,
        namespace=run_id,
        topic_partitions=base.topic_partitions,
        state_dir=work / "state",
    )
    plan = Plan(articles=args.articles, rate=args.rate)
    print(f"seed {args.seed}, {args.articles} articles, namespace {run_id}, logs in {work}")
    try:
        report = Campaign(settings, work, args.seed, plan).run()
    finally:
        if not args.keep:
            drop_namespace(settings)
    print("\n".join(report.lines()))
    target = report.lost == 0 and report.duplicated == 0
    print("target (0 lost, 0 duplicated):", "met" if target else "NOT met")
    return target


if __name__ == "__main__":
    main()
