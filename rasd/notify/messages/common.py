"""What every medium says about a group of alerts: the worst severity, the title, the first
report's summary line, the outlets and the places by name, in that order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from functools import cache

from rasd.models import Alert, Severity
from rasd.notify.messages.text import clean, has_rtl

# A message shows at most this many alerts and this many articles per alert; the rest are
# counted, so that one storm cannot produce a message Slack or a mail client refuses.
MAX_ALERTS = 10
MAX_ARTICLES = 5
SUMMARY_CHARS = 300
# Arabic-script languages a feed may declare; an alert in one of them reads places in Arabic.
_ARABIC_SCRIPT = {"ar", "fa", "ur", "ps", "ckb", "ku"}


def ordered(alerts: Sequence[Alert]) -> list[Alert]:
    """Worst first, then newest first (then by key, so a message never depends on the order
    Redis returned a group's alerts in)."""
    return sorted(alerts, key=lambda a: (-a.severity.rank, -a.created_at.timestamp(), a.key))


def top_severity(alerts: Sequence[Alert]) -> Severity:
    return max((a.severity for a in alerts), key=lambda s: s.rank)


def headline(alerts: Sequence[Alert]) -> str:
    """``[rasd][high] Rocket attack on the airport (+2 more)``, unescaped."""
    first = ordered(alerts)[0]
    more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    return f"[rasd][{top_severity(alerts).value}] {clean(first.title, 150)}{more}"


def iso_time(alert: Alert) -> str:
    return alert.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def term_texts(alert: Alert) -> list[str]:
    """Matched words as they appear in the articles, each once, in order."""
    return list(dict.fromkeys(clean(t.text, 60) for t in alert.terms if t.text))


def summary(alert: Alert) -> str:
    """The first report's summary, one line, cut (unescaped); "" when it has none, or when
    it only repeats the title (some feeds send the title as the description)."""
    if not alert.articles:
        return ""
    text = clean(alert.articles[0].summary, SUMMARY_CHARS)
    return "" if text == clean(alert.title, SUMMARY_CHARS) else text


def outlets(alert: Alert) -> list[str]:
    """The outlets that reported the story, each once, in report order."""
    return list(dict.fromkeys(clean(a.outlet, 80) for a in alert.articles if a.outlet))


def language(alert: Alert) -> str:
    """ "ar" or "en": the language of the alert's headline report (else of its title)."""
    lang = alert.articles[0].lang if alert.articles else None
    if lang:
        return "ar" if lang.split("-")[0].lower() in _ARABIC_SCRIPT else "en"
    return "ar" if has_rtl(alert.title) else "en"


@cache
def _place_names() -> dict[str, tuple[str, str]]:
    """Place id -> (English name, Arabic name) from the gazetteer the rules use."""
    from rasd.rules.gazetteer import default_gazetteer

    return {
        p.id: (p.en[0] if p.en else p.id, p.ar[0] if p.ar else (p.en[0] if p.en else p.id))
        for p in default_gazetteer().places
    }


def preload() -> None:
    """Load what messages need (the gazetteer's names) before the first one is written, so
    that the first flush does not hold the event loop while it loads."""
    _place_names()


def place_names(alert: Alert) -> list[str]:
    """The alert's places by name, in its language; an id the gazetteer lacks stays as it is."""
    names = _place_names()
    column = 1 if language(alert) == "ar" else 0
    return list(dict.fromkeys(names[p][column] if p in names else p for p in alert.places))
