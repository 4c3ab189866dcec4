"""Build the precomputed Arabic readings (rasd/text/readings.bin) from wordfreq's word list.

    python -m rasd.text.readings_build           # rewrites rasd/text/readings.bin
    python -m rasd.text.readings_build --check   # exit 1 when the committed file is stale
    python -m rasd.text.readings_build --show والقوات بصواريخ   # what the table says

Built ahead of time and committed, like the gazetteer: running rasd needs neither wordfreq nor
the time to analyse 177,000 words. The words are wordfreq's ``WORDS`` most frequent Arabic ones
(a source independent of the evaluation data), normalised as the analyser normalises them;
each gets exactly what `rasd.text.arabic` computes for it now. A test fails when the committed
file is not what this build makes, so a change to the analyser asks for a rebuild (and until
then `rasd.text.readings` refuses the table by its fingerprint).

Why 200,000: on the 2,000 items of ``bench/match.py`` the top 100,000 wordfreq words reach 87%
of the unique Arabic words, 200,000 94%, 400,000 97%; 200,000 is 4.2 MB (400,000: 8.5 MB) and
a first pass gained little more (ARCHITECTURE.md, Cold analysis).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from rasd.text import arabic
from rasd.text.analysis import _ALNUM, _ARABIC_CHAR, has_no_symbol
from rasd.text.language import ARABIC_LETTER, LATIN_LETTER
from rasd.text.normalize import normalize_arabic
from rasd.text.readings import TABLE, encode, fingerprint, load

WORDS = 200_000
SOURCE = "wordfreq {version}, the {words:,} most frequent Arabic words (data: CC BY-SA 4.0)"


def _wordfreq():
    try:
        import wordfreq
    except ImportError:  # pragma: no cover - a dependency of the build; the guard explains
        sys.exit("the readings build needs wordfreq: pip install -e '.[gazetteer]'")
    return wordfreq


def entries(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each distinct normalised Arabic word of ``words`` and its readings, key first."""
    table: dict[str, tuple[str, ...]] = {}
    for word in words:
        norm = normalize_arabic(word)
        if norm in table or not _is_table_word(norm):
            continue
        key = arabic.stem(norm)
        forms = (key, *sorted(arabic.readings(norm) - {key}))
        if any(" " in form for form in forms):  # the separator; never in a word
            raise ValueError(f"a reading of {norm!r} holds a space: {forms}")
        table[norm] = forms
    return table


def _is_table_word(norm: str) -> bool:
    """Whether ``norm`` can be a key: read_word takes a word found as written for its own
    normal and written form, so a key is Arabic, normalised, and has no Latin letter; and
    read_chunk_word looks up only chunks of letters and digits, taking one found for one word
    (so a key has no symbol: U+2139 is a letter)."""
    return bool(
        norm.isalnum()
        and has_no_symbol(norm)
        and _ARABIC_CHAR.search(norm)
        and _ALNUM.search(norm)
        and ARABIC_LETTER.search(norm)
        and not LATIN_LETTER.search(norm)
        and normalize_arabic(norm) == norm
    )


def build(words: int = WORDS) -> bytes:
    """The table's file, from wordfreq's ``words`` most frequent Arabic words."""
    wordfreq = _wordfreq()
    table = entries(wordfreq.top_n_list("ar", words))
    meta = {
        "fingerprint": fingerprint(),
        "source": SOURCE.format(version=_version("wordfreq"), words=words),
        "licence": "CC BY-SA 4.0 (readings.LICENSE)",
    }
    return encode(meta, table)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def write(data: bytes, path: Path = TABLE) -> None:
    # A new file renamed over the old one: a running process keeps what it loaded.
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".readings-", delete=False) as tmp:
        tmp.write(data)
    os.chmod(tmp.name, 0o644)  # a data file of the package, like the others
    os.replace(tmp.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--words", type=int, default=WORDS, help="wordfreq words taken")
    parser.add_argument("--show", nargs="+", metavar="WORD", help="print the table's entries")
    args = parser.parse_args(argv)
    if args.show:
        table = load(TABLE)
        if table is None:
            print(f"{TABLE.name} is not usable (see the warning)")
            return 1
        for word in args.show:
            norm = normalize_arabic(word)
            print(f"{word}\t{norm}\t{' '.join(table.get(norm) or ('(not in the table)',))}")
        return 0
    data = build(args.words)
    if args.check:
        stale = not TABLE.is_file() or TABLE.read_bytes() != data
        fix = "stale: run python -m rasd.text.readings_build" if stale else "up to date"
        print(f"{TABLE.name} is {fix}")
        return int(stale)
    write(data)
    table = load(TABLE)
    print(f"wrote {TABLE} ({len(data):,} bytes, {len(table) if table else 0:,} words)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
