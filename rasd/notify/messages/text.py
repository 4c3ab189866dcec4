"""Making feed text safe and readable in any medium, Arabic included.

Feed text is hostile: it may carry control characters, bidi overrides (to spoof what a reader
sees), Slack mention syntax or markup. Every renderer first passes it through :func:`clean`,
then escapes for its medium, then marks right-to-left runs with Unicode isolates so that an
Arabic title does not scramble the punctuation and Latin text around it.

>>> isolate("قصف صاروخي")
'\\u2067قصف صاروخي\\u2069'
"""

from __future__ import annotations

import re
import unicodedata

RLM = "\u200f"
RLI = "\u2067"  # right-to-left isolate
FSI = "\u2068"  # first-strong isolate
PDI = "\u2069"  # pop directional isolate
WORD_JOINER = "\u2060"

# Embeddings, overrides and isolates coming from a feed are dropped; we place our own.
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C], None
)
_SPACES = re.compile(r"\s+")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def clean(text: str | None, limit: int = 300) -> str:
    """One line of feed text: NFC, no control or bidi characters, whitespace collapsed,
    at most ``limit`` characters."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).translate(_BIDI_CONTROLS)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_strong(text: str) -> str | None:
    """'L' or 'R' for the first character with a strong direction, None if there is none."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "L"
        if kind in ("R", "AL"):
            return "R"
    return None


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def is_rtl(text: str) -> bool:
    return first_strong(text) == "R"


def isolate(text: str) -> str:
    """Wrap text holding right-to-left characters in a directional isolate, so it is laid out
    on its own and does not reorder its neighbours. Latin-only text is returned unchanged."""
    if not has_rtl(text):
        return text
    return f"{RLI if is_rtl(text) else FSI}{text}{PDI}"


def rtl_line(text: str) -> str:
    """A line that should read right to left when its text does: an RLM first fixes the
    paragraph direction (characters inside an isolate do not count for it)."""
    return f"{RLM}{isolate(text)}" if is_rtl(text) else isolate(text)


def slack_escape(text: str) -> str:
    """Escape Slack's control characters and defuse @channel / @here / @everyone.

    ``<!channel>`` and ``<@U123>`` need no special case: once ``<`` is escaped they are text.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with the characters that would break out of a link percent-encoded;
    None for anything else (javascript:, data:, relative...)."""
    if not url:
        return None
    url = url.strip()
    if not re.match(r"^https?://[^\s]+$", url, re.IGNORECASE):
        return None
    return url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace('"', "%22")


def header_safe(text: str, limit: int = 200) -> str:
    """A mail header value that cannot inject headers: no CR/LF or other controls."""
    text = unicodedata.normalize("NFC", text).translate(_BIDI_CONTROLS)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
