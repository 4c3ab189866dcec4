"""Articles per second for analysis + matching, and how it changes with the number of rules.

    python bench/match.py [--eval-dir ../shared/eval] [--items 2000] [--baseline main]
        [--rounds 3]

Items are real RSS titles + descriptions (Arabic from the ANT corpus, English from Arab News)
when ../shared/eval is present, else built-in sentences. Measured on one core, after one
warm-up pass (the analysis cache is warm in a running worker too; the first pass is shown).
Baseline in the same run: one compiled regex per rule (its terms as alternatives, Arabic
proclitics allowed), applied rule after rule, the way a loop over rules works.
Rates are per CPU second of this process (time.process_time), so other load on a shared
machine disturbs them less than wall-clock time would.
The default rules are measured on the first pass (a fresh process: the analysis caches are
empty, as in a worker that starts; then ``rasd.startup.freeze_loaded`` when the code measured
has it, as its processes call it once loaded) and warm, side by side with the code of git ref
``--baseline`` (``main`` by default; ``--baseline ''`` skips it), ``--rounds`` times each, in
alternating child processes (bench/baseline.py), so both sides meet the same machine load.
Targets (issue 3): >= 5,000 articles/s with the default rules; < 1.5x slowdown 10 -> 1,000 rules.
Target (issue 15): >= 6,000 articles/s on the first pass, warm no lower than the baseline's.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._rules import terms_of  # noqa: E402
from bench.baseline import alternated, revision, use_code  # noqa: E402

use_code()  # a child measuring the baseline imports its rasd

from rasd.models import Article  # noqa: E402
from rasd.rules import Matcher, Rule, load_rules, parse_rules  # noqa: E402
from rasd.text import analyse  # noqa: E402

FALLBACK = [
    (
        "ar",
        "التحالف الدولي يسحب قواته من قاعدة مهمة بالعراق",
        "أعلن التحالف الدولي سحب قواته من قاعدة كركوك الجوية وتسليم المعدات للقوات العراقية، وأوضح "
        "أن ذلك يأتي في إطار إعادة تموضع القوات في العراق.",
    ),
    (
        "ar",
        "سقوط صواريخ على قاعدة عين الأسد غربي الأنبار",
        "قالت مصادر أمنية إن ثلاثة صواريخ سقطت داخل القاعدة التي تضم قوات أميركية دون وقوع إصابات.",
    ),
    (
        "en",
        "Rockets hit Ain al-Asad air base hosting US troops",
        "Several rockets struck the base in western Iraq on Tuesday, officials said.",
    ),
    (
        "en",
        "Oil prices rise as markets weigh supply outlook",
        "Brent crude rose 1% on Monday as traders weighed OPEC+ output plans and demand in China.",
    ),
]


def load_items(eval_dir: Path, count: int) -> tuple[list[Article], str]:
    ant = eval_dir / "ar" / "ant_multisource_rss_2018_sample.jsonl"
    arabnews = eval_dir / "en" / "arabnews_rss_2023Q4.jsonl"
    rows: list[tuple[str, str, str]] = []
    if ant.is_file() and arabnews.is_file():
        for path, lang in ((ant, "ar"), (arabnews, "en")):
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    row = json.loads(line)
                    rows.append((lang, row.get("title") or "", row.get("description") or ""))
        source = f"real RSS items from {eval_dir}"
    else:
        rows = FALLBACK
        source = f"built-in sentences ({eval_dir} not present)"
    random.Random(1).shuffle(rows)
    items = [rows[i % len(rows)] for i in range(count)]
    articles = [
        Article(id=str(i), outlet="bench", feed="bench", lang=lang, title=title, summary=summary)
        for i, (lang, title, summary) in enumerate(items)
    ]
    return articles, source


def generated_rules(count: int, vocabulary: list[str], seed: int = 3) -> list[Rule]:
    """Rules shaped like real ones: all of two any-groups of corpus words, and a none group."""
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        first, second, never = (rng.sample(vocabulary, 4) for _ in range(3))
        docs.append(
            {
                "id": f"gen-{i}",
                "title": f"Generated {i}",
                "match": {"all": [{"any": first}, {"any": second}], "none": never},
            }
        )
    result = parse_rules(json.dumps(docs, ensure_ascii=False), "generated.yaml")
    assert not result.errors, result.errors[:3]
    return result.rules


def vocabularies(articles: list[Article]) -> dict[str, list[str]]:
    """Two sources of generated terms.

    dense: every corpus word past the 500 most frequent, so 1,000 rules x 12 terms cover a
    large share of the corpus' words and many rules wake up for each article (a worst case).
    sparse: words seen at most twice in the corpus, like the specific names and weapons real
    rules use; most rules stay asleep for most articles.
    """
    counts: dict[str, int] = {}
    for article in articles:
        for token in analyse(article.title + " " + article.summary, article.lang):
            if len(token.text) > 3 and token.text.isalpha():
                counts[token.text] = counts.get(token.text, 0) + 1
    ranked = sorted(counts, key=counts.get, reverse=True)
    return {
        "dense": ranked[500:] or ranked,
        "sparse": [w for w in ranked if counts[w] <= 2] or ranked,
    }


def regex_baseline(rules: list[Rule]) -> list[re.Pattern]:
    prefix = r"(?:[وفبلك]?(?:ال|لل)?)"
    return [
        re.compile(
            r"(?<!\w)" + prefix + "(?:" + "|".join(re.escape(t) for t in terms_of(r)) + r")",
            re.IGNORECASE,
        )
        for r in rules
    ]


def rate(function, articles: list[Article], budget: float = 3.0, repeat: int = 3) -> float:
    """Articles per second, best of ``repeat`` passes (the machine is shared; the best pass is
    the least disturbed). A pass stops early after ``budget`` seconds."""
    best = 0.0
    for _ in range(repeat):
        start = time.process_time()
        done = 0
        for article in articles:
            function(article)
            done += 1
            if done % 100 == 0 and time.process_time() - start > budget:
                break
        best = max(best, done / (time.process_time() - start))
    return best


def candidates_per_article(matcher: Matcher, articles: list[Article]) -> float:
    """How many rules an article wakes up (their anchor terms were found)."""
    total = 0
    for article in articles[:300]:
        hits, _ = matcher._find(article)
        total += len({r for t in hits for r in matcher._term_rules.get(t, ())})
    return total / min(len(articles), 300)


def first_and_warm(articles: list[Article]) -> dict[str, float]:
    """The default rules' rate on the first pass and warm (call in a fresh process)."""
    matcher = Matcher(load_rules(ROOT / "rules").rules)
    try:  # what the code measured does once loaded (a worker, `rasd rules eval`), if anything
        from rasd.startup import freeze_loaded
    except ImportError:
        pass
    else:
        freeze_loaded()
    cold = rate(matcher.match, articles, budget=30, repeat=1)
    return {"first": cold, "warm": rate(matcher.match, articles)}


def side_by_side(args: argparse.Namespace) -> None:
    """First-pass and warm rates of the baseline and of this code, rounds alternated."""
    child = ["--eval-dir", str(args.eval_dir), "--items", str(args.items), "--default-only"]
    sides = alternated(Path(__file__), child, args.baseline, args.rounds)
    print(f"\ndefault rules, fresh process per round, baseline = {revision(args.baseline)}")
    print("code | first pass art/s (each round) | warm art/s (each round)")
    best: dict[str, dict[str, float]] = {}
    for side, rounds in sides.items():
        best[side] = {k: max(r[k] for r in rounds) for k in ("first", "warm")}
        first = " / ".join(f"{r['first']:,.0f}" for r in rounds)
        warm = " / ".join(f"{r['warm']:,.0f}" for r in rounds)
        print(f"{side} | {first} | {warm}")
    old, new = best["baseline"], best["this code"]
    print(
        f"best of {args.rounds}: first pass {new['first']:,.0f} vs {old['first']:,.0f} "
        f"({new['first'] / old['first']:.2f}x; target >= 6,000), warm {new['warm']:,.0f} vs "
        f"{old['warm']:,.0f} ({new['warm'] / old['warm']:.2f}x; target >= 1x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--baseline", default="main", help="git ref compared with ('' for none)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--default-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    articles, source = load_items(args.eval_dir, args.items)
    if args.default_only:  # a child of side_by_side
        print(json.dumps(first_and_warm(articles)))
        return
    defaults = load_rules(ROOT / "rules").rules
    print(f"# match benchmark: {len(articles)} items, {source}")
    mean = sum(len(a.title) + len(a.summary) for a in articles) / len(articles)
    print(f"  mean length: {mean:.0f} characters (title + summary)")

    if args.baseline:
        side_by_side(args)
    else:
        rates = first_and_warm(articles)
        print(
            f"\ndefault rules ({len(defaults)}): first pass {rates['first']:,.0f} articles/s "
            f"(target >= 6,000), warm {rates['warm']:,.0f} articles/s (target >= 5,000)"
        )

    for name, words in vocabularies(articles).items():
        print(f"\n{name} generated terms ({len(words):,} candidate words)")
        print(
            "rules | rules woken per article | index matcher art/s | regex-per-rule art/s"
            " | speed-up"
        )
        index_rates: dict[int, float] = {}
        for count in (10, 100, 1000):
            rules = generated_rules(count, words) + defaults
            matcher = Matcher(rules)
            index_rates[count] = rate(matcher.match, articles)
            patterns = regex_baseline(rules)

            def loop_over_rules(article: Article, patterns=patterns) -> None:
                text = article.title + "\n" + article.summary
                for pattern in patterns:
                    pattern.search(text)

            baseline = rate(loop_over_rules, articles, repeat=1)
            woken = candidates_per_article(matcher, articles)
            print(
                f"{count} + {len(defaults)} | {woken:.1f} | {index_rates[count]:,.0f} | "
                f"{baseline:,.0f} | {index_rates[count] / baseline:.1f}x"
            )
        slowdown = index_rates[10] / index_rates[1000]
        print(f"slowdown from 10 to 1,000 rules ({name}): {slowdown:.2f}x (target < 1.5x)")


if __name__ == "__main__":
    main()
