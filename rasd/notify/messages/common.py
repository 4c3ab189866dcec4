"""What every medium says about a group of alerts: the worst severity and a title."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from rasd.models import Alert, Severity
from rasd.notify.messages.text import clean

# A message shows at most this many alerts and this many articles per alert; the rest are
# counted, so that one storm cannot produce a message Slack or a mail client refuses.
MAX_ALERTS = 10
MAX_ARTICLES = 5


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
