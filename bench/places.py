"""Place precision of the gazetteer on real news: a judged sample of (article, place) matches.

    python bench/places.py [--eval-dir ../shared/eval]        # precision of the judged sample
    python bench/places.py --show                             # contexts of the unjudged ones
    python bench/places.py --names 40                         # the names found most often
    python bench/places.py --timing                           # load, build and match costs

The matcher's place finding (the term index the rules use, over title + summary) is run on the
real corpora in ../shared/eval: every Arabic file in ar/ (article id: ``id``) and Arab News
2023Q4 in en/ (article id: ``link``). Each article x place found directly (not through a
contained place) is one match; SAMPLE of them are drawn with a fixed seed: the matches whose
hash of (seed, article id, place) is smallest, so that a change to the gazetteer only moves
the matches it adds or removes in and out of the sample. The judgements
(bench/labels/places_judged.jsonl: article id, place, verdict, note; no text) say whether the
mention really is that place; the matches not judged yet are listed, and precision is over
the judged ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasd.models import Article  # noqa: E402
from rasd.rules import Gazetteer, Matcher, default_gazetteer, load_rules, parse_rules  # noqa: E402
from rasd.rules.matcher import _Spans  # noqa: E402

SEED = 10
SAMPLE = 200
# A second sample from the matches of GeoNames towns only: the countries and capitals that
# dominate the first one are hand-kept, the towns are where the build's choices show.
CITY_SEED = 11
CITY_SAMPLE = 100
LABELS = ROOT / "bench" / "labels" / "places_judged.jsonl"
# One rule that reads the fields the shipped rules read, so the matcher indexes them.
_PROBE = "id: probe\ntitle: probe\nfields: [title, summary]\nmatch: {any: [probe]}\n"


def corpora(eval_dir: Path) -> list[Article]:
    files = sorted((eval_dir / "ar").glob("*.jsonl")) + [
        eval_dir / "en" / "arabnews_rss_2023Q4.jsonl"
    ]
    articles: list[Article] = []
    for path in files:
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                ident = row.get("id") or row.get("link")
                articles.append(
                    Article(
                        id=ident,
                        outlet=row.get("outlet") or "eval",
                        feed=path.stem,
                        lang=row.get("lang") or "ar",
                        title=(row.get("title") or "")[:1000],
                        summary=(row.get("description") or "")[:5000],
                    )
                )
    return articles


def find_places(matcher: Matcher, article: Article) -> dict[str, tuple[str, str, int, int]]:
    """place -> (field, matched text, start, end) of its first mention in the article."""
    hits, texts = matcher._find(article)
    spans = _Spans(texts)
    found: dict[str, tuple[str, str, int, int]] = {}
    for term_id in sorted(hits.keys() & matcher._term_places.keys()):
        field, start, end = min(
            ((h.field, *spans(h)) for h in hits[term_id]), key=lambda f: (f[0] != "title", f[1])
        )
        for place in matcher._term_places[term_id]:
            mention = (field, texts[field][start:end])
            previous = found.get(place)
            if previous is None or (field != "title", start) < (
                previous[0] != "title",
                previous[2],
            ):
                found[place] = (*mention, start, end)
    return found


def all_matches(articles: list[Article]) -> list[tuple[Article, str, tuple[str, str, int, int]]]:
    matcher = Matcher(parse_rules(_PROBE, "probe.yaml").rules)
    out = []
    for article in articles:
        for place, mention in sorted(find_places(matcher, article).items()):
            out.append((article, place, mention))
    return out


def sample(matches: list, seed: int, size: int) -> list:
    """The ``size`` matches with the smallest hash of (seed, article id, place)."""

    def rank(match) -> str:
        article, place, _ = match
        return hashlib.sha256(f"{seed}\t{article.id}\t{place}".encode()).hexdigest()

    return sorted(matches, key=rank)[:size]


def city_sample(matches: list) -> list:
    towns = {p.id for p in default_gazetteer().places if p.geonames is not None}
    return sample([m for m in matches if m[1] in towns], CITY_SEED, CITY_SAMPLE)


def report(name: str, sample: list, labels: dict, show: bool) -> None:
    judged = [(a, p, m, labels[(a.id, p)]) for a, p, m in sample if (a.id, p) in labels]
    unjudged = [(a, p, m) for a, p, m in sample if (a.id, p) not in labels]
    correct = sum(1 for *_, label in judged if label["verdict"] == "correct")
    print(f"\n{name}: {len(sample)} matches; judged {len(judged)}")
    if judged:
        print(f"precision: {correct / len(judged):.3f} ({correct}/{len(judged)})")
        by_lang: dict[str, list[int]] = {}
        for article, _, _, label in judged:
            counts = by_lang.setdefault(article.lang, [0, 0])
            counts[0] += label["verdict"] == "correct"
            counts[1] += 1
        for lang, (good, total) in sorted(by_lang.items()):
            print(f"  {lang}: {good / total:.3f} ({good}/{total})")
        for article, place, _, label in judged:
            if label["verdict"] != "correct":
                print(f"  wrong: {place} in {article.id}: {label.get('note', '')}")
    if unjudged:
        print(f"not judged yet ({len(unjudged)}): new matches since the judgements")
        for article, place, mention in unjudged:
            line = f"  {article.id}\t{place}\t{mention[1]}"
            if show:
                line += "\n      " + context(article, mention)
            print(line)


def timing(articles: list[Article]) -> None:
    """What the gazetteer costs: load, Matcher construction and matching, against the
    hand-kept places alone and no places, in the same run (CPU seconds, best of 3)."""
    import rasd.rules.gazetteer as gazetteer_module

    rules = load_rules(ROOT / "rules").rules
    loads = []
    for _ in range(3):
        gazetteer_module.default_gazetteer.cache_clear()
        start = time.process_time()
        shipped = gazetteer_module.default_gazetteer()
        loads.append(time.process_time() - start)
    hand_kept = Gazetteer(places=tuple(p for p in shipped.places if p.geonames is None))
    print(f"\ntiming: gazetteer load {min(loads) * 1000:.0f} ms ({len(shipped.places)} places)")
    print("places | Matcher() first / again, ms | articles/s (default rules, corpus items)")
    for name, gazetteer in (
        ("shipped", shipped),
        ("hand-kept only", hand_kept),
        ("none", Gazetteer(places=())),
    ):
        analysis_cache_clear()
        start = time.process_time()
        Matcher(rules, gazetteer)
        first = time.process_time() - start
        again = []
        for _ in range(3):
            start = time.process_time()
            matcher = Matcher(rules, gazetteer)
            again.append(time.process_time() - start)
        for article in articles:
            matcher.match(article)
        rates = []
        for _ in range(3):
            start = time.process_time()
            for article in articles:
                matcher.match(article)
            rates.append(len(articles) / (time.process_time() - start))
        print(
            f"{name} ({len(gazetteer.places)}) | {first * 1000:.0f} / {min(again) * 1000:.0f}"
            f" | {max(rates):,.0f}"
        )


def analysis_cache_clear() -> None:
    """Empty the analyser's caches, so "first" is the cost a starting worker pays."""
    from rasd.text import analysis

    for value in vars(analysis).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def load_labels() -> dict[tuple[str, str], dict]:
    if not LABELS.is_file():
        return {}
    with LABELS.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return {(r["article"], r["place"]): r for r in rows}


def context(article: Article, mention: tuple[str, str, int, int], width: int = 60) -> str:
    field, _, start, end = mention
    text = getattr(article, field)
    left = text[max(0, start - width) : start].replace("\n", " ")
    right = text[end : end + width].replace("\n", " ")
    return f"{field}: …{left}[[{text[start:end]}]]{right}…"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--show", action="store_true", help="print the unjudged matches' context")
    parser.add_argument("--names", type=int, default=0, help="list the N most frequent names")
    parser.add_argument("--timing", action="store_true", help="measure load and match costs")
    args = parser.parse_args()
    articles = corpora(args.eval_dir)
    if not articles:
        print(f"# place precision: {args.eval_dir} not present; nothing to measure")
        return
    matches = all_matches(articles)
    per_article = Counter(a.id for a, _, _ in matches)
    print(
        f"# place precision: {len(articles)} articles from {args.eval_dir}, "
        f"{len(matches)} (article, place) matches in {len(per_article)} articles"
    )
    if args.timing:
        timing(articles)
        return
    if args.names:
        names = Counter((place, mention[1]) for _, place, mention in matches)
        for (place, text), count in names.most_common(args.names):
            print(f"{count:5d}  {place:28s} {text}")
        return
    labels = load_labels()
    report(f"all matches (seed {SEED})", sample(matches, SEED, SAMPLE), labels, args.show)
    report(f"GeoNames towns' matches (seed {CITY_SEED})", city_sample(matches), labels, args.show)


if __name__ == "__main__":
    main()
