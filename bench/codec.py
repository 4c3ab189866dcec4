"""Microseconds per decode and encode of each record, pydantic's methods against rasd.codec.

    python bench/codec.py [--eval-dir ../shared/eval] [--articles 5000] [--repeat 5]

The records are those the worker meets (built as bench/stories.py builds them): the pipeline
bench's articles (real Arabic and English RSS items from ``--eval-dir``, else
tests/fixtures/streams, which it says), their Matches with the shipped rules, the candidates of
those matches, the alerts the stories agent raises for them, and the stories it writes to its
table. For each record type it times, over all records of that type and ``--repeat`` times (the
best counts), pydantic's ``model_validate_json`` and ``model_dump_json`` against
``rasd.codec``'s decoder (pydantic-core's validator) and ``encode`` (msgspec), per CPU second,
and checks on every record that both decode to equal models and encode to the same bytes (a
difference is printed and fails the run).
"""

from __future__ import annotations

import argparse
import sys
import time
from argparse import Namespace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pipeline import EVAL  # noqa: E402
from bench.stories import records  # noqa: E402
from rasd.codec import decoder, encode  # noqa: E402
from rasd.models import Alert, Article, Match  # noqa: E402
from rasd.rules import load_rules  # noqa: E402
from rasd.streams.config import StreamsSettings  # noqa: E402
from rasd.streams.stories import Candidate, Limits, RuleState, Story, advance  # noqa: E402


def best(repeat: int, steps: list[tuple[object, list]]) -> list[float]:
    """Best CPU microseconds per value of each (step, values), the steps timed in turn in each
    round (a machine getting busier or quieter then affects them alike)."""
    spent = [[] for _ in steps]
    for _ in range(repeat):
        for times, (step, values) in zip(spent, steps, strict=True):
            begin = time.process_time()
            for value in values:
                step(value)
            times.append(time.process_time() - begin)
    return [min(times) * 1e6 / len(values) for times, (_, values) in zip(spent, steps, strict=True)]


def corpus_records(args) -> dict[type, list]:
    from bench.pipeline import corpus, stream_of

    rules = load_rules(args.rules).rules
    opts = Namespace(
        eval_dir=args.eval_dir, rules=args.rules, articles=args.articles, rate=100.0, seconds=20.0
    )
    candidates = [Candidate.model_validate_json(v) for _, v in records(opts, rules)]
    articles, where = corpus(args.eval_dir)
    print(f"articles from {where}")
    by_id = {r.id: r for r in rules}
    limits = Limits.from_config(StreamsSettings())
    states: dict[str, RuleState] = {}
    alerts = []
    for c in candidates:
        rule_id = c.match.rule_id
        state = states.get(rule_id) or RuleState(rule_id=rule_id)
        states[rule_id], revisions = advance(state, c, by_id.get(rule_id), limits)
        alerts += [r.alert for r in revisions]
    return {
        Article: stream_of(articles, args.articles, "t"),
        Match: [c.match for c in candidates],
        Candidate: candidates,
        Alert: alerts,
        Story: [s for state in states.values() for s in state.stories],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.eval_dir.exists():
        print(f"{args.eval_dir} is not present: using tests/fixtures/streams")

    failed = 0
    print(
        f"{'record':<10} {'n':>6} {'bytes':>6}  decode us: pydantic    codec  x    "
        f"encode us: pydantic    codec  x"
    )
    for model, objects in corpus_records(args).items():
        raw = [o.model_dump_json().encode() for o in objects]
        fast_decode = decoder(model)
        for r in raw:
            slow, fast = model.model_validate_json(r), fast_decode(r)
            if slow.model_dump() != fast.model_dump() or slow != fast and model is not Article:
                print(f"DIFFERENT {model.__name__} decode: {r[:200]!r}")
                failed += 1
                break
        for o, r in zip(objects, raw, strict=True):
            if encode(o) != r:
                print(f"DIFFERENT {model.__name__} encode: {encode(o)[:200]!r} vs {r[:200]!r}")
                failed += 1
                break
        d_slow, d_fast, e_slow, e_fast = best(
            args.repeat,
            [
                (model.model_validate_json, raw),
                (fast_decode, raw),
                (lambda o: o.model_dump_json().encode(), objects),
                (encode, objects),
            ],
        )
        size = sum(map(len, raw)) // len(raw)
        print(
            f"{model.__name__:<10} {len(raw):>6} {size:>6}  {d_slow:>18.1f} {d_fast:>8.1f} "
            f"{d_slow / d_fast:>4.1f}x {e_slow:>18.1f} {e_fast:>8.1f} {e_slow / e_fast:>4.1f}x"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
