"""Which language an item is in, decided per field from its script, title first.

A feed's declared language is often wrong (an English headline in a feed declared Arabic), and
one field is often in another script than the item: Al Jazeera's Arabic summaries can start
with an English photo caption. The title is what a reader reads first and what the outlet
wrote for this item, so it decides; the summary only when the title has no letters.

This is rasd's one language detector. Ties go to Arabic: Arabic is first-class, and an item
whose title is half Arabic is one an Arabic desk reads. The analyser itself never guesses a
language (it reads each word by its own script; the language only picks the Snowball stemmer of
Latin-script words), so nothing else needs to detect one.
"""

from __future__ import annotations

import re

# The letters each script is counted by (the analyser's written forms use them too).
ARABIC_LETTER = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
LATIN_LETTER = re.compile(r"[A-Za-z\u00C0-\u024F]")

# Languages written in Arabic script; any other declared language is taken as Latin script.
ARABIC_SCRIPT = frozenset({"ar", "fa", "ur", "ps", "ckb", "ku"})


def script_language(text: str) -> str | None:
    """``ar`` or ``en`` by which script most letters are in (``ar`` on a tie); None for none.

    >>> script_language("USA قوة"), script_language("2026 - 11")
    ('ar', None)
    """
    arabic = len(ARABIC_LETTER.findall(text))
    latin = len(LATIN_LETTER.findall(text))
    if not arabic and not latin:
        return None
    return "ar" if arabic >= latin else "en"


def item_language(title: str, summary: str = "", declared: str | None = None) -> str | None:
    """The language of an item: the declared one unless the title's script contradicts it.

    >>> item_language("انسحاب القوات من قاعدة كركوك", "Photo: AFP. القوات ...", "en")
    'ar'
    >>> item_language("Rockets hit a base", "", "fr")
    'fr'
    """
    script = script_language(title) or script_language(summary)
    if script and (not declared or (declared in ARABIC_SCRIPT) != (script == "ar")):
        return script
    return declared or script
