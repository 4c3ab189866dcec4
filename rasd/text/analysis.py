"""Tokenise text, keep each token's span in the original text, and analyse it.

Arabic-script tokens go through the Arabic normaliser and light stemmer; Latin-script tokens
through casefolding and the Snowball stemmer of the article's language (English when the
language is unknown or has no Snowball stemmer). Word frequencies follow Zipf's law, so the
analysis of each whitespace-separated chunk (tokenisation included) is cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import Stemmer
from camel_tools.tokenizers.word import simple_word_tokenize

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


def _is_arabic_char(ch: str) -> bool:
    o = ord(ch)
    return 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFEFF


def detect_lang(text: str) -> str:
    """``ar`` when Arabic letters outnumber Latin ones, else ``en``."""
    arabic_count = latin = 0
    for ch in text:
        if ch.isalpha():
            if _is_arabic_char(ch):
                arabic_count += 1
            else:
                latin += 1
    return "ar" if arabic_count > latin else "en"


def base_lang(lang: str | None) -> str | None:
    """``ar-IQ`` -> ``ar``; empty -> None."""
    return lang.split("-")[0].split("_")[0].lower() if lang else None


@lru_cache(maxsize=32)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_SNOWBALL.get(lang, "english"))


@lru_cache(maxsize=262_144)
def analyse_word(word: str, lang: str, as_term: bool = False) -> tuple[str, frozenset[str], str]:
    """(primary key, all readings, script) for one token; ("", ..) when it has no letters/digits.

    ``as_term`` reads an Arabic word as written (a rule term is a lemma, not a cliticised form).
    """
    if not any(ch.isalnum() for ch in word):
        return "", frozenset(), ""
    if _ARABIC_CHAR.search(word):
        norm = normalize_arabic(word)
        if not any(ch.isalnum() for ch in norm):
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

_Piece = tuple[int, int, str, frozenset[str], str]


@lru_cache(maxsize=262_144)
def _analyse_chunk(chunk: str, lang: str, as_term: bool) -> tuple[_Piece, ...]:
    """camel-tools tokenisation of one whitespace-free chunk, each piece analysed."""
    pieces: list[_Piece] = []
    cursor = 0
    for piece in simple_word_tokenize(chunk):
        start = chunk.find(piece, cursor)
        cursor = start + len(piece)
        key, forms, script = analyse_word(piece, lang, as_term)
        if key:
            pieces.append((start, cursor, key, forms, script))
    return tuple(pieces)


def analyse(text: str, lang: str | None = None, *, as_term: bool = False) -> list[Token]:
    """Analyse ``text``; ``lang`` comes from the article (``ar``, ``en``...), else the script.

    >>> [t.key for t in analyse("انسحبت القوات", "ar")] == [t.key for t in analyse("انسحاب قواته")]
    True
    """
    lang = base_lang(lang) or detect_lang(text)
    tokens: list[Token] = []
    for chunk in _CHUNK.finditer(text):
        offset = chunk.start()
        for start, end, key, forms, script in _analyse_chunk(chunk.group(), lang, as_term):
            tokens.append(
                Token(
                    text[offset + start : offset + end],
                    offset + start,
                    offset + end,
                    len(tokens),
                    key,
                    forms,
                    script,
                )
            )
    return tokens
