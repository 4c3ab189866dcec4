"""Tokenise text, keep each token's span in the original text, and analyse it.

Arabic-script tokens go through the Arabic normaliser and light stemmer; Latin-script tokens
through casefolding and the Snowball stemmer of the article's language (English when the
language is unknown or has no Snowball stemmer). Word frequencies follow Zipf's law, so the
analysis of each word is cached: headlines share most of their words, and a chunk of text
("القوات،", "(AFP)") is split into words only when it holds a symbol.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import Stemmer
from camel_tools.tokenizers.word import simple_word_tokenize
from camel_tools.utils.charsets import EMOJI_ALL_CHARSET, UNICODE_PUNCT_SYMBOL_CHARSET

from rasd.text import arabic, readings
from rasd.text.language import ARABIC_LETTER, LATIN_LETTER, script_language
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
    # No PyStemmer cache (its default keeps 10,000 words): rasd caches each word's analysis
    # itself, and PyStemmer's bookkeeping made a new word cost 4.4 µs instead of 1.0.
    return Stemmer.Stemmer(_SNOWBALL.get(lang, "english"), 0)


@lru_cache(maxsize=262_144)
def analyse_word(word: str, lang: str, as_term: bool = False) -> tuple[str, frozenset[str], str]:
    """(primary key, all readings, script) for one token; ("", ..) when it has no letters/digits.

    ``lang`` picks the Snowball stemmer (see `stemmer_lang`). ``as_term`` reads an Arabic word
    as written (a rule term is a lemma, not a cliticised form).
    """
    if as_term and _ALNUM.search(word) and _ARABIC_CHAR.search(word):
        norm = normalize_arabic(word)
        if not _ALNUM.search(norm):
            return "", frozenset(), ""
        key = arabic.term_stem(norm)
        return key, frozenset((key,)), "arabic"
    forms, script, _ = read_word(word, lang)
    return (forms[0], frozenset(forms), script) if forms else ("", frozenset(), "")


def word_key(word: str, lang: str) -> str:
    """``analyse_word(word, lang)[0]``: the primary key alone, "" for a word without one.

    A word's other readings are most of what an Arabic word outside the precomputed table
    costs to read, and a signature (`rasd.streams.similarity`) uses the key only; the stem
    behind it is cached (`arabic.stem`), warm for the words the matcher has just read.
    ``lang`` is a `stemmer_lang`. Not cached: callers keep what they build from it.

    >>> word_key("والقوات", "ar"), word_key("Forces", "en"), word_key("،", "ar")
    ('قوا', 'forc', '')
    """
    if word.isascii():
        forms = _read_ascii(word, lang)[0]
    elif _PRECOMPUTED and word.isalnum() and (table := _PRECOMPUTED(word)) is not None:
        forms = table
    elif not _ALNUM.search(word):
        return ""
    elif _ARABIC_CHAR.search(word):
        norm = normalize_arabic(word)
        if not _ALNUM.search(norm):
            return ""
        table = _PRECOMPUTED(norm) if _PRECOMPUTED and norm != word else None
        if table is None:
            return arabic.stem(norm)  # what _read_other puts first
        forms = table
    else:
        norm = normalize_latin(word)
        return _stemmer(lang).stemWord(norm) if not norm.isdigit() else norm
    return forms[0] if forms else ""


def chunk_key(chunk: str, lang: str) -> str | None:
    """`word_key` of a chunk that is one word of ASCII letters and digits, or a word of the
    precomputed table; None for any other chunk (split it, `split_chunk`, and ask each word).

    Told without a look at each character, as `read_chunk_word` tells them: two chunks in
    three of those a signature meets for the first time, which it would otherwise split.

    >>> chunk_key("Forces", "en"), chunk_key("القوات", "ar"), chunk_key("Biden,", "en")
    ('forc', 'قوا', None)
    """
    if not chunk.isalnum():
        return None
    if chunk.isascii():  # no symbol is an ASCII letter or digit
        norm = chunk.lower()  # normalize_latin of an ASCII word
        return norm if norm.isdigit() else _stemmer(lang).stemWord(norm)
    forms = _PRECOMPUTED(chunk) if _PRECOMPUTED else None
    if forms is None:
        return None
    return forms[0] if forms else ""


def read_word(word: str, lang: str) -> tuple[tuple[str, ...], str, str]:
    """What `analyse_word` says of an article word, as the matcher keeps it: the readings as a
    tuple, primary key first and the others sorted; the script; and the word as written, only
    normalised (what a term written ``=word`` meets, `written_form`). ((), "", "") when the word
    has no letters or digits.

    Not cached (the matcher caches what it builds from it, by chunk); an Arabic word's readings
    come from the precomputed table (`rasd.text.readings`) when it has the word.

    >>> read_word("والقوات", "ar")
    (('قوا', 'والقو'), 'arabic', 'والقوات')
    """
    if word.isascii():  # Latin script, or no word
        return _read_ascii(word, lang)
    # The table's words are normalised Arabic words of letters and digits only: one found as
    # written is its own normal and written form, and passes every check of _read_other.
    forms = _PRECOMPUTED(word) if _PRECOMPUTED and word.isalnum() else None
    if forms is not None:
        return forms, "arabic", word
    return _read_other(word, lang)


def read_chunk_word(chunk: str, lang: str) -> tuple[tuple[str, ...], str, str] | None:
    """`read_word` of a chunk that is one word (`split_chunk` would leave it whole), else None.

    Cheaper than asking split_chunk first: a chunk of ASCII letters and digits, or a word of
    the precomputed table (letters and digits only), is one word without a look at each
    character (on the path of every new chunk: the common cases first, inline).
    """
    if chunk.isalnum():
        if chunk.isascii():  # no symbol is an ASCII letter or digit
            norm = chunk.lower()  # normalize_latin of an ASCII word
            return (norm if norm.isdigit() else _stemmer(lang).stemWord(norm),), "latin", norm
        forms = _PRECOMPUTED(chunk) if _PRECOMPUTED else None
        if forms is not None:
            return forms, "arabic", chunk
        return _read_other(chunk, lang) if has_no_symbol(chunk) else None
    if chunk.isascii():
        return _read_ascii(chunk, lang) if has_no_symbol(chunk) else None
    # A symbol, or a mark the table's normal words do not have.
    return _read_other(chunk, lang) if _SYMBOL_CHARS.isdisjoint(chunk) else None


def _read_ascii(word: str, lang: str) -> tuple[tuple[str, ...], str, str]:
    if not word.isalnum() and not _ALNUM.search(word):
        return (), "", ""
    norm = word.lower()  # normalize_latin of an ASCII word
    return (_stemmer(lang).stemWord(norm) if not norm.isdigit() else norm,), "latin", norm


def _read_other(word: str, lang: str) -> tuple[tuple[str, ...], str, str]:
    """A word that is not ASCII and was not found in the table as written."""
    if not _ALNUM.search(word):
        return (), "", ""
    if _ARABIC_CHAR.search(word):
        norm = normalize_arabic(word)
        if not _ALNUM.search(norm):
            return (), "", ""
        forms = _PRECOMPUTED(norm) if _PRECOMPUTED and norm != word else None
        if forms is None:
            key = arabic.stem(norm)
            forms = (key, *sorted(arabic.readings(norm) - {key}))
        # script_language says "ar" for a word with Arabic letters and no Latin one.
        pure = not LATIN_LETTER.search(word) and ARABIC_LETTER.search(word)
        return forms, "arabic", norm if pure else written_form(word)
    norm = normalize_latin(word)
    key = _stemmer(lang).stemWord(norm) if not norm.isdigit() else norm
    return (key,), "latin", written_form(word)


def written_form(word: str) -> str:
    """A word as written, only normalised: what a term written ``=word`` must meet.

    >>> written_form("Forced"), written_form("القُوّات")
    ('forced', 'القوات')
    """
    if word.isascii():  # no Arabic letters: what script_language would say, without counting
        return normalize_latin(word)
    return normalize_arabic(word) if script_language(word) == "ar" else normalize_latin(word)


def _precomputed() -> Callable[[str], tuple[str, ...] | None] | None:
    table = readings.table()
    return table.get if table is not None else None


# The table's lookup, loaded with this module (a few milliseconds); None when it is unusable.
_PRECOMPUTED = _precomputed()


# Chunks are separated by whitespace and underscores: hashtags join words with underscores
# (#ميليشيات_الحوثي), and each word is read on its own.
_SEPARATORS = re.compile(r"([\s_]+)")

# camel-tools splits a chunk only where a symbol starts (a punctuation mark, a symbol or an
# emoji sequence in its charsets). A one-character symbol is that character; a longer emoji
# sequence cannot be in a chunk that lacks its second character. A chunk with none of these
# characters is therefore one word, which most chunks are.
_SYMBOLS = UNICODE_PUNCT_SYMBOL_CHARSET | EMOJI_ALL_CHARSET
# What can continue an emoji sequence: the second characters of camel-tools' sequences (joiner,
# variation selector, keycap, skin tones, regional indicators) and every tag character.
_SEQUENCE_CHARS = frozenset(s[1] for s in _SYMBOLS if len(s) > 1) | frozenset(
    map(chr, range(0xE0020, 0xE0080))
)
_SYMBOL_CHARS = frozenset(s for s in _SYMBOLS if len(s) == 1) | _SEQUENCE_CHARS
_ALNUM_SYMBOLS = tuple(sorted(s for s in _SYMBOL_CHARS if s.isalnum()))


def split_text(text: str) -> list[str]:
    """``text`` as chunks and the separators between them, alternating, chunks at even indexes.

    Joined, the parts are ``text`` again, so a part's offset is the sum of the lengths before
    it; only the first and the last chunk can be empty.

    >>> split_text(" قصف #قاعدة_عسكرية")
    ['', ' ', 'قصف', ' ', '#قاعدة', '_', 'عسكرية']
    """
    return _SEPARATORS.split(text)


def split_chunk(chunk: str) -> tuple[tuple[int, int, str], ...]:
    """camel-tools' ``simple_word_tokenize`` of one chunk, each word with its span in the chunk
    and the text that is analysed: ``chunk[start:end]``, except for a possessive.

    The possessive clitic ('s, ’s) is part of its word, which reads as the word without it:
    camel-tools makes it two tokens (an apostrophe, dropped, and "s"), which would put a word
    between a name and the next one ("Israel's strike") and break phrases and near windows.

    >>> split_chunk("(القوات)،")
    ((0, 1, '('), (1, 7, 'القوات'), (7, 8, ')'), (8, 9, '،'))
    >>> split_chunk("Israel’s,")
    ((0, 8, 'Israel'), (8, 9, ','))
    """
    if has_no_symbol(chunk):
        return ((0, len(chunk), chunk),)
    return _split_symbols(chunk)


def has_no_symbol(chunk: str) -> bool:
    """Whether ``chunk`` holds none of the characters camel-tools splits at (one word).

    A chunk of letters and digits only is told in C: the only letter among the symbols is
    U+2139 (ℹ, an emoji); else each character is looked up.
    """
    if chunk.isalnum():
        # A loop, not all(...): a generator cost 0.3 µs here, on the path of every new chunk.
        for symbol in _ALNUM_SYMBOLS:  # noqa: SIM110
            if symbol in chunk:
                return False
        return True
    return _SYMBOL_CHARS.isdisjoint(chunk)


def chunk_core(chunk: str) -> tuple[int, str] | None:
    """(start, word) when ``chunk`` is one word between punctuation marks, else None.

    `split_chunk` then gives each mark alone (each reads as no word) and the word whole, so
    the chunk reads as its word: found by ``str.strip`` in C (four chunks in five of those
    with a symbol), without the split.

    >>> chunk_core('"القوات"،'), chunk_core("Riyadh:"), chunk_core("U.S.")
    ((1, 'القوات'), (0, 'Riyadh'), None)
    """
    core = chunk.strip(_MARKS)
    # An "s" after a point and an apostrophe (.'s) is a possessive, joined to the point.
    if not core or core == "s" or core == "S" or not has_no_symbol(core):
        return None
    return len(chunk) - len(chunk.lstrip(_MARKS)), core


def split_symbol_chunk(chunk: str) -> tuple[tuple[int, int, str], ...]:
    """`split_chunk` of a chunk known to hold a symbol (`read_chunk_word` said None)."""
    return _split_symbols(chunk)


_APOSTROPHES = frozenset("'’")


def _join_possessives(
    words: tuple[tuple[int, int, str], ...],
) -> tuple[tuple[int, int, str], ...]:
    """A word, an apostrophe right after it and "s" (the chunk's end or a symbol after it: the
    split's words end only there) become the word, its span over the three."""
    joined: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        start, end, word = words[i]
        if (
            i + 2 < len(words)
            and (word[-1].isalnum() or word == ".")  # U.S.'s
            and words[i + 1][0] == end
            and words[i + 1][2] in _APOSTROPHES
            and words[i + 2][2] in ("s", "S")
        ):
            joined.append((start, words[i + 2][1], word))
            i += 3
            continue
        joined.append(words[i])
        i += 1
    return tuple(joined)


@lru_cache(maxsize=65_536)
def _split_symbols(chunk: str) -> tuple[tuple[int, int, str], ...]:
    words = _split_at_symbols(chunk)
    if len(words) > 2 and not _APOSTROPHES.isdisjoint(chunk):
        return _join_possessives(words)
    return words


def _split_at_symbols(chunk: str) -> tuple[tuple[int, int, str], ...]:
    # Most such chunks are a word and one mark after it (القوات، Biden,) or before it ("وضعك):
    # told by two checks in C rather than a look at every character.
    n = len(chunk)
    last, first = chunk[-1], chunk[0]
    if last in _SYMBOL_CHARS:
        if (word := chunk[:-1]) and has_no_symbol(word) and _splits_alone(last):
            return ((0, n - 1, word), (n - 1, n, last))
    elif (
        first in _SYMBOL_CHARS
        and (word := chunk[1:])
        and has_no_symbol(word)
        and _splits_alone(first)
    ):
        return ((0, 1, first), (1, n, word))
    present = _SYMBOL_CHARS.intersection(chunk)
    if len(present) == 1 and _splits_alone(symbol := next(iter(present))):
        # One punctuation mark, once or more (القوات، ,"5.000"): split at it, in C.
        words = []
        at = 0
        for k, part in enumerate(chunk.split(symbol)):
            if k:
                words.append((at, at + 1, symbol))
                at += 1
            if part:
                words.append((at, at + len(part), part))
                at += len(part)
        return tuple(words)
    symbols = [i for i, char in enumerate(chunk) if char in present]
    if all(map(_splits_alone, present)):
        # Punctuation only (القوات، "(AFP)"): every such character is a word of its own.
        words = []
        start = 0
        for i in symbols:
            if i > start:
                words.append((start, i, chunk[start:i]))
            words.append((i, i + 1, chunk[i]))
            start = i + 1
        if start < len(chunk):
            words.append((start, len(chunk), chunk[start:]))
        return tuple(words)
    words = []
    cursor = 0
    for word in simple_word_tokenize(chunk):
        start = chunk.find(word, cursor)
        cursor = start + len(word)
        words.append((start, cursor, word))
    return tuple(words)


@lru_cache(maxsize=4096)
def _splits_alone(char: str) -> bool:
    """Whether camel-tools makes ``char`` a word of its own wherever it stands in a chunk
    without emoji-sequence characters (its symbol pattern then matches one character only,
    whatever follows), asked of camel-tools itself."""
    return char not in _SEQUENCE_CHARS and simple_word_tokenize(f"a{char}b") == ["a", char, "b"]


# The punctuation news puts around words, each a word of its own for camel-tools (asked once,
# at import) and of no letter or digit, so of no reading: what `chunk_core` strips.
_MARKS = "".join(
    char
    for char in "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~،؛؟«»٪…–—“”‘’•·"
    if char in _SYMBOL_CHARS and _splits_alone(char) and not _ALNUM.search(char)
)


def analyse(text: str, lang: str | None = None, *, as_term: bool = False) -> list[Token]:
    """Analyse ``text``; ``lang`` (``ar``, ``en``...) picks the stemmer of Latin-script words.

    >>> [t.key for t in analyse("انسحبت القوات", "ar")] == [t.key for t in analyse("انسحاب قواته")]
    True
    """
    lang = stemmer_lang(lang)
    tokens: list[Token] = []
    offset = 0
    for index, part in enumerate(split_text(text)):
        if not index % 2:
            for start, end, word in split_chunk(part):
                key, forms, script = analyse_word(word, lang, as_term)
                if key:
                    written = part[start:end] if end - start != len(word) else word
                    at = offset + start
                    tokens.append(Token(written, at, offset + end, len(tokens), key, forms, script))
        offset += len(part)
    return tokens
