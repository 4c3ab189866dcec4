"""How alike two reports are: bottom-k sketches of their analysed words, and their numbers.

A signature is the ``SKETCH_SIZE`` smallest 32-bit hashes of a report's distinct words (sorted,
base64 text in records and table state), so a story keeps a few per report whatever the
articles' length. Two sketches give the Jaccard similarity of the word sets: exactly when each
report has fewer distinct words than that, as most RSS titles with their summaries do, and
beyond it as an estimate from the hashes both sketches cover (bottom-k sketches with a common
threshold, Cohen and Kaplan). Exactness matters here: two outlets'
reports of one event and reports of two events lie close (medians 0.21 and 0.11 on the judged
pairs of bench/grouping.py, threshold 0.15), and the 128-permutation MinHash used before erred
by about +-0.03 there; this sketch is also half its size. (datasketch, the MinHash library,
has no bottom-k sketch; it is a few lines.)

Numbers are the words two languages write alike: "12 killed" and "مقتل ١٢" share ``12`` once
Arabic-Indic digits are read as ASCII ones. Years and single digits are left out: "the 2018
World Cup" and "3 killed" say little about which event a report is about.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat
from operator import is_

from rasd.text.analysis import (
    chunk_core,
    chunk_key,
    split_chunk,
    split_text,
    stemmer_lang,
    word_key,
)

# Exact for reports of fewer than 64 distinct words (title and summary), an estimate beyond.
SKETCH_SIZE = 64
# Words too common to say anything about which event a report is about. Analysed forms are
# compared, so only the forms the analyser leaves behind matter; short forms are dropped anyway.
_MIN_LENGTH = 3
_STOPWORD_TEXT = """
the and for with from that this was were has have had are not but its his her they their
said will would after over into about than been also who which when where while
على الى إلى عن في من مع ان أن التي الذي الذين هذا هذه ذلك تلك كان كانت قد لم لن ما بعد
قبل بين حيث كما وقد وفي ومن وان او أو عند خلال
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def words(forms: Iterable[str]) -> set[str]:
    """The analysed word forms that take part in similarity."""
    return {f for f in forms if len(f) >= _MIN_LENGTH and f not in _STOPWORDS}


@lru_cache(maxsize=65_536)
def _hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")


def signature(forms: Iterable[str]) -> str:
    """Bottom-k sketch of a set of analysed word forms; empty when no word counts."""
    return _sketch({_hash(w) for w in words(forms)})


def _sketch(hashes: set[int]) -> str:
    """The ``SKETCH_SIZE`` smallest of ``hashes``, as little-endian 32-bit words in base64."""
    if not hashes:
        return ""
    smallest = sorted(hashes)[:SKETCH_SIZE]
    return base64.b64encode(struct.pack(f"<{len(smallest)}I", *smallest)).decode()


@lru_cache(maxsize=8192)
def _values(sig: str) -> tuple[list[int], frozenset[int]]:
    raw = base64.b64decode(sig)
    hashes = list(struct.unpack(f"<{len(raw) // 4}I", raw))
    return hashes, frozenset(hashes)


_EMPTY: tuple[list[int], frozenset[int]] = ([], frozenset())


def sketch(sig: str) -> tuple[list[int], frozenset[int]]:
    """A signature's hashes, sorted and as a set (parsed once: a story's are compared often)."""
    return _values(sig) if sig else _EMPTY


def hashes(sig: str) -> frozenset[int]:
    """The word hashes a signature holds (empty for an empty signature)."""
    return sketch(sig)[1]


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the word sets behind two sketches (0 if one is empty).

    >>> similarity(signature("a1x b2x c3x".split()), signature("a1x b2x d4x".split()))
    0.5
    """
    return sketch_similarity(sketch(a), sketch(b))


def sketch_similarity(
    a: tuple[list[int], frozenset[int]], b: tuple[list[int], frozenset[int]]
) -> float:
    """:func:`similarity` of two parsed signatures (:func:`sketch`)."""
    (x, xs), (y, ys) = a, b
    if not x or not y:
        return 0.0
    # A longer signature is a MinHash from a state written before sketches: not comparable.
    if len(x) > SKETCH_SIZE or len(y) > SKETCH_SIZE:
        return 0.0
    shared = xs & ys
    if len(x) < SKETCH_SIZE and len(y) < SKETCH_SIZE:
        return len(shared) / (len(x) + len(y) - len(shared))  # exact: every word is there
    # A full sketch holds its report's words up to its largest hash only: compare the words
    # both sketches cover (the common-threshold bottom-k estimator).
    limit = min(s[-1] for s in (x, y) if len(s) == SKETCH_SIZE)
    common = sum(1 for h in shared if h <= limit)
    union = bisect_right(x, limit) + bisect_right(y, limit) - common
    return common / union


def article_signature(title: str, summary: str, lang: str | None) -> str:
    """Signature of a report's title and summary, as the analyser reads them.

    The analyser reads each whitespace-separated chunk on its own (the matcher relies on the
    same), so the words' hashes are kept per chunk: most chunks of a report were in earlier
    reports, and a signature then costs a split and a few lookups instead of an analysis.
    """
    lang = stemmer_lang(lang)
    chunks = _CHUNKS.get(lang) or _CHUNKS.setdefault(lang, _ChunkHashes(lang))
    return _sketch(chunks.union(f"{title}\n{summary}".split()))


class _ChunkHashes:
    """The hashes of the chunks met in one stemmer language, bounded: two generations of
    ``size`` chunks, the older dropped when the newer is full, and a chunk of the older moved
    to the newer when met again.

    (It was a ``functools.lru_cache`` on (chunk, language): a call per chunk, about 0.3 us of
    the 70 chunks of a report, where a dictionary's lookups here run in C for the whole text.)
    """

    def __init__(self, lang: str, size: int = 32_768) -> None:
        self._lang = lang
        self._size = size
        self._new: dict[str, tuple[int, ...]] = {}
        self._old: dict[str, tuple[int, ...]] = {}

    def union(self, chunks: list[str]) -> set[int]:
        """The hashes of all ``chunks``."""
        found = list(map(self._new.get, chunks))
        if None in found:
            for i in compress(range(len(found)), map(is_, found, repeat(None))):
                found[i] = self._miss(chunks[i])
        return set().union(*found)

    def _miss(self, chunk: str) -> tuple[int, ...]:
        value = self._new.get(chunk)  # met twice in one text
        if value is not None:
            return value
        value = self._old.get(chunk)
        if value is None:
            value = _chunk_hashes(chunk, self._lang)
        if len(self._new) >= self._size:
            self._old, self._new = self._new, {}
        self._new[chunk] = value
        return value


_CHUNKS: dict[str, _ChunkHashes] = {}


def _chunk_hashes(chunk: str, lang: str) -> tuple[int, ...]:
    """The hashes of the words of one chunk that take part in similarity: the words
    `analyse` makes of it (``lang`` a `stemmer_lang`), each by its key alone (`word_key`)."""
    # Most chunks are one word, or one word between marks (each mark alone reads as no word):
    # told without splitting, as the matcher tells them (`chunk_key`, `chunk_core`).
    word = chunk
    key = chunk_key(chunk, lang)
    if key is None and "_" not in chunk and (core := chunk_core(chunk)) is not None:
        word = core[1]
        key = word_key(word, lang)
    if key is not None:
        if len(key) < _MIN_LENGTH or key in _STOPWORDS or word.casefold() in _STOPWORDS:
            return ()
        return (_hash(key),)
    found = []
    for part in split_text(chunk)[::2]:  # a chunk may hold underscores (#قاعدة_عسكرية)
        for start, end, word in split_chunk(part):
            key = word_key(word, lang)
            if len(key) < _MIN_LENGTH or key in _STOPWORDS:
                continue
            written = part[start:end] if end - start != len(word) else word
            if written.casefold() not in _STOPWORDS:
                found.append(_hash(key))
    return tuple(found)


# Arabic-Indic and Extended (Persian, Urdu) digits, and the Arabic decimal and thousands marks.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
# Translating is a lookup per character: only done for a text that has one of them.
_OTHER_DIGITS = re.compile("[٠-٩۰-۹٫٬]")
# Arabic proclitics attach to numbers (و3, بـ98) and units follow them (1.3bn, 40%): only a
# Latin letter or digit before, or a digit after, makes the digits part of another token (F16).
# The pattern starts with its first digit, and looks behind it from there: a pattern that starts
# with the look-behind is tried at every character of the text (2.5x the time on RSS summaries).
_NUMBER = re.compile(
    r"\d(?<![0-9A-Za-z.,]\d)"  # the first digit, not the tail of another token
    r"(?:\d{0,2}(?:,\d{3})+|\d*)(?:\.\d+)?"  # 1,300 or 1300, with decimals
    r"(?![\d,])"
)
_YEAR = re.compile(r"(?:19|20)\d\d")
# Numbers kept per report: a report listing a table of figures is not more alike for it.
MAX_NUMBERS = 12


def numbers(text: str) -> list[str]:
    """The distinctive numbers of ``text`` in ASCII digits, thousands separators dropped.

    >>> numbers("مقتل ١٢ شخصا و3 جرحى في 2018، وخسائر بـ1,300 دولار و2.5 مليون")
    ['12', '1300', '2.5']
    """
    found: list[str] = []
    if _OTHER_DIGITS.search(text):
        text = text.translate(_DIGITS)
    for match in _NUMBER.finditer(text):
        value = match.group().replace(",", "")
        if len(value) < 2 or _YEAR.fullmatch(value) or value in found:
            continue
        found.append(value)
        if len(found) == MAX_NUMBERS:
            break
    return found


@dataclass(frozen=True)
class Fingerprint:
    """What grouping compares of one report: its words' signature and its numbers."""

    signature: str
    numbers: tuple[str, ...]

    @classmethod
    def of(cls, title: str, summary: str, lang: str | None) -> Fingerprint:
        return cls(article_signature(title, summary, lang), tuple(numbers(f"{title}\n{summary}")))
