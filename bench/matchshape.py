"""Does matching cost more in the shape the worker runs it than in the matcher-alone pass?

    python bench/matchshape.py [--rounds 12] [--articles 5000] [--eval-dir DIR]

In bench/pipeline.py the worker's match step (parse and match, per article) costs more than
parse and match in the matcher-alone pass (1.26x in the fourteenth round's first run). Besides
the load around it (bench/neighbour.py), the worker matches in a shape of its own: a process
that has imported faust, aiokafka and the worker's modules, records read as bytes by the match
stage's own reader (``rasd.streams.matching._read``: ``read_article``, then the Matcher), in
batches of ``batch_max`` under ``collector_paused``, with the Kafka records, outputs and stories
of the batch allocated and freed between two batches. This alternates, a fresh process each,
the matcher-alone pass of bench/pipeline.py and a pass in the worker's shape over the same
backlog and rules, and prints each pass, the medians and the median of the paired ratios
(worker shape / alone). The shaped pass is timed on its thread's CPU clock over its match steps
only, as the worker's ``rasd_stream_stage_cpu_seconds_total{step="match"}`` is; it includes
the parse (``read_article``), the alone pass does not (bench/pipeline.py prints that parse apart).

No Kafka or Redis is needed: nothing but the matcher runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.pipeline import (  # noqa: E402
    EVAL,
    corpus,
    fresh_pass,
    matcher_alone,
    stream_of,
    write_backlog,
)

# The worker's shape: its modules loaded, the stage's reader, its batches and collector pause,
# and allocations between batches standing for the Kafka records, outputs and stories turn.
SHAPED = """
import json, sys, time
from types import SimpleNamespace
sys.path.insert(0, sys.argv[3])
import faust, aiokafka, rasd.streams.app, rasd.streams.worker  # noqa: F401
from rasd.rules import Matcher, load_rules
from rasd.startup import collector_paused, freeze_loaded, keep_full_collections_short
from rasd.streams.config import StreamsSettings
from rasd.streams.matching import _read
rules = {r.id: r for r in load_rules(sys.argv[2]).rules}
matcher = Matcher(rules.values())  # as the worker's rule set compiles it
freeze_loaded(); keep_full_collections_short()
raw = open(sys.argv[1], "rb").read().split(b"\\n")[:-1]
records = [SimpleNamespace(value=value) for value in raw]
between = [json.dumps({f"k{i}": list(range(40)), "v": "x" * 200}) for i in range(2000)]
size, cpu = StreamsSettings().batch_max, 0.0
for i in range(0, len(records), size):
    start = time.thread_time()
    with collector_paused():
        kept = [(r, found) for r in records[i : i + size] for found in (_read(r, matcher),)
                if found[1]]
    cpu += time.thread_time() - start
    churn = [json.loads(text) for text in between]
    del churn, kept
print(len(records) / cpu)
"""


def shaped(path: Path, rules_dir: Path) -> float:
    """CPU us an article of the match steps of a pass in the worker's shape (fresh process)."""
    return 1e6 / float(fresh_pass("worker-shaped", SHAPED, path, rules_dir)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rules", type=Path, default=REPO / "rules")
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    args = parser.parse_args()

    articles, where = corpus(args.eval_dir)
    alone: list[float] = []
    shape: list[float] = []
    parses: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        records = Path(tmp) / "backlog.jsonl"
        backlog = stream_of(articles, args.articles, "t")
        write_backlog(records, backlog)
        print(f"articles: {where}; {args.articles} a pass")
        for r in range(1, args.rounds + 1):
            # Which goes first alternates, so that a drift in the machine's speed within a
            # round favours neither.
            order = ("alone", "shaped") if r % 2 else ("shaped", "alone")
            row = {}
            for name in order:
                if name == "alone":
                    _, cpu_rate, parse = matcher_alone(records, args.rules)
                    row[name] = 1e6 / cpu_rate
                    parses.append(parse * 1e6)
                else:
                    row[name] = shaped(records, args.rules)
            alone.append(row["alone"])
            shape.append(row["shaped"])
            print(
                f"  round {r:2}: alone {row['alone']:6.1f}, worker's shape {row['shaped']:6.1f}"
                f" us an article ({row['shaped'] / row['alone']:.2f}x)"
            )
    ratios = [s / a for s, a in zip(shape, alone, strict=True)]
    print("CPU us an article, median of the rounds (range):")
    print(
        f"  alone (match only)            {statistics.median(alone):7.1f}"
        f"  ({min(alone):.1f}-{max(alone):.1f})"
    )
    print(
        f"  worker's shape (parse, match) {statistics.median(shape):7.1f}"
        f"  ({min(shape):.1f}-{max(shape):.1f})"
    )
    print(
        f"  paired ratio, median          {statistics.median(ratios):7.2f}x"
        f"  ({min(ratios):.2f}-{max(ratios):.2f})"
    )
    print(f"  the alone pass's parse alone  {statistics.median(parses):7.1f}  (for the shape's)")


if __name__ == "__main__":
    main()
