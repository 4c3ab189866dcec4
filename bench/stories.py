"""The stories agent's cost per candidate, without Kafka or Redis.

    python bench/stories.py [--eval-dir ../shared/eval] [--articles 5000] [--rate 100]
                            [--seconds 20] [--batch 50] [--stage-batch 500]
                            [--form batch|single] [--repeat 3] [--profile FILE]
                            [--dump FILE]

Builds the candidates that ``bench/pipeline.py`` makes the worker group: its backlog of
``--articles`` articles and its steady stream (every fourth article a matching one, so the
bench's stories grow), matched with the real ``Matcher`` and the shipped rules, fingerprinted
and encoded as the match stage does, in its records (``--form batch``: one record per rule and
stage batch, ``rasd.streams.candidates``; the backlog in batches of ``--stage-batch`` articles,
the steady stream one article a batch, as it comes at 100/s; ``--form single``: one candidate
a record, the form of before). Then replays those records through what the stories agent does
for each batch of ``--batch`` records (``rasd.streams.app``'s ``group``, the Redis round trips
left out): read the record's candidates, ``StateStore.get``, ``advance``, encode each alert
revision (once, for the outbox and the alerts topic), ``StateStore.put`` into a plain dict
standing for the table. Prints microseconds of CPU time per candidate over ``--repeat``
replays from an empty state (the best counts), then one more replay split by step (wall
clock: the steps of ``advance`` are timed by wrapping the module's functions, which costs a
little), and a digest of every alert (in its order within its rule) and of the table at the
end, which must not change when the code gets faster, nor with the records' form.
``--profile FILE`` writes a cProfile of one more replay. ``--dump FILE`` writes every alert
revision's JSON and every table write of one more replay, in order, then each rule's state as
a restart reads it back: two codes that decide alike write the same file with the same
``--form`` (``cmp`` tells the first byte that differs, where the digest only says that one does).

Texts come from ``--eval-dir`` (read at run time, never stored in the repository); without it
the benchmark says so and stops.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pipeline import EVAL, corpus, matching, stream_of  # noqa: E402
from rasd.codec import encode  # noqa: E402
from rasd.rules import Matcher, load_rules  # noqa: E402
from rasd.startup import freeze_loaded, keep_full_collections_short  # noqa: E402
from rasd.streams import stories  # noqa: E402
from rasd.streams.candidates import read as read_candidates  # noqa: E402
from rasd.streams.candidates import records as candidate_records  # noqa: E402
from rasd.streams.config import StreamsSettings  # noqa: E402
from rasd.streams.similarity import Fingerprint  # noqa: E402
from rasd.streams.state import StateStore  # noqa: E402
from rasd.streams.stories import Candidate, Limits  # noqa: E402

# The steps of advance() timed apart (those of the names the module defines).
STEPS = ("_expire", "_best_story", "_new_story", "_attach", "_story_alert", "_escalate")
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def records(args, rules) -> tuple[list[tuple[bytes, bytes]], int]:
    """(key, value) of each candidates record the pipeline bench's worker groups, in order, and
    how many candidates they hold.

    The articles' fetch times are fixed (10 ms apart in the backlog, as they were fetched in a
    burst; the steady stream at ``--rate``) and so are the matches' times, so two runs encode
    the same records.
    """
    articles, _ = corpus(args.eval_dir)
    hits, _ = matching(articles, args.rules)
    backlog = stream_of(articles, args.articles, "t")
    steady_n = int(args.rate * args.seconds)
    steady = [
        a if i % 4 else hits[i // 4 % len(hits)]
        for i, a in enumerate(stream_of(articles[::7], steady_n, "x"))
    ]
    backlog = [
        a.model_copy(update={"fetched_at": BASE + timedelta(seconds=i / 100)})
        for i, a in enumerate(backlog)
    ]
    start = BASE + timedelta(seconds=len(backlog) / 100 + 60)
    steady = [
        a.model_copy(update={"id": f"s{i}", "fetched_at": start + timedelta(seconds=i / args.rate)})
        for i, a in enumerate(steady)
    ]
    matcher = Matcher(rules)
    stage_batches = [
        backlog[i : i + args.stage_batch] for i in range(0, len(backlog), args.stage_batch)
    ] + [[a] for a in steady]
    out, n = [], 0
    for batch in stage_batches:
        per_rule: dict[bytes, list[bytes]] = {}
        for article in batch:
            found = matcher.match(article)
            if not found:
                continue
            fingerprint = Fingerprint.of(article.title, article.summary, article.lang)
            for m in found:
                m = m.model_copy(update={"matched_at": article.fetched_at})
                candidate = Candidate.from_match(m, article, fingerprint)
                if args.form == "single":
                    out.append((m.rule_id.encode(), encode(candidate)))
                per_rule.setdefault(m.rule_id.encode(), []).append(encode(candidate))
                n += 1
        if args.form == "batch":
            out += [(k, v) for k, values in per_rule.items() for v in candidate_records(values)]
    return out, n


class Timer:
    def __init__(self) -> None:
        self.spent: Counter = Counter()
        self.calls: Counter = Counter()

    def wrap(self, name, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed


class DumpedTable(dict):
    """The table, writing each write to ``out`` as it is made."""

    def __init__(self, out) -> None:
        super().__init__()
        self.out = out

    def __setitem__(self, key: str, value: bytes) -> None:
        self.out.write(b"SET %s=%s\n" % (key.encode(), value))
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.out.write(b"DEL %s\n" % key.encode())
        super().__delitem__(key)


def replay(recs, rules_by_id, limits, batch: int, timer: Timer | None, dump=None):
    """One replay from empty state; returns (seconds, digest, open stories per rule).

    ``dump``, a binary file: every alert revision and table write goes to it, in order, and
    then each rule's state as read back from the table."""
    table: dict[str, bytes] = {} if dump is None else DumpedTable(dump)
    states = StateStore(table)
    # Per rule: the order of alerts across rules follows the records' form, not the decisions.
    digests: dict[str, hashlib._Hash] = defaultdict(hashlib.sha256)
    clock = time.perf_counter
    spent = timer.spent if timer else Counter()
    begin = time.process_time()
    for i in range(0, len(recs), batch):
        changed = {}
        found = []
        for key, value in recs[i : i + batch]:
            t0 = clock()
            rule_id = key.decode()
            candidates = read_candidates(value)
            t1 = clock()
            state = changed[rule_id] if rule_id in changed else states.get(rule_id)
            t2 = clock()
            rule = rules_by_id.get(rule_id)
            for candidate in candidates:
                state, revisions = stories.advance(state, candidate, rule, limits)
                found += revisions
            t3 = clock()
            changed[rule_id] = state
            spent["parse Candidate JSON"] += t1 - t0
            spent["StateStore.get"] += t2 - t1
            spent["advance (all)"] += t3 - t2
        t0 = clock()
        for r in found:
            value = encode(r.alert)  # once, for the outbox and the alerts topic
            digests[r.alert.rule].update(b"%d %s %s\n" % (r.revision, value, value))
            if dump is not None:
                dump.write(b"ALERT %d %s\n" % (r.revision, value))
        t1 = clock()
        for rule_id, state in changed.items():
            states.put(rule_id, state)
        t2 = clock()
        spent["alert encoding"] += t1 - t0
        spent["StateStore.put"] += t2 - t1
    total = time.process_time() - begin
    digest = hashlib.sha256()
    for rule_id in sorted(digests):
        digest.update(rule_id.encode() + b"=" + digests[rule_id].digest() + b"\n")
    for key in sorted(table):
        digest.update(key.encode() + b"=" + table[key] + b"\n")
    if dump is not None:
        reread = StateStore(dict(table))  # as a restart reads it
        for rule_id in sorted({k.decode() for k, _ in recs}):
            dump.write(b"STATE %s\n" % encode(reread.get(rule_id)))
    open_stories = {r: len(states.get(r).stories) for r in sorted({k.decode() for k, _ in recs})}
    return total, digest.hexdigest()[:16], open_stories


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=50, help="records a stories batch")
    parser.add_argument("--stage-batch", type=int, default=StreamsSettings().batch_max)
    parser.add_argument("--form", choices=("batch", "single"), default="batch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one replay here")
    parser.add_argument("--dump", type=Path, help="write every alert and table write here")
    args = parser.parse_args()
    sources = [
        args.eval_dir / "ar" / "ant_multisource_rss_2018_sample.jsonl",
        args.eval_dir / "en" / "arabnews_rss_2023Q4.jsonl",
    ]
    if not all(p.exists() for p in sources):
        print(f"{args.eval_dir} is not present: the articles' texts live there; nothing measured.")
        return 2

    rules = load_rules(args.rules).rules
    rules_by_id = {r.id: r for r in rules}
    limits = Limits.from_config(StreamsSettings())
    recs, n = records(args, rules)
    freeze_loaded()  # the worker's garbage collection settings (rasd.startup)
    keep_full_collections_short()
    per_rule = Counter(k.decode() for k, v in recs for _ in read_candidates(v))
    print(f"candidates: {n} ({args.articles} backlog + {int(args.rate * args.seconds)} steady")
    print(f"  articles), per rule: {dict(per_rule.most_common())}")
    print(f"records ({args.form}): {len(recs)}")

    totals, digest, open_stories = [], None, None
    for _ in range(args.repeat):
        total, digest, open_stories = replay(recs, rules_by_id, limits, args.batch, None)
        totals.append(total * 1e6 / n)
    print(f"open stories at the end, per rule: {open_stories}")
    runs = ", ".join(f"{t:.0f}" for t in totals)
    print(f"replays (no timers, CPU time): {runs} us a candidate; best {min(totals):.0f}")

    # One more replay with each step of advance() timed.
    timer = Timer()
    originals = {name: getattr(stories, name) for name in STEPS if hasattr(stories, name)}
    for name, function in originals.items():
        setattr(stories, name, timer.wrap(name, function))
    try:
        total, timed_digest, _ = replay(recs, rules_by_id, limits, args.batch, timer)
    finally:
        for name, function in originals.items():
            setattr(stories, name, function)
    print(f"timed replay: {total * 1e6 / n:.0f} us a candidate (CPU), split (us, wall clock):")
    inner = sum(timer.spent[name] for name in originals)
    rows = defaultdict(float, timer.spent)
    rows["advance: the rest"] = rows["advance (all)"] - inner
    for name, spent in rows.items():
        calls = f" ({timer.calls[name]} calls)" if name in originals else ""
        print(f"  {name:28} {spent * 1e6 / n:8.1f}{calls}")
    print(f"digest of the alerts and table writes: {digest}")
    if timed_digest != digest:
        print(f"  the timed replay gave another digest ({timed_digest}): not deterministic!")
        return 1
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        replay(recs, rules_by_id, limits, args.batch, None)
        profiler.disable()
        profiler.dump_stats(args.profile)
        print(f"cProfile of one replay: {args.profile}")
    if args.dump:
        with args.dump.open("wb") as out:
            _, dumped_digest, _ = replay(recs, rules_by_id, limits, args.batch, None, out)
        print(f"every alert and table write of one replay: {args.dump}")
        if dumped_digest != digest:
            print(f"  the dumped replay gave another digest ({dumped_digest}): not deterministic!")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
