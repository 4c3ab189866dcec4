"""Does this worktree analyse and match exactly as a baseline does? Old vs new on real text.

    python bench/analysis_check.py [--baseline main] [--eval-dir ../shared/eval] [--show 5]

Runs the same dump twice, in two child processes: once with the ``rasd`` package of git ref
``--baseline`` (exported by `bench.baseline`), once with this worktree's; ``rules/`` is this
worktree's in both. Then it counts what differs:

- token streams: ``analyse(text, lang)`` of every title, summary and body (the item's language,
  and none) of ../shared/eval: the ANT Arabic RSS sample (its ``text`` as the body), Arab News,
  the ACLED notes (as summaries) and the two RSS documents (every token's text, span,
  position, key, readings and script);
- matches of the default rules on those items (rule, version, severity, tags, places and term
  hits; hits are compared in their order and, separately, as a set) and ``near_misses``;
- term keys (``term_keys``) of every rule term and every gazetteer name (the shipped gazetteer
  and ../shared/eval/gazetteer's GeoNames names);
- ``analyse_word`` of every word of wordfreq's 100,000 most frequent Arabic and English words
  and of the word forms in tests/fixtures/text, as an article word and as a term.

Without ../shared/eval (it says so) only the word lists, the fixtures and the shipped gazetteer
are compared. Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._rules import terms_of  # noqa: E402
from bench.baseline import exported, revision, run_child, use_code  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "text"
JSONL = {
    "ant": ("ar/ant_multisource_rss_2018_sample.jsonl", "ar"),
    "arabnews": ("en/arabnews_rss_2023Q4.jsonl", "en"),
    "acled": ("en/acled_rows_2022H1_sample.jsonl", "en"),
}
FEEDS = (
    "rss/aljazeera_america_articles_rss_2016-02-26.xml",
    "rss/jpost_homepage_rss_2023-02-25.xml",
)


def articles(eval_dir: Path) -> Iterator[tuple[str, object]]:
    from rasd.models import Article
    from rasd.rules.testinput import read_articles

    for source, (name, lang) in JSONL.items():
        path = eval_dir / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                row = json.loads(line)
                title = row.get("title") or ""
                summary = row.get("description") or ""
                body = row.get("text") or ""
                if not summary:  # ACLED's notes: read by the rules on title + summary too
                    summary, body = body, ""
                if body in (summary, title):
                    body = ""
                yield (
                    f"{source}:{number}",
                    Article(
                        id=str(row.get("id") or number),
                        outlet=row.get("outlet") or source,
                        feed=source,
                        lang=row.get("lang") or lang,
                        title=title,
                        summary=summary,
                        body=body or None,
                    ),
                )
    for name in FEEDS:
        path = eval_dir / name
        if path.is_file():
            for number, article in enumerate(read_articles(path, print), start=1):
                yield f"{path.name}:{number}", article


def words(eval_dir: Path) -> set[str]:
    import wordfreq

    found = {w for lang in ("ar", "en") for w in wordfreq.top_n_list(lang, 100_000)}
    for fixture in FIXTURES.glob("*.tsv"):
        for line in fixture.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                found.update(line.split("\t"))
    return found


def gazetteer_names(eval_dir: Path) -> set[str]:
    shipped = json.loads((ROOT / "rasd" / "rules" / "gazetteer.json").read_text(encoding="utf-8"))
    names = {n for place in shipped["places"] for n in place.get("names", ())}
    geonames = eval_dir / "gazetteer" / "me_places_geonames_cities500.jsonl"
    if geonames.is_file():
        with geonames.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                names.add(row["name"])
                names.update(row.get("names_arabic_script") or ())
                names.update(row.get("names_latin_alt") or ())
    return names


def dump(eval_dir: Path, out: Path) -> dict:
    """Everything compared, from the ``rasd`` that `use_code` put first (a child process)."""
    import rasd
    from rasd.rules import Matcher, load_rules
    from rasd.rules.matcher import term_keys
    from rasd.text import analyse, analyse_word

    rules = load_rules(ROOT / "rules").rules
    matcher = Matcher(rules)
    tokens: dict[tuple, tuple] = {}
    matches: dict[str, tuple] = {}
    misses: dict[str, tuple] = {}
    for key, article in articles(eval_dir):
        for field in ("title", "summary", "body"):
            text = getattr(article, field)
            if not text:
                continue
            for lang in (article.lang, None):
                tokens[(key, field, lang)] = tuple(
                    (t.text, t.start, t.end, t.position, t.key, tuple(sorted(t.forms)), t.script)
                    for t in analyse(text, lang)
                )
        matches[key] = tuple(
            (
                m.rule_id,
                m.rule_version,
                m.severity,
                m.tags,
                m.places,
                tuple((t.term, t.field, t.start, t.end, t.text) for t in m.terms),
            )
            for m in matcher.match(article)
        )
        misses[key] = tuple(
            sorted(json.dumps(m.as_dict(), sort_keys=True) for m in matcher.near_misses(article))
        )
    written = {t for rule in rules for t in terms_of(rule)} | gazetteer_names(eval_dir)
    terms = {t: term_keys(t) for t in written}
    analysed = {
        w: tuple(
            (key, tuple(sorted(forms)), script)
            for key, forms, script in (analyse_word(w, "en"), analyse_word(w, "en", True))
        )
        for w in words(eval_dir)
    }
    data = {
        "token streams": tokens,
        "matches": matches,
        "near misses": misses,
        "term keys": terms,
        "words": analysed,
    }
    with out.open("wb") as stream:
        pickle.dump(data, stream)
    return {"code": rasd.__file__, **{kind: len(values) for kind, values in data.items()}}


def as_set(match_rows: tuple) -> frozenset:
    return frozenset((*row[:5], frozenset(row[5])) for row in match_rows)


def compare(old: dict, new: dict, show: int) -> int:
    differing = 0
    for kind in old:
        keys = old[kind].keys() | new[kind].keys()
        bad = [k for k in keys if old[kind].get(k) != new[kind].get(k)]
        line = f"{kind}: {len(keys):,} compared, {len(bad):,} differ"
        if kind == "matches":
            unordered = [k for k in bad if as_set(old[kind][k]) != as_set(new[kind][k])]
            line += f" ({len(unordered):,} as sets of term hits)"
            total = sum(len(v) for v in old[kind].values())
            line += f"; {total:,} matches before, {sum(len(v) for v in new[kind].values()):,} now"
        print(line)
        for k in sorted(bad, key=str)[:show]:
            print(f"  {k}:\n    before {old[kind].get(k)}\n    now    {new[kind].get(k)}")
        differing += len(bad)
    return differing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref of the code compared with")
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--show", type=int, default=5, help="differences printed per kind")
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # a child's output file
    args = parser.parse_args()
    if args.dump:
        use_code()
        print(json.dumps(dump(args.eval_dir, args.dump)))
        return
    eval_dir = args.eval_dir.resolve()
    if not (eval_dir / JSONL["ant"][0]).is_file():
        print(f"# {eval_dir} is not present: word lists, fixtures and the gazetteer only")
    print(f"# analysis check: {revision(args.baseline)} vs this worktree ({ROOT})")
    child = ["--eval-dir", str(eval_dir), "--dump"]
    with tempfile.TemporaryDirectory() as tmp, exported(args.baseline) as code:
        before, after = Path(tmp) / "before.pickle", Path(tmp) / "after.pickle"
        counts = run_child(Path(__file__), [*child, str(before)], code)
        run_child(Path(__file__), [*child, str(after)], ROOT)
        print(f"# baseline code: {counts.pop('code')}")
        print("# compared: " + ", ".join(f"{n:,} {kind}" for kind, n in counts.items()))
        with before.open("rb") as a, after.open("rb") as b:
            differing = compare(pickle.load(a), pickle.load(b), args.show)
    print(f"\n{differing:,} differences")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
