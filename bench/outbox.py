"""The stories agent's outbox calls: CPU of the worker's side per alert revision.

    python bench/outbox.py [--repeat 30]

Writes batches of 1 (the steady stream: one candidate a batch) and of 30 (the backlog) alert
revisions of about 1 KB and marks them as on the topic, as the stories agent does: on this
code with the marks of the batch before in the next batch's call (``write_many(...,
published=...)``), on code without that parameter (older checkouts: run it from there) with
``write_many`` and then ``published_many``. Prints the best of ``--repeat`` batches, in
microseconds of this thread's CPU per revision (the Redis server's own CPU is not counted).
Redis comes from RASD_REDIS_URL, else the local dev stack (started when it is not running,
stopped again at the end); the benchmark writes in a namespace of its own and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._stack import local_stack  # noqa: E402
from rasd.codec import encode  # noqa: E402
from rasd.connections import async_redis_client  # noqa: E402
from rasd.devstack.namespace import drop_namespace  # noqa: E402
from rasd.models import Alert, Severity  # noqa: E402
from rasd.outbox import Outbox  # noqa: E402
from rasd.settings import Settings  # noqa: E402


async def per_revision(settings: Settings, size: int, repeat: int) -> float:
    client = async_redis_client(settings)
    outbox = Outbox(client, settings)
    together = "published" in inspect.signature(outbox.write_many).parameters
    before: list = []
    best = float("inf")
    try:
        for round_ in range(repeat + 1):
            alerts = [
                Alert(
                    key=f"story:bench:{round_}-{size}-{i}",
                    kind="match",
                    severity=Severity.high,
                    rule="bench",
                    title="word " * 200,
                )
                for i in range(size)
            ]
            pairs = [(alert, 0) for alert in alerts]
            values = [encode(alert) for alert in alerts]
            start = time.thread_time()
            if together:
                await outbox.write_many(pairs, values, published=before)
            else:
                await outbox.write_many(pairs, values)
                await outbox.published_many(pairs)
            if round_:  # the first loads the scripts
                best = min(best, time.thread_time() - start)
            before = pairs
    finally:
        await client.aclose()
    return best / size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    base = Settings()
    with local_stack(base):
        settings = Settings(namespace=f"bench{uuid.uuid4().hex[:8]}")
        try:
            for size in (1, 30):
                us = asyncio.run(per_revision(settings, size, args.repeat)) * 1e6
                print(f"batch of {size:2}: {us:5.0f} us of CPU a revision (written and marked)")
        finally:
            drop_namespace(settings)


if __name__ == "__main__":
    main()
