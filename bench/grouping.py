"""Grouping precision and recall of the story decision on judged pairs of real news reports.

    python bench/grouping.py [--eval-dir ../shared/eval] [--labels FILE] [--show]

``bench/labels/grouping_pairs.jsonl`` holds pairs of report ids (ANT corpus ``id``, Arab News
``link``), each judged by hand as one event or not (``same_event``), and ``kind``:
- ``pair``: one event reported by two outlets (ANT Arabic 2018: BBC, CNN, France 24, Sky News
  Arabia, Al Arabiya) or twice by Arab News;
- ``republished``: one Arab News article under two URLs (easy; also shown apart);
- ``hard-non-pair``: different events of one country (or one actor) within a day of each other;
- ``non-pair``: different events that one shipped rule matched within a day, one of them
  naming no gazetteer place (so places do not tell them apart).
The texts are read from ../shared/eval (never stored in the repository); without it the
benchmark says so and stops.

Each pair runs through the real decision: both reports are matched by the shipped rules (places
and matched words come from the matcher); when they do not match one shipped rule together, a
rule naming every gazetteer place stands in for "both matched one rule" (the decision is made
per rule). The two candidates, timed by their publication dates, go through
:func:`rasd.streams.stories.advance` with the worker's default settings, and the pair counts as
grouped when both end in one story. Cross-language pairs: the corpora have none (the Arabic
sample is from 2018, the English one from 2023), so they are measured only by the unit tests'
own sentences.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasd.models import Article, Match  # noqa: E402
from rasd.rules import Matcher, default_gazetteer, load_rules, parse_rules  # noqa: E402
from rasd.streams.config import StreamsSettings  # noqa: E402
from rasd.streams.stories import Candidate, Limits, RuleState, advance  # noqa: E402

CORPORA = {
    "ant": ("ar/ant_multisource_rss_2018_sample.jsonl", "id"),
    "arabnews": ("en/arabnews_rss_2023Q4.jsonl", "link"),
}


def _published(text: str) -> datetime:
    try:
        return parsedate_to_datetime(text).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime.fromisoformat(text).astimezone(UTC)


def load_articles(eval_dir: Path, wanted: set[str]) -> dict[str, Article]:
    articles: dict[str, Article] = {}
    for corpus, (path, key) in CORPORA.items():
        with (eval_dir / path).open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if row[key] not in wanted:
                    continue
                published = _published(row["pubDate"])
                articles[row[key]] = Article(
                    id=row[key],
                    url=row["link"],
                    outlet=row["outlet"],
                    feed=corpus,
                    lang=row["lang"],
                    title=row.get("title") or "",
                    summary=row.get("description") or "",
                    published_at=published,
                    fetched_at=published,
                )
    return articles


def place_rule():
    """A rule that matches every report naming a gazetteer place, on title and summary."""
    names = sorted({n for p in default_gazetteer().places for n in p.names})
    spec = {"id": "any-place", "title": "Any place", "fields": ["title", "summary"]}
    spec["match"] = {"any": names}
    return parse_rules(json.dumps(spec, ensure_ascii=False), "any-place.yaml").rules[0]


def one_rule(shipped: Matcher, places: Matcher, a: Article, b: Article) -> tuple[Match, Match]:
    """The two reports' matches of one shipped rule, else of the stand-in rule."""
    found_a = {m.rule_id: m for m in shipped.match(a)}
    found_b = {m.rule_id: m for m in shipped.match(b)}
    common = sorted(found_a.keys() & found_b.keys())
    if common:
        return found_a[common[0]], found_b[common[0]]

    def stand_in(article: Article) -> Match:
        matched = places.match(article)
        if matched:
            return matched[0]
        return Match(article_id=article.id, rule_id="any-place", rule_version="-", severity="high")

    return stand_in(a), stand_in(b)


def grouped(first: Candidate, second: Candidate, limits: Limits) -> bool:
    state = RuleState(rule_id=first.match.rule_id)
    keys = []
    for candidate in sorted((first, second), key=lambda c: c.seen_at):
        state, revisions = advance(state, candidate, None, limits)
        keys.append(revisions[0].alert.key)
    return keys[0] == keys[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--labels", type=Path, default=ROOT / "bench/labels/grouping_pairs.jsonl")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--show", action="store_true", help="list the pairs decided wrongly")
    args = parser.parse_args()

    if not all((args.eval_dir / path).exists() for path, _ in CORPORA.values()):
        print(f"{args.eval_dir} is not present: the pairs' texts live there; nothing measured.")
        return 2
    labels = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines()]
    articles = load_articles(args.eval_dir, {x for p in labels for x in (p["a"], p["b"])})
    missing = sorted({x for p in labels for x in (p["a"], p["b"])} - articles.keys())
    if missing:
        print(f"ids not found in {args.eval_dir}: {', '.join(missing)}")
        return 2

    config = StreamsSettings()
    limits = Limits.from_config(config)
    shipped = Matcher(load_rules(args.rules).rules)
    places = Matcher([place_rule()])
    outcome: Counter = Counter()
    wrong = []
    for pair in labels:
        a, b = articles[pair["a"]], articles[pair["b"]]
        match_a, match_b = one_rule(shipped, places, a, b)
        said = grouped(Candidate.from_match(match_a, a), Candidate.from_match(match_b, b), limits)
        truth = pair["same_event"]
        outcome[(pair["kind"], truth, said)] += 1
        if abs(a.fetched_at - b.fetched_at) > limits.window:
            outcome[("beyond-window", truth, said)] += 1
        outcome[
            ("shipped-rule" if match_a.rule_id != "any-place" else "stand-in", truth, said)
        ] += 1
        if said != truth:
            wrong.append((pair, match_a.rule_id))

    def figures(kinds: set[str]) -> tuple[int, int, int, int]:
        tp = sum(n for (k, t, s), n in outcome.items() if k in kinds and t and s)
        fn = sum(n for (k, t, s), n in outcome.items() if k in kinds and t and not s)
        fp = sum(n for (k, t, s), n in outcome.items() if k in kinds and not t and s)
        tn = sum(n for (k, t, s), n in outcome.items() if k in kinds and not t and not s)
        return tp, fn, fp, tn

    kinds = Counter(p["kind"] for p in labels)
    print(f"pairs judged: {dict(kinds)} (texts from {args.eval_dir})")
    print(
        f"settings (RASD_STREAMS_*): story_window={config.story_window:g}s "
        f"story_similarity={config.story_similarity} "
        f"story_similarity_same_outlet={config.story_similarity_same_outlet}"
    )
    print("cross-language pairs: none in the corpora (Arabic 2018, English 2023)")
    for name, chosen in (
        ("all pairs", {"pair", "republished", "hard-non-pair", "non-pair"}),
        ("without republished", {"pair", "hard-non-pair", "non-pair"}),
    ):
        tp, fn, fp, tn = figures(chosen)
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        print(
            f"{name}: precision {precision:.2f} ({tp}/{tp + fp}), recall {recall:.2f} "
            f"({tp}/{tp + fn}); non-pairs kept apart {tn}/{tn + fp}"
        )
    for source in ("shipped-rule", "stand-in"):
        tp, fn, fp, tn = figures({source})
        print(
            f"  decided under a {source}: {tp + fn} pairs ({tp} grouped), {fp + tn} non-pairs "
            f"({fp} grouped)"
        )
    tp, fn, fp, tn = figures({"beyond-window"})
    all_tp, all_fn, _, _ = figures({"pair", "republished"})
    within = all_tp - tp
    print(
        f"  more than story_window apart: {tp + fn} pairs ({tp} grouped), {fp + tn} non-pairs "
        f"({fp} grouped); recall within the window {within / (within + all_fn - fn):.2f} "
        f"({within}/{within + all_fn - fn}). These are two-report streams: live, reports in "
        "between keep a story open longer"
    )
    if args.show:
        for pair, rule in wrong:
            said = "apart" if pair["same_event"] else "grouped"
            print(f"  wrongly {said} [{rule}] {pair['a']} {pair['b']}: {pair['note']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
