"""How much the matcher alone slows when the machine's other core is busy.

    python bench/neighbour.py [--rounds 5] [--articles 5000] [--share 1.0] [--eval-dir DIR]

bench/pipeline.py compares one worker with the matcher alone in a fresh process. The worker
never runs alone: the broker, Redis and the bench's own reader work beside it (on a machine of
two cores, on the other core). This measures what that costs matching by itself: the
matcher-alone pass of bench/pipeline.py (same backlog, same rules, a fresh process each time)
with the other core idle, beside a busy loop (``--share`` of each 10 ms: the broker kept
the other core 24-50% busy in bench/pipeline.py's backlogs) and beside a copy loop over
256 MiB (memory traffic), the three alternated round after round. Prints each pass's CPU us an
article and, per load, the median and its ratio to the idle median.

No Kafka or Redis is needed: nothing but the matcher runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.pipeline import (  # noqa: E402
    EVAL,
    corpus,
    cpu_seconds,
    matcher_alone,
    stream_of,
    write_backlog,
)

# A busy loop for a given share of each 10 ms.
SPINNER = """
import sys, time
share, period = float(sys.argv[1]), 0.01
while True:
    start = time.perf_counter()
    while time.perf_counter() - start < share * period:
        pass
    time.sleep((1 - share) * period)
"""

# Copies a buffer larger than the last-level cache again and again.
COPIER = "b = bytearray(256 << 20)\nwhile True:\n    c = bytes(b)\n    del c\n"


@contextlib.contextmanager
def beside(code: str, *args: str):
    """A process running ``code`` while the block runs, started before the pass begins."""
    process = subprocess.Popen([sys.executable, "-c", code, *args])
    try:
        deadline = time.monotonic() + 10
        while cpu_seconds(process.pid) < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)  # past its start-up (and the copier its allocation)
        yield
        if process.poll() is not None:  # a pass labelled with a load it did not run beside
            raise SystemExit(f"the load beside the pass exited early ({process.returncode})")
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--share", type=float, default=1.0, help="busy loop's share of a core")
    parser.add_argument("--rules", type=Path, default=REPO / "rules")
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    args = parser.parse_args()
    if not 0 < args.share <= 1:
        parser.error("--share is a share of one core: above 0, at most 1")

    articles, where = corpus(args.eval_dir)
    loads = {
        "idle": contextlib.nullcontext,
        f"busy loop {args.share:.0%}": lambda: beside(SPINNER, str(args.share)),
        "copy loop": lambda: beside(COPIER),
    }
    passes: dict[str, list[float]] = {name: [] for name in loads}
    with tempfile.TemporaryDirectory() as tmp:
        records = Path(tmp) / "backlog.jsonl"
        backlog = stream_of(articles, args.articles, "t")
        write_backlog(records, backlog)
        print(f"articles: {where}; {args.articles} a pass; {os.cpu_count()} cores")
        for r in range(1, args.rounds + 1):
            row = []
            for name, load in loads.items():
                with load():
                    _, cpu_rate, _ = matcher_alone(records, args.rules)
                passes[name].append(1e6 / cpu_rate)
                row.append(f"{name} {1e6 / cpu_rate:6.1f}")
            print(f"  round {r}: " + ", ".join(row) + " us an article")
    idle = statistics.median(passes["idle"])
    print("CPU us an article, median of the rounds (range), and against the idle median:")
    for name, values in passes.items():
        median = statistics.median(values)
        print(
            f"  {name:14} {median:7.1f}  ({min(values):.1f}-{max(values):.1f})"
            f"  {median / idle:5.2f}x"
        )


if __name__ == "__main__":
    main()
