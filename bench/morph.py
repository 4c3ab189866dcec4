"""Arabic analysis side by side: does a written term reach its word family, and how fast?

    python bench/morph.py [--eval-dir ../shared/eval] [--words 2000]

Accuracy is measured on three lists of real word forms from Arabic RSS items (each with the
family a rule author would write, plus look-alikes that must stay apart), in
tests/fixtures/text/: arabic_families.tsv (titles and descriptions; the light stemmer was
tuned on it, so its figure there is in-sample), arabic_families_bodies.tsv (forms found only
in article bodies: measured once held out, then tuned on) and arabic_families_heldout.tsv
(families the others lack, labelled once the stemmer was final, never tuned on). "reached"
counts forms whose analysis meets the family's, "merged" counts look-alikes that wrongly do.
Speed is words per CPU second on distinct words of the Arabic RSS
titles and descriptions of ../shared/eval (the fixture's forms when it is absent), analysed
cold (no cache), on one core.

Analysers compared (each optional; a missing one is reported with its install command):
- rasd's light stemmer (rasd.text.arabic): a term's key among the token's readings;
- qalsadi 0.5 (lexicon: arramooz-pysqlite), its lemmatizer: the first lemma of each, or any
  shared lemma among all of them (all=True);
- pyaramorph 0.2 (Buckwalter's lexicon, BAMA 1.0): any shared lemma id;
- hybrid: the light stemmer's readings plus the stem of qalsadi's first lemma.
camel-tools' own analyser is absent: its morphology database is downloaded from the CAMeL
Lab's data server at run time (`camel_data -i morphology-db-msa-r13`), which this project
cannot rely on; no PyPI package ships it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasd.text import arabic  # noqa: E402
from rasd.text.normalize import normalize_arabic  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "text"
LISTS = {
    "tuned on": FIXTURES / "arabic_families.tsv",
    "second round": FIXTURES / "arabic_families_bodies.tsv",
    "held out": FIXTURES / "arabic_families_heldout.tsv",
}
_ARABIC_WORD = re.compile(r"[\u0621-\u064A\u0671-\u06D3]{2,}")

# An analyser gives (term side, article side): two functions from a word to a set of keys; a
# form reaches a family when the sets meet.
Sides = tuple[Callable[[str], frozenset[str]], Callable[[str], frozenset[str]]]


Row = tuple[str, str, bool, str]


def fixture_rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        return [
            (r["form"], r["family"], r["expect"] == "yes", r["kind"])
            for r in csv.DictReader(lines, delimiter="\t")
        ]


def corpus_words(eval_dir: Path, count: int) -> tuple[list[str], str]:
    path = eval_dir / "ar" / "ant_multisource_rss_2018_sample.jsonl"
    if not path.is_file():
        words = sorted({form for form, *_ in fixture_rows(LISTS["tuned on"])})
        return words, f"the fixture's {len(words)} forms ({path} not present)"
    seen: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            for field in ("title", "description"):
                seen.update(_ARABIC_WORD.findall(row.get(field) or ""))
    words = sorted(seen)
    random.Random(7).shuffle(words)
    return words[:count], f"{min(count, len(words))} distinct words of {path.name}"


def light() -> Sides:
    return (
        lambda w: frozenset((arabic.term_stem(normalize_arabic(w)),)),
        lambda w: arabic.readings(normalize_arabic(w)),
    )


def _lemma_key(lemma: str) -> str:
    return normalize_arabic(lemma)


def qalsadi_first() -> Sides:
    import qalsadi.lemmatizer

    lemmatizer = qalsadi.lemmatizer.Lemmatizer()

    def first(word: str) -> frozenset[str]:
        lemma = lemmatizer.lemmatize(word)
        return frozenset((_lemma_key(lemma),)) if lemma else frozenset()

    return first, first


def qalsadi_all() -> Sides:
    import qalsadi.lemmatizer

    lemmatizer = qalsadi.lemmatizer.Lemmatizer()

    def every(word: str) -> frozenset[str]:
        lemmas = lemmatizer.lemmatize(word, all=True) or []
        return frozenset(_lemma_key(lemma) for lemma in lemmas if lemma)

    return every, every


def pyaramorph_lemmas() -> Sides:
    with contextlib.redirect_stdout(io.StringIO()):  # it prints while loading its tables
        import pyaramorph
        from pyaramorph import buckwalter

        analyser = pyaramorph.Analyzer()
    solution = re.compile(r"solution: \(.*?\) \[(.*?)\]")

    def lemmas(word: str) -> frozenset[str]:
        clean = re.sub("[\u0640\u064b-\u0652\u0670]", "", word)
        found = analyser.analyze_word(buckwalter.uni2buck(clean))
        return frozenset(m for text in found for m in solution.findall(text))

    return lemmas, lemmas


def hybrid() -> Sides:
    import qalsadi.lemmatizer

    lemmatizer = qalsadi.lemmatizer.Lemmatizer()
    term_side, article_side = light()

    def readings(word: str) -> frozenset[str]:
        lemma = lemmatizer.lemmatize(word)
        extra = {arabic.term_stem(normalize_arabic(lemma))} if lemma else set()
        return article_side(word) | extra

    return term_side, readings


ANALYSERS: dict[str, tuple[Callable[[], Sides], str]] = {
    "light stemmer (rasd)": (light, ""),
    "qalsadi, first lemma": (qalsadi_first, "pip install qalsadi arramooz-pysqlite"),
    "qalsadi, any lemma": (qalsadi_all, "pip install qalsadi arramooz-pysqlite"),
    "pyaramorph (Buckwalter)": (pyaramorph_lemmas, "pip install pyaramorph"),
    "hybrid: light + qalsadi lemma": (hybrid, "pip install qalsadi arramooz-pysqlite"),
}


def words_per_second(analyse: Callable[[str], frozenset[str]], words: Iterable[str]) -> float:
    words = list(words)
    # Cold: forget what the accuracy lists left in the stemmer's caches.
    arabic.stem.cache_clear()
    arabic._strip_suffixes.cache_clear()
    start = time.process_time()
    for word in words:
        analyse(word)
    return len(words) / max(time.process_time() - start, 1e-9)


def score(sides: Sides, rows: list[Row]) -> tuple[int, int, dict[str, int], list[str]]:
    """(reached, merged, reached per kind, wrong rows) of one analyser on one list."""
    term_side, article_side = sides
    reached = merged = 0
    by_kind: dict[str, int] = defaultdict(int)
    wrong: list[str] = []
    for form, family, expect, kind in rows:
        meets = bool(term_side(family) & article_side(form))
        if expect and meets:
            reached += 1
            by_kind[kind] += 1
        elif not expect and meets:
            merged += 1
        if meets != expect:
            wrong.append(f"{form}->{family}" if expect else f"{form}=/={family}")
    return reached, merged, by_kind, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--words", type=int, default=2000, help="distinct words timed")
    parser.add_argument("--misses", action="store_true", help="list each analyser's failures")
    args = parser.parse_args()

    lists = {name: fixture_rows(path) for name, path in LISTS.items()}
    words, source = corpus_words(args.eval_dir, args.words)
    for name, rows in lists.items():
        positives = sum(expect for _, _, expect, _ in rows)
        print(
            f"# {name}: {LISTS[name].relative_to(ROOT)}, {positives} forms that must reach"
            f" their family, {len(rows) - positives} look-alikes"
        )
    print(f"# speed: {source}, cold, per CPU second\n")

    analysers: dict[str, Sides] = {}
    for name, (factory, install) in ANALYSERS.items():
        try:
            analysers[name] = factory()
        except ImportError:
            print(f"{name}: not installed ({install})")
    results = {
        (analyser, name): score(sides, rows)
        for analyser, sides in analysers.items()
        for name, rows in lists.items()
    }
    # A fresh instance for timing, so no analyser's own cache holds the lists' words.
    rates = {name: words_per_second(ANALYSERS[name][0]()[1], words) for name in analysers}

    header = "analyser"
    for name, rows in lists.items():
        positives = sum(expect for _, _, expect, _ in rows)
        header += f" | {name}: reached (of {positives}) | merged (of {len(rows) - positives})"
    print(header + " | words/s")
    print(" | ".join("---" for _ in range(2 * len(lists) + 2)))
    base_rate = next(iter(rates.values()), 1.0)
    for analyser in analysers:
        cells = []
        for name, rows in lists.items():
            positives = sum(expect for _, _, expect, _ in rows)
            reached, merged, _, _ = results[analyser, name]
            cells.append(f"{reached} ({reached / positives:.0%})")
            cells.append(f"{merged} ({merged / (len(rows) - positives):.0%})")
        rate = rates[analyser]
        print(f"{analyser} | " + " | ".join(cells) + f" | {rate:,.0f} ({rate / base_rate:.2g}x)")

    tuned = lists["tuned on"]
    totals = Counter(kind for _, _, expect, kind in tuned if expect)
    print("\nreached per kind of form (tuned-on list) | " + " | ".join(analysers))
    print("--- | " + " | ".join("---" for _ in analysers))
    for kind in sorted(totals):
        cells = " | ".join(
            f"{results[analyser, 'tuned on'][2][kind]}/{totals[kind]}" for analyser in analysers
        )
        print(f"{kind} | {cells}")
    if args.misses:
        for analyser in analysers:
            for name in lists:
                wrong = results[analyser, name][3]
                print(f"\n{analyser}, {name}: {len(wrong)} wrong: " + " ".join(wrong))


if __name__ == "__main__":
    main()
