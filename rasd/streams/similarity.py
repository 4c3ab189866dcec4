"""How alike two reports are: MinHash signatures over their analysed words, and their numbers.

A signature is a fixed number of 32-bit integers (base64 text in records and table state), so
a story keeps a few per report whatever the articles' length, and comparing two is a vectorised
equality count: the fraction of equal positions estimates the Jaccard similarity of the two
word sets.

Numbers are the words two languages write alike: "12 killed" and "مقتل ١٢" share ``12`` once
Arabic-Indic digits are read as ASCII ones. Years and single digits are left out: "the 2018
World Cup" and "3 killed" say little about which event a report is about.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash

from rasd.text import analyse

# 128 permutations estimate a similarity of 0.25 within about +-0.04 (one standard deviation).
NUM_PERM = 128
_SEED = 1
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


def signature(forms: Iterable[str]) -> str:
    """MinHash signature of a set of analysed word forms; empty when no word counts."""
    chosen = words(forms)
    if not chosen:
        return ""
    minhash = MinHash(num_perm=NUM_PERM, seed=_SEED)
    minhash.update_batch([w.encode() for w in sorted(chosen)])
    return base64.b64encode(minhash.hashvalues.astype("<u4").tobytes()).decode()


@lru_cache(maxsize=4096)
def _values(sig: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(sig), dtype="<u4")


def similarity(a: str, b: str) -> float:
    """Estimated Jaccard similarity of the word sets behind two signatures (0 if one is empty)."""
    if not a or not b:
        return 0.0
    x, y = _values(a), _values(b)
    if len(x) != len(y):
        return 0.0
    return float(np.count_nonzero(x == y)) / len(x)


def article_signature(title: str, summary: str, lang: str | None) -> str:
    """Signature of a report's title and summary, as the analyser reads them."""
    tokens = analyse(f"{title}\n{summary}", lang)
    return signature(t.key for t in tokens if t.text.casefold() not in _STOPWORDS)


# Arabic-Indic and Extended (Persian, Urdu) digits, and the Arabic decimal and thousands marks.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
# Arabic proclitics attach to numbers (و3, بـ98) and units follow them (1.3bn, 40%): only a
# Latin letter or digit before, or a digit after, makes the digits part of another token (F16).
_NUMBER = re.compile(
    r"(?<![0-9A-Za-z.,])"  # not the tail of another token
    r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"  # 1,300 or 1300, with decimals
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
    for match in _NUMBER.finditer(text.translate(_DIGITS)):
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
