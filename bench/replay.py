"""Kill -9 a worker mid-stream, restart it, and count stories per event: does a replay split one?

Each round, in a namespace of its own: ``--stories`` events of ``--reports`` reports each
(the streams tests' story stream: reports of one event share their words, events share none)
are produced at ``--rate`` articles/s to one worker (batches of at most 7, as the kill test);
the worker is killed with SIGKILL at a seeded random time within the stream, and restarted.

Right after the kill, before the restart, it checks what the restart will recover from: the
stories group's committed offsets of the candidates topic against the rule's state rebuilt from
the table's changelog. A candidate below the committed offset whose article is in no story of
that state was committed without its state: the restart does not read it again, and the next
report of its event starts a second story. Once the restarted worker has caught up it counts
the events whose reports are in more than one story (alert key) of the outbox.

    python bench/replay.py --seed 1 --rounds 10

Figures: per round, the kill time, candidates committed without their state, events split,
stories for the events; then the totals. Needs the local stack (started if it is not running).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The real worker processes and records of the streams integration tests, used as they are.
sys.path.insert(0, str(REPO / "tests" / "integration" / "streams"))
sys.path.insert(0, str(REPO))

from bench._stack import local_stack  # noqa: E402
from rasd.devstack.namespace import drop_namespace  # noqa: E402
from rasd.settings import Settings  # noqa: E402
from rasd.topics import ensure_topics  # noqa: E402


def split_events(entries) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for key, _, alert in entries:
        for article in alert.articles:
            keys.setdefault(article.article_id.split("-")[0], set()).add(key)
    return {event: k for event, k in keys.items() if len(k) > 1}


def one_round(base: Settings, rnd: random.Random, args, workdir: Path) -> dict:
    from streams_harness import (
        WITHDRAWAL,
        Worker,
        committed_without_state,
        outbox,
        produce,
        wait_for,
    )
    from test_streams_worker import story_stream

    settings = Settings(
        kafka_bootstrap=base.kafka_servers,
        redis_url=base.redis_dsn,
        namespace=f"b{uuid.uuid4().hex[:12]}",
        topic_partitions=base.topic_partitions,
        state_dir=workdir / "state",
    )
    rules = workdir / "rules"
    rules.mkdir(parents=True)
    (rules / "withdrawal.yaml").write_text(WITHDRAWAL, encoding="utf-8")
    ensure_topics(settings)
    env = {"RASD_STREAMS_BATCH_MAX": "7"}
    articles = story_stream(args.stories, args.reports)
    total = len(articles)
    started: list[Worker] = []
    try:
        if args.backlog:
            # The whole stream waits in the topic; killed once the outbox holds kill_at alerts.
            produce(settings, articles)
            first = Worker(settings, rules, workdir / "worker-0.log", env).start()
            started.append(first)
            kill_at = rnd.randint(5, total * 4 // 5)
            wait_for(lambda: len(outbox(settings)) >= kill_at, 60, f"{kill_at} alerts", 0.02)
            first.kill()
            lost = committed_without_state(settings)
        else:
            first = Worker(settings, rules, workdir / "worker-0.log", env).start()
            started.append(first)
            produce(settings, articles[:1])
            wait_for(lambda: outbox(settings), 60, "the first worker's first alert")
            # Killed at a random time of the stream (the producer sends args.rate a second).
            kill_at = rnd.uniform(0.1, (total - 1) / args.rate)
            t0 = time.monotonic()
            step = 5
            killed = False
            for i in range(1, total, step):
                produce(settings, articles[i : i + step])
                if not killed and time.monotonic() - t0 >= kill_at:
                    first.kill()
                    killed = True
                    lost = committed_without_state(settings)
                time.sleep(max(0.0, (i + step) / args.rate - (time.monotonic() - t0)))
            if not killed:
                first.kill()
                lost = committed_without_state(settings)
        before = len(outbox(settings))
        started.append(Worker(settings, rules, workdir / "worker-1.log", env).start())

        def done():
            entries = outbox(settings)
            alerted = {a.article_id for _, _, alert in entries for a in alert.articles}
            return entries if len(alerted) == total else None

        entries = wait_for(done, 120, "every article in an alert")
        time.sleep(2.0)  # late duplicates would show (the outbox is then read once more)
        entries = outbox(settings)
        pairs = Counter((key, rev) for key, rev, _ in entries)
        return {
            "kill_at": kill_at,
            "before": before,
            "lost": lost,
            "split": split_events(entries),
            "stories": len({key for key, _, _ in entries}),
            "duplicates": sum(n - 1 for n in pairs.values()),
        }
    finally:
        for worker in started:
            worker.kill()
        drop_namespace(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--stories", type=int, default=100)
    parser.add_argument("--reports", type=int, default=3)
    parser.add_argument("--rate", type=float, default=100.0, help="articles per second")
    parser.add_argument(
        "--backlog",
        action="store_true",
        help="produce the stream before the worker starts; kill after a random number of alerts",
    )
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    base = Settings()
    rounds_split = lost_total = split_total = 0
    with local_stack(base), tempfile.TemporaryDirectory(prefix="rasd-replay-") as tmp:
        for n in range(args.rounds):
            r = one_round(base, rnd, args, Path(tmp) / f"round-{n}")
            kill_at = f"{r['kill_at']} alerts" if args.backlog else f"{r['kill_at']:.2f} s"
            lost_total += len(r["lost"])
            split_total += len(r["split"])
            rounds_split += bool(r["split"])
            print(
                f"round {n}: kill at {kill_at} ({r['before']} outbox entries), "
                f"committed without state {len(r['lost'])}, events split {len(r['split'])}, "
                f"stories {r['stories']} for {args.stories} events, "
                f"duplicate revisions {r['duplicates']}",
                flush=True,
            )
            for partition, offset, article_id in r["lost"][:3]:
                print(f"    committed without state: candidates[{partition}]@{offset} {article_id}")
            for event, keys in sorted(r["split"].items())[:3]:
                print(f"    split: {event} -> {sorted(keys)}")
    print(
        f"seed {args.seed}: {rounds_split} of {args.rounds} rounds split an event "
        f"({split_total} events split; {lost_total} candidates committed without their state)"
    )


if __name__ == "__main__":
    main()
