"""How the default rules behave on real news (../shared/eval), for a person to judge.

    python bench/quality.py [--eval-dir ../shared/eval] [--rules rules] [--samples 6]

Prints, per corpus and rule, how many items matched and a sample of their titles (precision is
judged by reading them), the Arabic matches per outlet category (sport or economy matches are
likely false), ACLED English recall per event type, and the seed article's matches. The rules
were written from knowledge of the domain, not fitted to these files.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasd.models import Article  # noqa: E402
from rasd.rules import Matcher, load_rules  # noqa: E402

# Which of our rules an ACLED sub-event type should trigger. Types not listed are outside what
# the rules watch for (armed clashes, IEDs, protests ...): they show how often rules fire anyway.
ACLED_EXPECTED = {
    "Shelling/artillery/missile attack": {"rocket-attack"},
    "Air/drone strike": {"air-strike", "rocket-attack"},
    "Non-violent transfer of territory": {"troop-withdrawal"},
}


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            # ACLED rows carry bare NaN for empty fields.
            yield json.loads(line.replace(": NaN", ": null"))


def ant_articles(path: Path) -> Iterator[tuple[Article, dict]]:
    for i, row in enumerate(_jsonl(path)):
        yield (
            Article(
                id=str(row.get("id", i)),
                outlet=row.get("outlet") or "",
                feed="ant",
                lang="ar",
                title=row.get("title") or "",
                summary=row.get("description") or "",
                body=row.get("text") or None,
            ),
            row,
        )


def arabnews_articles(path: Path) -> Iterator[tuple[Article, dict]]:
    for i, row in enumerate(_jsonl(path)):
        article = Article(
            id=str(i),
            outlet="Arab News",
            feed="arabnews",
            lang="en",
            title=row.get("title") or "",
            summary=row.get("description") or "",
        )
        yield article, row


def acled_articles(path: Path) -> Iterator[tuple[Article, dict]]:
    for row in _jsonl(path):
        article = Article(
            id=row["event_id_cnty"],
            outlet="ACLED",
            feed="acled",
            lang="en",
            title="",
            summary=row.get("text") or "",
        )
        yield article, row


def report_matches(name: str, matcher: Matcher, items, samples: int, group_by: str | None):
    per_rule: dict[str, list[str]] = defaultdict(list)
    groups: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    count = 0
    for article, row in items:
        count += 1
        if group_by:
            totals[row.get(group_by)] += 1
        for match in matcher.match(article):
            per_rule[match.rule_id].append(article.title or article.summary[:120])
            if group_by:
                groups[match.rule_id][row.get(group_by)] += 1
    print(f"\n## {name}: {count} items")
    rng = random.Random(7)
    for rule in sorted(r.id for r in matcher.rules):
        titles = per_rule.get(rule, [])
        line = f"- {rule}: {len(titles)} matched ({100 * len(titles) / max(count, 1):.1f}%)"
        if group_by and titles:
            line += (
                "  by "
                + group_by
                + ": "
                + ", ".join(f"{k}={v}" for k, v in groups[rule].most_common())
            )
        print(line)
        for title in rng.sample(titles, min(samples, len(titles))):
            print(f"    · {title.strip()[:140]}")
    return per_rule


def report_acled(matcher: Matcher, path: Path) -> None:
    rows = list(acled_articles(path))
    by_type: dict[str, list[set[str]]] = defaultdict(list)
    for article, row in rows:
        by_type[row["sub_event_type"]].append({m.rule_id for m in matcher.match(article)})
    print(f"\n## ACLED English recall ({len(rows)} event notes, text as summary)")
    print("sub_event_type | n | expected rule(s) | recall | any attack-tagged rule")
    attack_rules = {r.id for r in matcher.rules if "attack" in r.tags}
    for sub_type, results in sorted(by_type.items(), key=lambda kv: -len(kv[1])):
        expected = ACLED_EXPECTED.get(sub_type)
        attack = sum(bool(r & attack_rules) for r in results) / len(results)
        if expected:
            recall = sum(bool(r & expected) for r in results) / len(results)
            shown = f"{'/'.join(sorted(expected))} | {100 * recall:.0f}%"
        else:
            shown = "(not watched) | -"
        print(f"{sub_type} | {len(results)} | {shown} | {100 * attack:.0f}%")
    print("\nrule precision on ACLED (share of a rule's matches whose type it is meant for):")
    for rule in sorted(r.id for r in matcher.rules):
        meant = [t for t, rules in ACLED_EXPECTED.items() if rule in rules]
        hits = [t for t, results in by_type.items() for r in results if rule in r]
        if meant and hits:
            good = sum(t in meant for t in hits)
            print(
                f"- {rule}: {good}/{len(hits)} = {100 * good / len(hits):.0f}%"
                f"  (others: {Counter(t for t in hits if t not in meant).most_common(4)})"
            )


def report_seed(matcher: Matcher, seed_dir: Path) -> None:
    files = sorted(seed_dir.glob("*.txt")) if seed_dir.is_dir() else []
    if not files:
        print(f"\n## seed: {seed_dir} not present, skipped")
        return
    lines = [line for line in files[0].read_text(encoding="utf-8").splitlines() if line.strip()]
    title, lead = lines[0], next(line for line in lines[1:] if line.startswith("أعلن"))
    print(f"\n## seed article {files[0].name}")
    for label, article in (
        (
            "title+summary",
            Article(id="seed", outlet="aj", feed="seed", lang="ar", title=title, summary=lead),
        ),
        (
            "full body",
            Article(
                id="seed",
                outlet="aj",
                feed="seed",
                lang="ar",
                title=title,
                body="\n".join(lines[1:]),
            ),
        ),
    ):
        for match in matcher.match(article):
            print(f"- {label}: {match.rule_id} places={','.join(match.places)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--samples", type=int, default=6)
    args = parser.parse_args()
    loaded = load_rules(args.rules)
    for error in loaded.errors:
        print(error, file=sys.stderr)
    matcher = Matcher(loaded.rules)
    print(f"# rule quality: {len(loaded.rules)} rules from {args.rules}")
    if not args.eval_dir.is_dir():
        print(f"eval corpora not present at {args.eval_dir}; nothing to measure")
        return
    ant = args.eval_dir / "ar" / "ant_multisource_rss_2018_sample.jsonl"
    arabnews = args.eval_dir / "en" / "arabnews_rss_2023Q4.jsonl"
    acled = args.eval_dir / "en" / "acled_rows_2022H1_sample.jsonl"
    if ant.is_file():
        report_matches(
            "Arabic RSS (ANT corpus, title+description+body)",
            matcher,
            ant_articles(ant),
            args.samples,
            group_by="category",
        )
    else:
        print(f"\n{ant} not present")
    if arabnews.is_file():
        report_matches(
            "Arab News RSS 2023Q4 (title+description)",
            matcher,
            arabnews_articles(arabnews),
            args.samples,
            group_by=None,
        )
    else:
        print(f"\n{arabnews} not present")
    if acled.is_file():
        report_acled(matcher, acled)
    else:
        print(f"\n{acled} not present")
    report_seed(matcher, args.eval_dir.parent / "seed")


if __name__ == "__main__":
    main()
