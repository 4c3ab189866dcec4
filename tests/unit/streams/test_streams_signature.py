"""The signature's fast path gives what the analyser says: keys read alone (`word_key`) and the
chunks' hashes kept in two generations, against `analyse` over the whole text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rasd.streams import similarity
from rasd.streams.similarity import (
    _DIGITS,
    _STOPWORDS,
    MAX_NUMBERS,
    _ChunkHashes,
    article_signature,
    numbers,
    signature,
)
from rasd.text import analyse, analyse_word
from rasd.text.analysis import chunk_key, split_chunk, split_text, stemmer_lang, word_key

FIXTURES = Path(__file__).parents[2] / "fixtures"

# Words that take each path of `read_word`: ASCII words, digits and marks; Arabic words in the
# precomputed table and not, with diacritics, tatweel, Arabic-Indic digits and clitics; words
# that normalise to nothing; Latin words outside ASCII; mixed scripts; emoji and symbols.
ODD = [
    "Forces", "U.S.", "1,300", "42", "--", "(AFP)", "Israel's", "Israel’s", "it's",
    "والقوات", "القُوّات", "قاعدة", "بالعراق", "ــ", "ـــقاعدة", "١٢", "۱۲۳", "و3", "بـ98",
    "ّ", "Ḥalab", "Café", "naïve", "Kirkukكركوك", "F16", "🇮🇶", "👍🏽", "#قاعدة_عسكرية",
    "،", "؟", "«القوات»", "™", "x²", "ﷲ", "Straße", "İstanbul", "",
]  # fmt: skip


def _texts() -> list[tuple[str, str, str]]:
    """(title, summary, lang) of the fixture articles, and the Arabic word lists as text."""
    texts = []
    for line in (FIXTURES / "streams" / "seed_story.jsonl").read_text("utf-8").split("\n"):
        if line.strip():
            row = json.loads(line)
            texts.append((row["title"], row.get("summary", ""), row["lang"]))
    for path in sorted((FIXTURES / "text").glob("*.tsv")):
        words = path.read_text("utf-8").replace("\t", " ")
        texts.append(("", words, "ar"))
    texts.append((" ".join(ODD), " ".join(reversed(ODD)), "en"))
    return texts


def _expected(title: str, summary: str, lang: str | None) -> str:
    tokens = analyse(f"{title}\n{summary}", lang)
    return signature(t.key for t in tokens if t.text.casefold() not in _STOPWORDS)


def _words(text: str) -> set[str]:
    return {
        word
        for chunk in text.split()
        for part in split_text(chunk)[::2]
        for _, _, word in split_chunk(part)
    } | set(ODD)


@pytest.mark.parametrize("lang", ["ar", "en", "fr", None, "ar-IQ"])
def test_a_words_key_is_its_analysis_first_reading(lang):
    lang = stemmer_lang(lang)
    words = set().union(*(_words(f"{t}\n{s}") for t, s, _ in _texts()))
    assert len(words) > 1500
    assert {w: word_key(w, lang) for w in words} == {w: analyse_word(w, lang)[0] for w in words}


@pytest.mark.parametrize("lang", [None, "ar", "en", "ar-IQ"])
def test_the_signature_is_the_analysers_whatever_the_language_said(lang):
    for title, summary, own in _texts():
        for said in (own, lang):
            assert article_signature(title, summary, said) == _expected(title, summary, said)


def test_the_signature_is_the_same_once_the_chunks_older_generation_is_dropped(monkeypatch):
    # Two chunks a generation: most chunks are dropped and read again, some found in the older.
    monkeypatch.setattr(similarity, "_CHUNKS", {"ar": _ChunkHashes("ar", size=2)})
    texts = [(t, s) for t, s, lang in _texts() if lang == "ar"]
    for title, summary in texts + texts:
        assert article_signature(title, summary, "ar") == _expected(title, summary, "ar")
    assert len(similarity._CHUNKS["ar"]._new) <= 2


@pytest.mark.parametrize("lang", ["ar", "en", "fr"])
def test_a_chunk_read_whole_is_one_word_and_its_key_is_that_words(lang):
    chunks = {c for t, s, _ in _texts() for c in f"{t}\n{s}".split()} | set(ODD)
    whole = {c: key for c in chunks if (key := chunk_key(c, lang)) is not None}
    assert len(whole) > len(chunks) / 2  # the fast path is the common one
    assert {c: split_chunk(c) for c in whole} == {c: ((0, len(c), c),) for c in whole}
    assert whole == {c: word_key(c, lang) for c in whole}


# The number pattern as it was first written, its look-behind first (the one the faster
# pattern must agree with).
_LOOK_BEHIND_FIRST = re.compile(r"(?<![0-9A-Za-z.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d,])")
NUMBER_CASES = [
    "12 killed", "F16 jets", "COP28", "A320", "x12", ".5", "0.5", ",12", "12,", "1,300",
    "1,3000", "12,345,678.9", "1,30", "3.", "3.14.15", "و3", "بـ98", "٫٥", "١٢٬٣٠٠", "40%",
    "1.3bn", "(12)", "12-13", "12_13", "2018 and 2023", "1999", "9", "١", "१२३ देवनागरी",
    "𝟏𝟐 math digits", "1234567890123", "12 12 12", " ".join(map(str, range(10, 40))),
]  # fmt: skip


def _numbers_as_written(text: str) -> list[str]:
    found: list[str] = []
    for match in _LOOK_BEHIND_FIRST.finditer(text.translate(_DIGITS)):
        value = match.group().replace(",", "")
        if len(value) < 2 or re.fullmatch(r"(?:19|20)\d\d", value) or value in found:
            continue
        found.append(value)
        if len(found) == MAX_NUMBERS:
            break
    return found


def test_the_numbers_are_those_of_the_pattern_that_looks_behind_first():
    texts = [f"{t}\n{s}" for t, s, _ in _texts()] + NUMBER_CASES
    texts += [f"{a}{b}" for a in NUMBER_CASES for b in ("", " ", "x", ".", ",")]
    assert sum(map(len, map(numbers, texts))) > 100
    assert [numbers(t) for t in texts] == [_numbers_as_written(t) for t in texts]
