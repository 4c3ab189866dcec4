"""Tokenise text, keep each token's span in the original text, and analyse it.

Arabic-script tokens go through the Arabic normaliser and light stemmer; Latin-script tokens
through casefolding and the Snowball stemmer of the article's language (English when the
language is unknown or has no Snowball stemmer). Word frequencies follow Zipf's law, so the
analysis of each word is cached: headlines share most of their words, and a chunk of text
("القوات،", "(AFP)") is split into words only when it holds a symbol.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import Stemmer
from camel_tools.tokenizers.word import simple_word_tokenize
from camel_tools.utils.charsets import EMOJI_ALL_CHARSET, UNICODE_PUNCT_SYMBOL_CHARSET

from rasd.text import arabic
from rasd.text.normalize import normalize_arabic, normalize_latin

_SNOWBALL = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "tr": "turkish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
}


class Token(NamedTuple):
    """One word of the original text.

    ``text`` is ``original[start:end]``; ``key`` is its primary analysed form; ``forms`` holds
    every analysed reading (several for Arabic words with ambiguous clitics), ``key`` included.
    """

    text: str
    start: int
    end: int
    position: int
    key: str
    forms: frozenset[str]
    script: str


_ARABIC_CHAR = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufeff]")
# str.isalnum as a regex (\w is isalnum plus "_"): one search instead of a Python loop.
_ALNUM = re.compile(r"[^\W_]")


def base_lang(lang: str | None) -> str | None:
    """``ar-IQ`` -> ``ar``; empty -> None."""
    return lang.split("-")[0].split("_")[0].lower() if lang else None


def stemmer_lang(lang: str | None) -> str:
    """The language whose Snowball stemmer reads Latin-script words: ``en`` unless there is one.

    Arabic-script words are read the same in every language, so analyses are shared across
    languages that end up with the same stemmer (an English word in an Arabic article).
    """
    base = base_lang(lang)
    return base if base in _SNOWBALL else "en"


@lru_cache(maxsize=32)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_SNOWBALL.get(lang, "english"))


@lru_cache(maxsize=262_144)
def analyse_word(word: str, lang: str, as_term: bool = False) -> tuple[str, frozenset[str], str]:
    """(primary key, all readings, script) for one token; ("", ..) when it has no letters/digits.

    ``lang`` picks the Snowball stemmer (see `stemmer_lang`). ``as_term`` reads an Arabic word
    as written (a rule term is a lemma, not a cliticised form).
    """
    if not _ALNUM.search(word):
        return "", frozenset(), ""
    if _ARABIC_CHAR.search(word):
        norm = normalize_arabic(word)
        if not _ALNUM.search(norm):
            return "", frozenset(), ""
        if as_term:
            key = arabic.term_stem(norm)
            return key, frozenset((key,)), "arabic"
        return arabic.stem(norm), arabic.readings(norm), "arabic"
    norm = normalize_latin(word)
    key = _stemmer(lang).stemWord(norm) if not norm.isdigit() else norm
    return key, frozenset((key,)), "latin"


# Hashtags join words with underscores (#ميليشيات_الحوثي); each word is read on its own.
_CHUNK = re.compile(r"[^\s_]+")

# camel-tools splits a chunk only where a symbol starts (a punctuation mark, a symbol or an
# emoji sequence in its charsets). A one-character symbol is that character; a longer emoji
# sequence cannot be in a chunk that lacks its second character. A chunk with none of these
# characters is therefore one word, which most chunks are, and only the others pay for the
# tokeniser's character-by-character regex.
_SYMBOL_CHARS = frozenset(
    symbol if len(symbol) == 1 else symbol[1]
    for symbol in UNICODE_PUNCT_SYMBOL_CHARSET | EMOJI_ALL_CHARSET
)


def chunks(text: str) -> list[tuple[int, str]]:
    """The whitespace- and underscore-separated chunks of ``text`` with their offsets."""
    return [(m.start(), m.group()) for m in _CHUNK.finditer(text)]


def split_chunk(chunk: str) -> tuple[tuple[int, int, str], ...]:
    """camel-tools' ``simple_word_tokenize`` of one chunk, each word with its span in the chunk.

    >>> split_chunk("(القوات)،")
    ((0, 1, '('), (1, 7, 'القوات'), (7, 8, ')'), (8, 9, '،'))
    """
    if _SYMBOL_CHARS.isdisjoint(chunk):
        return ((0, len(chunk), chunk),)
    return _split_symbols(chunk)


@lru_cache(maxsize=65_536)
def _split_symbols(chunk: str) -> tuple[tuple[int, int, str], ...]:
    words = []
    cursor = 0
    for word in simple_word_tokenize(chunk):
        start = chunk.find(word, cursor)
        cursor = start + len(word)
        words.append((start, cursor, word))
    return tuple(words)


def analyse(text: str, lang: str | None = None, *, as_term: bool = False) -> list[Token]:
    """Analyse ``text``; ``lang`` (``ar``, ``en``...) picks the stemmer of Latin-script words.

    >>> [t.key for t in analyse("انسحبت القوات", "ar")] == [t.key for t in analyse("انسحاب قواته")]
    True
    """
    lang = stemmer_lang(lang)
    tokens: list[Token] = []
    for offset, chunk in chunks(text):
        for start, end, word in split_chunk(chunk):
            key, forms, script = analyse_word(word, lang, as_term)
            if key:
                tokens.append(
                    Token(word, offset + start, offset + end, len(tokens), key, forms, script)
                )
    return tokens
