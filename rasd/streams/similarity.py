"""How alike two reports are: MinHash signatures over their analysed words.

A signature is a fixed number of 32-bit integers (base64 text in records and table state), so
a story keeps a few per report whatever the articles' length, and comparing two is a vectorised
equality count: the fraction of equal positions estimates the Jaccard similarity of the two
word sets.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
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
