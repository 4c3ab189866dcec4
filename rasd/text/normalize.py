"""Character-level normalisation of one Arabic-script or Latin token.

Applied per token (never to the whole text), so that character spans always refer to the
original text even when normalisation changes a token's length (ligatures, diacritics).
"""

from __future__ import annotations

import re
import unicodedata

from camel_tools.utils.charsets import AR_DIAC_CHARSET

# Presentation forms (ligatures such as U+FEFB "ﻻ") only decompose under NFKC. NFKC is applied
# only to tokens that contain them: a few expand to whole phrases (U+FDFA), which we then keep
# as they were rather than turn one token into several words.
_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")

TATWEEL = "\u0640"

_CHAR_MAP = str.maketrans(
    {
        # Alef variants (hamza above/below, madda, wasla) -> bare alef.
        "\u0623": "\u0627",
        "\u0625": "\u0627",
        "\u0622": "\u0627",
        "\u0671": "\u0627",
        # Alef maksura and Persian/Kurdish yeh -> yeh; keheh -> kaf (Kurdish and Persian
        # spellings of Iraqi place names use them).
        "\u0649": "\u064a",
        "\u06cc": "\u064a",
        "\u06d2": "\u064a",
        "\u06a9": "\u0643",
        TATWEEL: None,
        # Zero-width joiners and marks that break equality without changing what is read.
        "\u200c": None,
        "\u200d": None,
        "\u200e": None,
        "\u200f": None,
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Extended (Persian) digits
        # camel-tools' diacritics (what its dediac_ar removes), in the same table: one pass of
        # str.translate instead of a regex substitution and a translation.
        **dict.fromkeys(AR_DIAC_CHARSET),
    }
)


def normalize_arabic(token: str) -> str:
    """Diacritics, tatweel, alef and yeh variants, digits; teh marbuta is kept on purpose.

    Teh marbuta stays because the stemmer treats it as a suffix: normalising ة to ه first
    would make قاعدة and القاعدة stem apart (see ARCHITECTURE.md).

    >>> normalize_arabic("الـــقُوَّات")
    'القوات'
    """
    if _PRESENTATION.search(token):
        expanded = unicodedata.normalize("NFKC", token)
        if not any(ch.isspace() for ch in expanded):
            token = expanded
    return token.translate(_CHAR_MAP)


def normalize_latin(token: str) -> str:
    """Compatibility forms (full-width letters, ligatures) and case."""
    if token.isascii():  # NFKC leaves ASCII as it is, and casefold is lower there
        return token.lower()
    return unicodedata.normalize("NFKC", token).casefold()
