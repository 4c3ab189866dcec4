"""Matched terms highlighted in the original text, safely.

The text is split at the hit spans and every piece is escaped on its own, so feed text can
never become markup: only the ``<mark>`` elements added here are HTML.

>>> str(highlight("صاروخ <b>", [(0, 5)]))
'<mark>صاروخ</mark> &lt;b&gt;'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from markupsafe import Markup, escape

from rasd.models import TermHit

# Languages written right to left; anything else gets dir="auto" and the browser decides.
RTL_LANGS = frozenset({"ar", "fa", "ur", "he", "ps", "ckb", "yi"})


def text_dir(text: str, lang: str | None = None) -> str:
    """``rtl`` or ``ltr`` from the text's first strongly directional letter, as a browser's
    dir="auto" would; the language tag only decides text without letters. Feeds mislabel
    languages (an English item in an Arabic channel), so the letters come first.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "rtl" if (lang or "").split("-")[0].lower() in RTL_LANGS else "auto"


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clipped to the text, empty ones dropped, overlapping ones merged, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> Markup:
    pieces: list[str] = []
    position = 0
    for start, end in merge_spans(spans, len(text)):
        pieces.append(escape(text[position:start]))
        pieces.append(Markup("<mark>{}</mark>").format(text[start:end]))
        position = end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def hit_spans(text: str, field: str, hits: Iterable[TermHit]) -> list[tuple[int, int]]:
    """Where the hits are in ``text``.

    A hit's span is used when it still points at the hit's text (the article it came from);
    for the story's other articles the same matched words are found by position in their text.
    """
    spans: list[tuple[int, int]] = []
    for hit in hits:
        if hit.field != field or not hit.text:
            continue
        if text[hit.start : hit.end] == hit.text:
            spans.append((hit.start, hit.end))
            continue
        at = text.find(hit.text)
        while at != -1:
            spans.append((at, at + len(hit.text)))
            at = text.find(hit.text, at + len(hit.text))
    return spans
