"""The matcher over many long articles, cycled: do its bounded caches hold a working set?

    python bench/long_texts.py [--eval-dir ../shared/eval] [--articles 100000]
        [--baseline main] [--rounds 1]

What a backtest over a month of news or a worker catching up meets, without Kafka: real RSS
items from ../shared/eval with their article text (title, description and, for the Arabic
corpus, the body; built-in sentences when it is absent), cycled to ``--articles`` with fresh
ids, as bench/backtest.py produces them. One fresh process per side and round (the code of
``--baseline`` in alternating rounds, bench/baseline.py) with the collector settings of a
worker and of `rasd rules backtest` (``rasd.startup``, when the code measured has them) runs
the default rules' Matcher twice over the same articles: a first pass from empty caches, then
a second pass. Rates are per CPU second of the process; each pass is also shown by tenths
(a cache that thrashes stays as slow as a cold one, or slower, once its working set no longer
fits), with the CPU seconds spent in the garbage collector and the peak memory.

The distinct chunks of the 4,884 items' texts outnumber 100,000, more than a Matcher's chunk
cache held (two generations of 65,536); the second pass must not be slower than the first.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baseline import alternated, revision, use_code  # noqa: E402

use_code()  # a child measuring the baseline imports its rasd

from bench._texts import make_articles, source_items  # noqa: E402
from rasd.models import Article  # noqa: E402
from rasd.rules import Matcher, load_rules  # noqa: E402


def load_articles(eval_dir: Path, count: int) -> tuple[list[Article], str]:
    said: list[str] = []
    items = source_items(eval_dir, said.append)
    source = said[0] if said else f"real RSS items with their text from {eval_dir}"
    return make_articles(count, items), f"{len(items):,} {source}"


class CollectorTime:
    """CPU seconds spent inside garbage collections, by generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.process_time()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.process_time() - self._began
            self.count[generation] += 1

    def take(self) -> dict[str, list]:
        taken = {"seconds": [round(s, 3) for s in self.seconds], "count": list(self.count)}
        self.seconds, self.count = [0.0, 0.0, 0.0], [0, 0, 0]
        return taken


def timed_pass(matcher: Matcher, articles: list[Article], tenths: int = 10) -> dict:
    step = max(1, len(articles) // tenths)
    rates = []
    began = time.process_time()
    for at in range(0, len(articles), step):
        start = time.process_time()
        part = articles[at : at + step]
        for article in part:
            matcher.match(article)
        rates.append(len(part) / (time.process_time() - start))
    return {"rate": len(articles) / (time.process_time() - began), "tenths": rates}


def measure(articles: list[Article]) -> dict:
    """The default rules' two passes over ``articles`` (call in a fresh process)."""
    matcher = Matcher(load_rules(ROOT / "rules").rules)
    settings = []
    try:  # what a worker and `rasd rules backtest` do once loaded, as far as the code has it
        import rasd.startup as startup
    except ImportError:
        pass
    else:
        for name in ("freeze_loaded", "keep_full_collections_short"):
            if hasattr(startup, name):
                getattr(startup, name)()
                settings.append(name)
    collector = CollectorTime()
    result: dict[str, object] = {"startup": settings}
    for name in ("first", "second"):
        result[name] = timed_pass(matcher, articles)
        result[f"{name}_gc"] = collector.take()
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--baseline", default="main", help="git ref compared with ('' for none)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    articles, source = load_articles(args.eval_dir, args.articles)
    if args.child:
        print(json.dumps(measure(articles)))
        return
    print(f"# long texts: {len(articles):,} articles cycled from {source}")
    child = ["--eval-dir", str(args.eval_dir), "--articles", str(args.articles), "--child"]
    del articles
    sides = alternated(Path(__file__), child, args.baseline, args.rounds)
    if args.baseline:
        print(f"baseline = {revision(args.baseline)}")
    print(
        "code | first pass art/s | second pass art/s | second/first | GC s (first, second)"
        " | max RSS MB"
    )
    for side, rounds in sides.items():
        for r in rounds:
            first, second = r["first"]["rate"], r["second"]["rate"]
            gc_first, gc_second = sum(r["first_gc"]["seconds"]), sum(r["second_gc"]["seconds"])
            print(
                f"{side} | {first:,.0f} | {second:,.0f} | {second / first:.2f}x | "
                f"{gc_first:.2f}, {gc_second:.2f} | {r['max_rss_mb']:,.0f}"
            )
            for name in ("first", "second"):
                tenths = " ".join(f"{x:,.0f}" for x in r[name]["tenths"])
                print(f"    {name} pass by tenths: {tenths}")


if __name__ == "__main__":
    main()
