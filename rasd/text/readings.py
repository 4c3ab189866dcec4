"""Precomputed readings of frequent Arabic words, so a process meeting unseen text computes few.

The light stemmer's readings of a word (`rasd.text.arabic.readings`) cost 10-30 µs each, and a
worker that starts meets thousands of new words in its first articles. ``readings.bin`` holds
the stem and readings of wordfreq's most frequent Arabic words (built and committed by
``python -m rasd.text.readings_build``), keyed by the normalised word; a lookup is 1-2 µs. A
word it lacks is computed as before, so the table changes speed only, never a result.

The file: a JSON line that says how it was built, then a marisa-trie ``Trie`` of the words
(MARISA: a static, compact trie in C; 177,000 words in 0.46 MB, loaded in a millisecond),
then each word's readings by the word's id in the trie: offsets (uint32, little-endian) into
one UTF-8 string that holds them, space-separated, primary key (`arabic.stem`) first; an empty
value is the word itself. A Python dict of the same took 40 MB and 200 ms to load.

The JSON line holds the analysis fingerprint (`fingerprint`) of the code the readings were
computed with. At load a table whose fingerprint is not this code's, or that cannot be read, is
not used (a warning is logged) and every word is computed: a change to the analyser that forgot
the rebuild is slower, never wrong (and tests/unit/text fails until it is rebuilt).

The word list is wordfreq's (CC BY-SA 4.0); the table is distributed under the same licence
(readings.LICENSE beside it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import unicodedata
from array import array
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from camel_tools.utils.charsets import AR_DIAC_CHARSET

from rasd.text import arabic, normalize

TABLE = Path(__file__).with_name("readings.bin")
FORMAT = 1

log = logging.getLogger(__name__)


def fingerprint() -> str:
    """A hash of everything an Arabic word's readings depend on: the stemmer's and the
    normaliser's source, camel-tools' diacritics and the Unicode version (NFKC)."""
    digest = hashlib.sha256(f"rasd-readings {FORMAT}\n".encode())
    for module in (arabic, normalize):
        source = Path(module.__file__).read_bytes().replace(b"\r\n", b"\n")
        digest.update(hashlib.sha256(source).digest())
    digest.update("".join(sorted(AR_DIAC_CHARSET)).encode())
    digest.update(unicodedata.unidata_version.encode())
    return digest.hexdigest()


class ReadingsTable:
    """A loaded table: `get` gives a normalised word's readings, primary key first, or None."""

    def __init__(self, meta: dict, trie, offsets: array, values: str) -> None:
        self.meta = meta
        self._size = len(offsets) - 1
        key_id = trie.get

        def get(word: str) -> tuple[str, ...] | None:
            i = key_id(word)
            if i is None:
                return None
            value = values[offsets[i] : offsets[i + 1]]
            return tuple(value.split(" ")) if value else (word,)

        # A closure, not a method: the lookup is on the path of every new word.
        self.get = get

    def __len__(self) -> int:
        return self._size


def encode(meta: dict, entries: dict[str, tuple[str, ...]]) -> bytes:
    """The file of a table: ``entries`` maps each normalised word to its readings, key first."""
    import marisa_trie

    trie = marisa_trie.Trie(entries)
    by_id = sorted(entries, key=trie.__getitem__)
    # A word that is its only reading (a fifth of them) is an empty value.
    values = [" ".join(forms) if forms != (w,) else "" for w in by_id if (forms := entries[w])]
    offsets = array("I", accumulate(map(len, values), initial=0))
    if sys.byteorder == "big":  # pragma: no cover - the file is little-endian everywhere
        offsets.byteswap()
    trie_bytes = trie.tobytes()
    header = {**meta, "format": FORMAT, "words": len(entries), "trie": len(trie_bytes)}
    return b"".join(
        (
            json.dumps(header, sort_keys=True).encode() + b"\n",
            trie_bytes,
            offsets.tobytes(),
            "".join(values).encode(),
        )
    )


def load(path: Path = TABLE, expected: str | None = None) -> ReadingsTable | None:
    """The table at ``path`` if it was built by this analysis code, else None (logged)."""
    try:
        import marisa_trie
    except ImportError:  # pragma: no cover - a dependency; without it words are computed
        log.warning("marisa-trie is not installed: Arabic readings are computed, not looked up")
        return None
    try:
        raw = path.read_bytes()
        start = raw.index(b"\n") + 1
        meta = json.loads(raw[:start])
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, not {FORMAT}")
        if meta.get("fingerprint") != (expected or fingerprint()):
            log.warning(
                "readings table %s was built by other analysis code (run python -m "
                "rasd.text.readings_build): Arabic readings are computed, not looked up",
                path,
            )
            return None
        # Views of the file, not copies of its parts: the load then holds the file once.
        view = memoryview(raw)
        values_at = start + meta["trie"] + 4 * (meta["words"] + 1)
        trie = marisa_trie.Trie().frombytes(bytes(view[start : start + meta["trie"]]))
        offsets = array("I")
        offsets.frombytes(view[start + meta["trie"] : values_at])
        if sys.byteorder == "big":  # pragma: no cover
            offsets.byteswap()
        values = str(view[values_at:], "utf-8")
        if len(trie) != meta["words"] or len(offsets) != meta["words"] + 1:
            raise ValueError("truncated")
        if offsets[-1] != len(values):
            raise ValueError("truncated")
    except (OSError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        log.warning("readings table %s not used (%s): Arabic readings are computed", path, exc)
        return None
    return ReadingsTable(meta, trie, offsets, values)


@lru_cache(maxsize=1)
def table() -> ReadingsTable | None:
    """The shipped table, loaded at the first use (a few milliseconds), or None."""
    return load()
