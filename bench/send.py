"""What sending the match stage's records costs, per record, through faust's producer on Kafka.

    python bench/send.py [--articles 5000] [--rounds 5] [--eval-dir ../shared/eval]

The records are the match stage's outputs for bench/pipeline.py's backlog (its Match and
candidates records, in stage batches of ``batch_max`` articles), sent batch after batch as the
stage sends them, each batch waited for before the next, through one faust app's producer (the
worker's settings: linger, batch size) on the local Kafka. Ways, alternated round by round in
this one process, so that the machine's load falls on all alike:

- ``faust``: ``app.producer.send`` per record, then each record's future (the stage before
  issue 15's twelfth round);
- ``aiokafka``: the aiokafka producer's own ``send`` per record (faust's wrapper left out);
- ``batches``: :mod:`rasd.streams.sending` (one aiokafka batch per partition, ``send_batch``).

Prints the CPU time of the process (all threads: the producer's work is on the event loop's)
per record and per article of the backlog, each round, and the median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._stack import local_stack  # noqa: E402
from bench.pipeline import EVAL, corpus, stream_of  # noqa: E402
from rasd.codec import encode  # noqa: E402
from rasd.devstack.namespace import drop_namespace  # noqa: E402
from rasd.settings import Settings  # noqa: E402
from rasd.topics import ensure_topics  # noqa: E402


def stage_batches(settings: Settings, articles: list, candidates: str) -> list[list]:
    """The outputs of each stage batch of ``articles``, as the match stage builds them."""
    from rasd.rules import Matcher, load_rules
    from rasd.streams.config import StreamsSettings
    from rasd.streams.matching import STAGE_CPU, STEPS, CpuSteps, MatchStage

    config = StreamsSettings()
    rules = SimpleNamespace(matcher=Matcher(load_rules(REPO / "rules").rules))
    stage = MatchStage(settings, config, rules, producer=lambda: None, candidates=candidates)
    records = [
        SimpleNamespace(topic=stage.articles, partition=0, offset=i, key=None, value=encode(a))
        for i, a in enumerate(articles)
    ]
    steps = CpuSteps(STAGE_CPU, STEPS)
    n = config.batch_max
    return [stage._outputs(records[i : i + n], steps) for i in range(0, len(records), n)]


async def faust_way(app, batches) -> None:
    for outputs in batches:
        sent = [await app.producer.send(t, k, v, None, None, None) for t, k, v in outputs]
        for delivery in sent:
            await delivery


async def aiokafka_way(app, batches) -> None:
    producer = app.producer._ensure_producer()
    for outputs in batches:
        sent = [await producer.send(t, v, key=k) for t, k, v in outputs]
        for delivery in sent:
            await delivery


async def batches_way(app, batches) -> None:
    from rasd.streams.sending import acknowledged, send

    for outputs in batches:
        await acknowledged(await send(app.producer._ensure_producer(), outputs))


WAYS = {"faust": faust_way, "aiokafka": aiokafka_way, "batches": batches_way}


async def measure(settings: Settings, batches: list, rounds: int, n_articles: int) -> None:
    import faust

    from rasd.connections import faust_broker_settings
    from rasd.streams.config import StreamsSettings

    app = faust.App(
        settings.group("streams"),
        **faust_broker_settings(settings),
        producer_linger=StreamsSettings().producer_linger,
        autodiscover=False,
    )
    await app.producer.start()
    records = sum(len(b) for b in batches)
    print(f"{records} records in {len(batches)} stage batches of {n_articles} articles")
    try:
        for way in WAYS.values():  # warm: connections, metadata
            await way(app, batches[:1])
        figures: dict[str, list[float]] = {name: [] for name in WAYS}
        for r in range(rounds):
            order = list(WAYS) if r % 2 == 0 else list(reversed(WAYS))
            for name in order:
                cpu, wall = time.process_time(), time.perf_counter()
                await WAYS[name](app, batches)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                figures[name].append(cpu)
                print(
                    f"round {r + 1} {name:9s} {cpu / records * 1e6:6.1f} us a record"
                    f"  {cpu / n_articles * 1e6:5.1f} us an article  (wall {wall * 1e3:.0f} ms)"
                )
        for name, cpus in figures.items():
            cpu = statistics.median(cpus)
            print(
                f"median   {name:9s} {cpu / records * 1e6:6.1f} us a record"
                f"  {cpu / n_articles * 1e6:5.1f} us an article"
            )
    finally:
        await app.producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    args = parser.parse_args()
    base = Settings()
    articles, _ = corpus(args.eval_dir)
    backlog = stream_of(articles, args.articles, "t")
    with local_stack(base), tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            kafka_bootstrap=base.kafka_servers,
            redis_url=base.redis_dsn,
            namespace=f"benchsend{uuid.uuid4().hex[:8]}",
            topic_partitions=base.topic_partitions,
            state_dir=Path(tmp),
        )
        candidates = f"{settings.group('streams')}-story-candidates"
        ensure_topics(settings, extra=[candidates])
        try:
            batches = stage_batches(settings, backlog, candidates)
            asyncio.run(measure(settings, batches, args.rounds, len(backlog)))
        finally:
            drop_namespace(settings)


if __name__ == "__main__":
    main()
