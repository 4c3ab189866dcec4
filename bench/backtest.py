"""Backtest rate over a retained articles topic, against the matcher alone in the same run.

    python bench/backtest.py [--articles 100000] [--rules rules] [--eval-dir ../shared/eval]
                             [--compression zstd] [--json]

1. Produces ``--articles`` articles into the articles topic of a namespace of its own on a real
   Kafka (RASD_KAFKA_BOOTSTRAP, else the local dev stack, started when nothing runs): real
   Arabic and English RSS items from ../shared/eval (title, description and, for the Arabic
   corpus, the article text), cycled with fresh ids; built-in sentences when it is absent. The
   producer compresses as the connectors' does (zstd, linger 20 ms, 16 KB batches);
   ``--compression gzip`` makes the topic and its producer what they were before zstd (the
   records an older topic still holds), ``lz4`` or ``none`` other codecs to compare.
2. Reads the topic once to learn the order a backtest reads it in (partition by partition,
   as fetched) and to leave the broker's page cache alike for both sides, then once more,
   keeping nothing, as the reader alone (fetch, inflate, parse, no matching), whose CPU time
   per article is printed.
3. Times, over those SAME articles in that SAME order, each side with a fresh ``Matcher`` (its
   build timed on both sides), the collector set as `rasd rules backtest` sets it:
   - first pass: every analysis cache of rasd.text and rasd.rules cleared before each side, so
     both start cold (the cycled items repeat after the first few thousand, so most of a
     100,000-article pass meets words it has seen, as a month of news does);
   - second pass: both warm (the caches as the first pass left them).
   - third pass: both warm, taken in turn by slices of 250 articles inside one `run_backtest`
     (its progress reports), so that both sides meet the same load (``time_in_turn``).
   The first pass times the matcher alone first, the second the backtest first, so that a
   machine getting busier or quieter during the run favours each side once; on a shared
   machine that still moves a pass's ratio by more than the reader costs, which the third
   pass's slices do not let it do.
   The matcher alone iterates the articles in memory; the backtest is `run_backtest` (what
   `rasd rules backtest` and the console run): reader, JSON parse, matcher, counting per day.
   Rates are per CPU second of this process (the broker's own CPU is not counted; wall-clock
   rates are printed beside, and are what a shared machine disturbs most).
4. Prints the ratio backtest / matcher alone for each pass, PASS or BELOW issue 15's target
   (>= 0.80), and the topic's log segment bytes on the broker per 100,000 articles (local dev
   stack only): full 16 KB batches (a connector's busy poll), and one article per batch (a
   quiet feed, measured on a further ``--articles / 10`` articles).

The namespace is dropped at the end. A progress bar (rich) shows on a terminal; --json prints
one JSON object and nothing else.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._stack import start_local_stack, stop_local_stack  # noqa: E402
from bench._texts import make_articles, source_items  # noqa: E402
from rasd.connections import kafka_admin, kafka_producer  # noqa: E402
from rasd.devstack.namespace import drop_namespace  # noqa: E402
from rasd.models import Article  # noqa: E402
from rasd.rules import Matcher, load_rules  # noqa: E402
from rasd.rules.backtest import PROGRESS_EVERY, retained_articles, run_backtest  # noqa: E402
from rasd.settings import Settings  # noqa: E402
from rasd.startup import keep_full_collections_short  # noqa: E402
from rasd.topics import ARTICLES_COMPRESSION, ensure_topics, topic_configs  # noqa: E402

TARGET = 0.80

# As rasd.connectors.sink's producer: linger 20 ms, kafka-python's default 16 KB batches.
PRODUCER = {"linger_ms": 20, "batch_size": 16 * 1024}


def articles_topic(settings: Settings, compression: str) -> None:
    """The namespace's topics, the articles topic stored with ``compression`` (the broker
    recompresses what a producer sends in another codec)."""
    ensure_topics(settings)
    if compression == ARTICLES_COMPRESSION:
        return
    from kafka.admin import ConfigResource, ConfigResourceType

    wanted = topic_configs(settings, "articles") | {"compression.type": compression}
    admin = kafka_admin(settings)
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, settings.topic("articles"), wanted)
        admin.alter_configs([resource])
    finally:
        admin.close()


def produce(settings: Settings, articles: list[Article], **options) -> float:
    producer = kafka_producer(settings, acks="all", **options)
    began = time.perf_counter()
    try:
        topic = settings.topic("articles")
        for article in articles:
            producer.send(topic, key=article.id.encode(), value=article.model_dump_json().encode())
        producer.flush(timeout=300)
    finally:
        producer.close()
    return time.perf_counter() - began


def topic_bytes(local: Settings, topic: str) -> int | None:
    """Bytes of the topic's log segments in the local dev stack's data directory (the index
    files are preallocated, then trimmed when a segment rolls: not counted)."""
    if not local.kafka_is_local:
        return None
    logs = local.state_dir / "kafka" / "data"
    if not logs.is_dir():
        return None
    return sum(f.stat().st_size for d in logs.glob(topic + "-*") for f in d.glob("*.log"))


def clear_analysis_caches() -> int:
    """Empty every functools cache of the text analysis and the matcher (whatever their names:
    another branch may add or rename them), so that a pass starts cold."""
    cleared = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith(("rasd.text", "rasd.rules")) or module is None:
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
                cleared += 1
    gc.collect()
    return cleared


class Bar:
    """A rich progress bar on a terminal; nothing otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.progress = None
        if not quiet and sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self.progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=True,
            )

    def task(self, description: str, total: int | None):
        if self.progress is None:
            return nullcontext(lambda n: None)
        progress = self.progress
        task = progress.add_task(description, total=total)

        class Task:
            def __enter__(self):
                progress.start()
                return lambda n: progress.update(task, completed=n)

            def __exit__(self, *exc):
                progress.remove_task(task)
                progress.stop()

        return Task()


def time_alone(articles: list[Article], rules, bar: Bar, label: str) -> tuple[float, float]:
    with bar.task(f"{label}: matcher alone", len(articles)) as advance:
        began_wall, began = time.perf_counter(), time.process_time()
        # Built inside the timing, as run_backtest builds its own (0.1-0.3 s of a pass).
        matcher = Matcher(rules)
        for i, article in enumerate(articles, 1):
            matcher.match(article)
            if i % 250 == 0:
                advance(i)
        cpu, wall = time.process_time() - began, time.perf_counter() - began_wall
    return cpu, wall


def time_backtest(settings, rules, since, n: int, bar: Bar, label: str):
    with bar.task(f"{label}: backtest", n) as advance:
        began_wall, began = time.perf_counter(), time.process_time()
        found = run_backtest(settings, rules, since, on_progress=advance)
        cpu, wall = time.process_time() - began, time.perf_counter() - began_wall
    if found.articles != n:
        raise SystemExit(f"the backtest read {found.articles} articles, not {n}")
    return cpu, wall, found


def time_in_turn(settings, rules, since, articles: list[Article]):
    """Both sides at once, in slices of ``PROGRESS_EVERY`` articles taken in turn, so that the
    machine's load weighs on both alike: at every other progress report of `run_backtest`, the
    matcher alone matches the slice the backtest has just matched and the next one, so half the
    slices are matched by the matcher alone first and half by the backtest first. The matcher
    alone's CPU is taken out of the backtest's."""
    n = len(articles)
    alone = {"done": 0, "cpu": 0.0, "wall": 0.0}

    def matched(count: int) -> None:
        if (count // PROGRESS_EVERY) % 2 == 0 and count < n:
            return
        began_wall, began = time.perf_counter(), time.process_time()
        target = min(count + PROGRESS_EVERY, n) if count < n else n
        for article in articles[alone["done"] : target]:
            match(article)
        alone["done"] = target
        alone["cpu"] += time.process_time() - began
        alone["wall"] += time.perf_counter() - began_wall

    began_wall, began = time.perf_counter(), time.process_time()
    match = Matcher(rules).match  # its build timed, as run_backtest builds its own
    build_cpu, build_wall = time.process_time() - began, time.perf_counter() - began_wall
    began_wall, began = time.perf_counter(), time.process_time()
    found = run_backtest(settings, rules, since, on_progress=matched)
    cpu, wall = time.process_time() - began, time.perf_counter() - began_wall
    if found.articles != n or alone["done"] != n:
        raise SystemExit(f"read {found.articles} and matched {alone['done']} of {n} articles")
    return (
        (build_cpu + alone["cpu"], build_wall + alone["wall"]),
        (cpu - alone["cpu"], wall - alone["wall"], found),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument(
        "--compression",
        choices=("zstd", "gzip", "lz4", "none"),
        default=ARTICLES_COMPRESSION,
        help="the articles topic's codec (default: the connectors' %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object, no progress bar")
    args = parser.parse_args()

    def say(message: str) -> None:
        if not args.json:
            print(message, flush=True)

    base = Settings()
    started = start_local_stack(base)
    run_id = uuid.uuid4().hex[:8]
    settings, quiet_feed = (
        Settings(
            kafka_bootstrap=base.kafka_servers,
            redis_url=base.redis_dsn,
            namespace=f"bench{run_id}{suffix}",
        )
        for suffix in ("", "q")
    )
    rules = load_rules(args.rules).rules
    items = source_items(args.eval_dir, say)
    articles = make_articles(args.articles, items)
    bar = Bar(args.json)
    codec = args.compression
    figures: dict[str, object] = {
        "articles": len(articles),
        "rules": len(rules),
        "compression": codec,
    }
    try:
        articles_topic(settings, codec)
        say(f"# backtest benchmark: {len(articles):,} articles, {len(rules)} rules")
        # lz4 needs a package kafka-python does not get here: sent uncompressed, the broker
        # compresses it as the topic says.
        sent_as = codec if codec in ("zstd", "gzip") else None
        produced = produce(settings, articles, compression_type=sent_as, **PRODUCER)
        connectors = " as the connectors" if codec == ARTICLES_COMPRESSION else ""
        say(f"produced in {produced:.1f} s ({codec}, 16 KB batches{connectors})")
        since = datetime.now(UTC) - timedelta(days=30)

        # The order a backtest reads in; the same Article values it will parse.
        in_order = list(retained_articles(settings, since))
        if len(in_order) != len(articles):
            raise SystemExit(f"read {len(in_order)} articles back, produced {len(articles)}")
        del articles
        # The bench's own copy is no part of a backtest: kept out of every garbage collection's
        # scan, so that it burdens neither side.
        gc.collect()
        gc.freeze()
        # The collector as `rasd rules backtest` sets it before its run, for both sides.
        keep_full_collections_short()
        # The reader's own cost (fetch, inflate, parse), which the ratios below only show as the
        # difference of two rates, each as noisy as the machine. Timed on a read of its own,
        # which keeps nothing: the read above collects 100,000 articles, and the collector's
        # walks over them would count as the reader's.
        began_wall, began = time.perf_counter(), time.process_time()
        read = sum(1 for _ in retained_articles(settings, since))
        read_cpu, read_wall = time.process_time() - began, time.perf_counter() - began_wall
        figures["reader_alone"] = {
            "cpu_us_per_article": read_cpu / read * 1e6,
            "wall_us_per_article": read_wall / read * 1e6,
        }
        say(
            f"reader alone (topic to Article, no matching): {read_cpu / read * 1e6:.1f}"
            f" µs an article CPU, {read_wall / read * 1e6:.1f} wall"
        )
        passes = {}
        # Alone first, then backtest first: a machine getting busier or quieter during the run
        # favours each side once.
        # The third pass takes both sides in turn, slice by slice (time_in_turn).
        for label, cold, alone_first in (
            ("first pass", True, True),
            ("second pass", False, False),
            ("third pass", False, None),
        ):
            timed = {}
            if alone_first is None:
                timed["alone"], timed["backtest"] = time_in_turn(settings, rules, since, in_order)
            for side in (
                () if alone_first is None else ("alone", "backtest")[:: 1 if alone_first else -1]
            ):
                if cold:
                    clear_analysis_caches()
                if side == "alone":
                    timed[side] = time_alone(in_order, rules, bar, label)
                else:
                    timed[side] = time_backtest(settings, rules, since, len(in_order), bar, label)
            alone_cpu, alone_wall = timed["alone"]
            bt_cpu, bt_wall, found = timed["backtest"]
            n = len(in_order)
            row = {
                "matcher_alone": {"cpu_rate": n / alone_cpu, "wall_rate": n / alone_wall},
                "backtest": {
                    "cpu_rate": n / bt_cpu,
                    "wall_rate": n / bt_wall,
                    "wall_seconds": bt_wall,
                },
                "ratio_cpu": alone_cpu / bt_cpu,
                "ratio_wall": alone_wall / bt_wall,
                "matched_articles": found.matched_articles,
            }
            row["verdict"] = "PASS" if row["ratio_cpu"] >= TARGET else "BELOW"
            passes[label] = row
            state = "both cold (caches cleared before each)" if cold else "both warm"
            order = {True: "matcher alone first", False: "backtest first"}.get(
                alone_first, f"in turn by slices of {PROGRESS_EVERY}"
            )
            say(f"\n{label}, {state}, {order}, same {n:,} articles in the same order:")
            say(
                f"  matcher alone (in memory):  {n / alone_cpu:8,.0f} articles/s CPU, "
                f"{n / alone_wall:8,.0f} wall"
            )
            say(
                f"  backtest over the topic:    {n / bt_cpu:8,.0f} articles/s CPU, "
                f"{n / bt_wall:8,.0f} wall ({bt_wall:.1f} s)"
            )
            say(
                f"  ratio backtest/matcher: {row['ratio_cpu']:.2f} CPU, "
                f"{row['ratio_wall']:.2f} wall  (target >= {TARGET:.2f} on CPU): "
                f"{row['verdict']}"
            )
            say(f"  matched articles: {found.matched_articles:,}")
        figures["passes"] = passes

        size = topic_bytes(base, settings.topic("articles"))
        if size is None:
            say("\ntopic on disk: not measured (not the local dev stack)")
        else:
            quiet = make_articles(max(1000, len(in_order) // 10), items, prefix="q")
            articles_topic(quiet_feed, codec)
            # batch_size 1: every record is a batch of its own, compressed alone.
            produce(quiet_feed, quiet, compression_type=sent_as, linger_ms=0, batch_size=1)
            alone = topic_bytes(base, quiet_feed.topic("articles")) or 0
            raw = sum(len(a.model_dump_json().encode()) for a in in_order)
            disk = {
                "bytes": size,
                "per_100k_full_batches": size / len(in_order) * 100_000,
                "per_100k_one_per_batch": alone / len(quiet) * 100_000,
                "json_per_100k": raw / len(in_order) * 100_000,
            }
            figures["disk"] = disk
            say(
                f"\ntopic on disk (log segments, {codec}): "
                f"{disk['per_100k_full_batches'] / 1e6:.0f} MB per 100,000 articles in full "
                f"batches, {disk['per_100k_one_per_batch'] / 1e6:.0f} MB one article per batch "
                f"(uncompressed JSON: {disk['json_per_100k'] / 1e6:.0f} MB)"
            )
    finally:
        drop_namespace(settings)
        drop_namespace(quiet_feed)
        if started:
            stop_local_stack(base)
    if args.json:
        print(json.dumps(figures, indent=1))
    verdicts = [row["verdict"] for row in figures.get("passes", {}).values()]
    return 0 if verdicts and all(v == "PASS" for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
