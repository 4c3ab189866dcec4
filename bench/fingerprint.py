"""CPU of the match stage's outputs for the matched articles of bench/pipeline.py's backlog.

    python bench/fingerprint.py [--eval-dir ../shared/eval] [--articles 5000]
                                [--baseline main] [--rounds 5] [--check]

In a fresh process, as a worker that starts: the backlog's articles (bench/pipeline.py's, in
its order) are matched in batches of the stage's ``batch_max``, and after each batch the
stage's outputs step is replayed for its matched articles, each part timed apart
(``time.thread_time``): the article's fingerprint (`Fingerprint.of`, cold: most of its chunks
were never met by the signature, only by the matcher), each match's candidate
(`Candidate.from_match`) and the two encodings. The fingerprints are then taken again, warm.
Printed in us a matched article (fingerprint) or a match (the rest), for the code of git ref
``--baseline`` and this worktree's, in alternating child processes (bench/baseline.py).

``--check`` compares every eval article's fingerprint, in three language settings (its own,
none, French), with what `analyse` makes of its text, and with the baseline's (a digest).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baseline import alternated, revision, use_code  # noqa: E402

use_code()  # a child measuring the baseline imports its rasd

import rasd  # noqa: E402  (first: bench.pipeline puts this worktree first on the path)
from bench.pipeline import corpus, stream_of  # noqa: E402
from rasd.codec import encode  # noqa: E402
from rasd.rules import Matcher, load_rules  # noqa: E402
from rasd.startup import collector_paused, freeze_loaded, keep_full_collections_short  # noqa: E402
from rasd.streams.config import StreamsSettings  # noqa: E402
from rasd.streams.similarity import _STOPWORDS, Fingerprint, numbers, signature  # noqa: E402
from rasd.streams.stories import Candidate  # noqa: E402
from rasd.text import analyse  # noqa: E402

LANGS = ("own", None, "fr")


def outputs(eval_dir: Path, n: int) -> dict[str, float]:
    """us a matched article (fingerprint, cold and warm) and a match (candidate, encodings)."""
    articles, _ = corpus(eval_dir)
    backlog = stream_of(articles, n, "t")
    matcher = Matcher(load_rules(ROOT / "rules").rules)
    freeze_loaded()
    keep_full_collections_short()
    size = StreamsSettings().batch_max
    spent = dict.fromkeys(("match", "fingerprint", "candidate", "encode"), 0.0)
    clock = time.thread_time
    matched: list = []
    matches = 0
    for at in range(0, len(backlog), size):
        start = clock()
        with collector_paused():
            found = [(a, m) for a in backlog[at : at + size] if (m := matcher.match(a))]
        spent["match"] += clock() - start
        for article, ms in found:
            start = clock()
            fingerprint = Fingerprint.of(article.title, article.summary, article.lang)
            done = clock()
            spent["fingerprint"] += done - start
            for m in ms:
                start = clock()
                candidate = Candidate.from_match(m, article, fingerprint)
                done = clock()
                encode(m)
                encode(candidate)
                spent["candidate"] += done - start
                spent["encode"] += clock() - done
            matches += len(ms)
        matched += (a for a, _ in found)
    start = clock()
    for article in matched:
        Fingerprint.of(article.title, article.summary, article.lang)
    warm = clock() - start
    return {
        "code": str(Path(rasd.__file__).parents[1]),
        "articles": len(backlog),
        "matched": len(matched),
        "matches": matches,
        "match": spent["match"] / len(backlog) * 1e6,
        "fingerprint": spent["fingerprint"] / len(matched) * 1e6,
        "warm": warm / len(matched) * 1e6,
        "candidate": spent["candidate"] / matches * 1e6,
        "encode": spent["encode"] / matches * 1e6,
    }


def expected(title: str, summary: str, lang: str | None) -> Fingerprint:
    """The fingerprint as the analyser reads the whole text (what the signature stands for)."""
    text = f"{title}\n{summary}"
    tokens = analyse(text, lang)
    words = signature(t.key for t in tokens if t.text.casefold() not in _STOPWORDS)
    return Fingerprint(words, tuple(numbers(text)))


def check(eval_dir: Path) -> dict[str, object]:
    """Every eval article's fingerprints: a digest, and how many differ from `expected`."""
    articles, _ = corpus(eval_dir)
    digest = hashlib.sha256()
    differ = 0
    for setting in LANGS:
        for a in articles:
            lang = a.lang if setting == "own" else setting
            got = Fingerprint.of(a.title, a.summary, lang)
            digest.update(f"{got.signature} {' '.join(got.numbers)}\n".encode())
            differ += got != expected(a.title, a.summary, lang)
    return {"articles": len(articles), "differ": differ, "digest": digest.hexdigest()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--baseline", default="main", help="git ref compared with ('' for none)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="compare fingerprints instead")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = check(args.eval_dir) if args.check else outputs(args.eval_dir, args.articles)
        print(json.dumps(result))
        return
    child = ["--child", "--eval-dir", str(args.eval_dir), "--articles", str(args.articles)]
    rounds = args.rounds
    if args.check:
        child.append("--check")
        rounds = 1
    sides = alternated(Path(__file__), child, args.baseline, rounds)
    print(f"baseline = {revision(args.baseline)}" if args.baseline else "no baseline")
    if args.check:
        for side, (r,) in sides.items():
            print(
                f"{side}: {r['articles']} articles x {len(LANGS)} language settings, "
                f"{r['differ']} differ from the analyser's; digest {r['digest'][:16]}"
            )
        return
    first = next(iter(sides.values()))[0]
    print(
        f"backlog {first['articles']} articles, {first['matched']} matched, "
        f"{first['matches']} matches; us a matched article (fingerprint) or a match, "
        "each round, then the median"
    )
    for side, results in sides.items():
        print(f"{side}: rasd from {results[0]['code']}")
    for key in ("fingerprint", "warm", "candidate", "encode", "match"):
        for side, results in sides.items():
            values = [r[key] for r in results]
            each = " ".join(f"{v:.1f}" for v in values)
            print(f"{key:12s} {side:10s} {each} | {statistics.median(values):.1f}")


if __name__ == "__main__":
    main()
