"""Notify throughput and latency: outbox -> `rasd notify run` -> a local webhook sink.

    python -m bench.notify [--alerts 2000] [--rate 200] [--seconds 5]

Uses the Redis of RASD_REDIS_URL in a namespace of its own (deleted afterwards), one
notifier process (`python -m rasd notify run`) and a webhook sink on 127.0.0.1. Each alert is
its own group (group_by: [key], group_wait: 0s) so that every alert is one delivery.

Figures:
- throughput: a burst of --alerts alerts in the outbox, delivered alerts/s;
- latency: alerts written at --rate per second for --seconds; outbox XADD -> sink receipt,
  p50 / p99;
- baseline, same run: a bare XADD -> XREADGROUP -> XACK loop on the same Redis, so the
  figures above can be read as "notify's cost on top of the stream itself".
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python bench/notify.py too

from bench._sink import WebhookSink  # noqa: E402
from rasd.connections import redis_client  # noqa: E402
from rasd.keys import RedisKeys  # noqa: E402
from rasd.models import Alert  # noqa: E402
from rasd.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

CONFIG = """\
receivers:
  - {{name: sink, type: webhook, url: "{url}/hook", secret_env: BENCH_SECRET}}
route:
  receiver: sink
  group_by: [key]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
delivery:
  poll_interval: 20ms
  batch: 200
"""


def alert(key: str) -> str:
    return Alert(
        key=key, kind="match", severity="high", rule="bench", title="قصف صاروخي على قاعدة"
    ).model_dump_json()


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def put(client, stream: str, key: str) -> float:
    """XADD one outbox entry; the wall-clock time it was written."""
    at = time.time()
    client.xadd(stream, {"key": key, "revision": "0", "alert": alert(key)})
    return at


def paced(client, stream: str, count: int, rate: float) -> dict[str, float]:
    """Write ``count`` entries keyed l0, l1... at ``rate`` per second."""
    sent: dict[str, float] = {}
    start = time.monotonic()
    for i in range(count):
        target = start + i / rate
        while time.monotonic() < target:
            time.sleep(max(0.0, min(0.002, target - time.monotonic())))
        sent[f"l{i}"] = put(client, stream, f"l{i}")
    return sent


def baseline(client, settings: Settings, alerts: int, rate: float, seconds: float) -> dict:
    stream, group = RedisKeys(settings).scratch("baseline"), "bench"
    client.xgroup_create(stream, group, id="0", mkstream=True)
    received: dict[str, float] = {}
    stop = threading.Event()

    def consume():
        reader = redis_client(settings)
        while not stop.is_set():
            for _, entries in reader.xreadgroup(group, "c", {stream: ">"}, 200, block=50) or []:
                now = time.time()
                for entry_id, fields in entries:
                    received.setdefault(fields["key"], now)
                    reader.xack(stream, group, entry_id)
        reader.close()

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        start = time.time()
        for i in range(alerts):
            put(client, stream, f"t{i}")
        wait_until(lambda: sum(k.startswith("t") for k in list(received)) >= alerts, 60)
        throughput = alerts / (max(received.values()) - start)
        sent = paced(client, stream, int(rate * seconds), rate)
        wait_until(lambda: all(k in received for k in sent), 30)
    finally:
        stop.set()
        thread.join()
    return {
        "throughput": throughput,
        "latency": percentiles([received[k] - t for k, t in sent.items()]),
    }


def notify(client, settings: Settings, alerts: int, rate: float, seconds: float) -> dict:
    sink = WebhookSink(clock=time.time)  # compared with the wall-clock times of the XADDs
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "receivers.yaml"
        config.write_text(CONFIG.format(url=sink.url))
        env = {
            **os.environ,
            "RASD_NAMESPACE": settings.namespace,
            "RASD_REDIS_URL": settings.redis_dsn,
            "RASD_LOG_LEVEL": "WARNING",
            "BENCH_SECRET": "bench",
        }
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        # An empty rules directory: the shipped rules name receivers this config lacks.
        rules = Path(tmp) / "rules"
        rules.mkdir()
        command = ["notify", "run", "-c", str(config), "--rules", str(rules)]
        process = subprocess.Popen([sys.executable, "-m", "rasd", *command], cwd=REPO, env=env)
        outbox = RedisKeys(settings).outbox
        try:
            # Warm up: the process is up and its consumer group exists.
            put(client, outbox, "w")
            if not wait_until(lambda: sink.count("w") == 1, 60):
                raise SystemExit("the notifier did not deliver the warm-up alert")
            start = time.time()
            pipe = client.pipeline(transaction=False)
            for i in range(alerts):
                pipe.xadd(outbox, {"key": f"t{i}", "revision": "0", "alert": alert(f"t{i}")})
            pipe.execute()
            if not wait_until(lambda: sink.count("t") >= alerts, 300):
                raise SystemExit(f"only {sink.count('t')} of {alerts} delivered")
            last = max(v for k, v in sink.first().items() if k.startswith("t"))
            throughput = alerts / (last - start)
            sent = paced(client, outbox, int(rate * seconds), rate)
            wait_until(lambda: sink.count("l") >= len(sent), 60)
        finally:
            process.terminate()
            process.wait(timeout=30)
            sink.close()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    received = sink.first()
    latencies = [received[k] - t for k, t in sent.items() if k in received]
    return {
        "throughput": throughput,
        "latency": percentiles(latencies),
        "lost": len(sent) - len(latencies),
        # CPU of the notifier process per delivered alert (start-up included): steadier than
        # wall-clock figures on a shared machine.
        "cpu_ms": cpu * 1000 / (alerts + len(sent) + 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()

    base = Settings()
    settings = Settings(redis_url=base.redis_dsn, namespace=f"bench{uuid.uuid4().hex[:8]}")
    client = redis_client(settings)
    try:
        bare = baseline(client, settings, args.alerts, args.rate, args.seconds)
        ours = notify(client, settings, args.alerts, args.rate, args.seconds)
    finally:
        keys = list(client.scan_iter(match=RedisKeys(settings).everything, count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    print(f"{'':34}{'alerts/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, r in (
        ("baseline XADD->XREADGROUP->XACK", bare),
        ("notify outbox->webhook sink", ours),
    ):
        print(f"{name:34}{r['throughput']:>10.0f}{r['latency'][0]:>10.1f}{r['latency'][1]:>10.1f}")
    print(f"notifier CPU per delivered alert: {ours['cpu_ms']:.2f} ms")
    print(
        f"({args.alerts} alerts in a burst for alerts/s; {int(args.rate * args.seconds)} alerts "
        f"at {args.rate:g}/s for latency; one notifier process; lost: {ours['lost']})"
    )


if __name__ == "__main__":
    main()
