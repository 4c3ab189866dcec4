"""Matched terms highlighted in the original text, safely.

The text is split at the hit spans and every piece is escaped on its own, so feed text can
never become markup: only the ``<mark>`` elements added here are HTML.

>>> str(highlight("صاروخ <b>", [(0, 5)]))
'<mark>صاروخ</mark> &lt;b&gt;'
"""

from __future__ import annotations

import re
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


# A sentence ends at a full stop (or ! ? ؟ …) followed by space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?\u061F\u2026])\s+|\s*\n\s*")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` to lay out as paragraphs of their own, each with its direction.

    Feeds flatten a caption and the article into one run ("Photo: ... . <Arabic text>"): as
    one paragraph its direction is the caption's and the Arabic's full stop lands on the wrong
    side. Consecutive sentences in one direction stay together; a line break always splits.

    >>> text = "Photo: AFP. قصف صاروخي. عنيف"
    >>> [text[s:e] for s, e in paragraphs(text)]
    ['Photo: AFP.', 'قصف صاروخي. عنيف']
    """
    sentences: list[tuple[int, int, bool]] = []
    position = 0
    for boundary in _SENTENCE_END.finditer(text):
        sentences.append((position, boundary.start(), "\n" in boundary.group()))
        position = boundary.end()
    sentences.append((position, len(text), False))

    spans: list[tuple[int, int]] = []
    current: list = []  # [start, end, direction] of the paragraph being built
    for start, end, hard_break in sentences:
        if start < end:
            direction = text_dir(text[start:end])
            if current and direction in (current[2], "auto"):
                current[1] = end
            else:
                if current:
                    spans.append((current[0], current[1]))
                current = [start, end, direction]
        if hard_break and current:
            spans.append((current[0], current[1]))
            current = []
    if current:
        spans.append((current[0], current[1]))
    return spans


def highlight_paragraphs(text: str, spans: Iterable[tuple[int, int]]) -> list[Markup]:
    """``highlight`` of each of the text's ``paragraphs``, the hits placed in theirs."""
    spans = list(spans)
    return [
        highlight(
            text[start:end], [(s - start, e - start) for s, e in spans if s < end and e > start]
        )
        for start, end in paragraphs(text)
    ]
