"""Slack Block Kit for an alert group.

Every piece of feed text is cleaned, escaped for Slack and, when it holds Arabic, wrapped in
a directional isolate (see :mod:`rasd.notify.messages.text`).
"""

from __future__ import annotations

from collections.abc import Sequence

from rasd.models import Alert, Severity
from rasd.notify.messages.common import (
    MAX_ALERTS,
    MAX_ARTICLES,
    headline,
    iso_time,
    ordered,
    term_texts,
    top_severity,
)
from rasd.notify.messages.text import RLM, clean, is_rtl, isolate, rtl_line, safe_url, slack_escape

EMOJI = {
    Severity.info: ":information_source:",
    Severity.low: ":large_blue_circle:",
    Severity.medium: ":large_yellow_circle:",
    Severity.high: ":large_orange_circle:",
    Severity.critical: ":red_circle:",
}


def _text(text: str | None, limit: int = 300) -> str:
    return isolate(slack_escape(clean(text, limit)))


def _article_line(article) -> str:
    title = clean(article.title, 200)
    label = f"{_text(article.outlet, 80)}: {isolate(slack_escape(title))}"
    url = safe_url(article.url)
    link = f"<{url.replace('&', '&amp;')}|{label}>" if url else label
    return f"{RLM if is_rtl(title) else ''}• {link}"


def _alert_blocks(alert: Alert) -> list[dict]:
    head = (
        f"{EMOJI[alert.severity]} *{alert.severity.value.upper()}*\n"
        f"*{rtl_line(slack_escape(clean(alert.title)))}*"
    )
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    if alert.articles:
        lines = [_article_line(a) for a in alert.articles[:MAX_ARTICLES]]
        if len(alert.articles) > MAX_ARTICLES:
            lines.append(f"…and {len(alert.articles) - MAX_ARTICLES} more")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    epoch = int(alert.created_at.timestamp())
    fields = [
        f"*Rule*\n`{slack_escape(clean(alert.rule, 80))}`",
        f"*Time*\n<!date^{epoch}^{{date_short_pretty}} {{time}}|{iso_time(alert)}>",
    ]
    terms = term_texts(alert)
    if terms:
        fields.append("*Terms*\n" + ", ".join(isolate(slack_escape(t)) for t in terms))
    if alert.places:
        fields.append("*Places*\n" + ", ".join(_text(p, 60) for p in alert.places))
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]})
    return blocks


def slack_payload(alerts: Sequence[Alert]) -> dict:
    """The JSON body posted to a Slack incoming webhook."""
    alerts = ordered(alerts)
    severity = top_severity(alerts)
    title = (
        clean(alerts[0].title, 120)
        if len(alerts) == 1
        else f"{len(alerts)} alerts, worst {severity.value}"
    )
    blocks: list[dict] = [
        {
            "type": "header",
            # plain_text is not parsed for links or mentions; @channel is still defused
            # because Slack notifies on it in some clients.
            "text": {
                "type": "plain_text",
                "text": f"[{severity.value.upper()}] {isolate(slack_escape(title))}"[:150],
            },
        }
    ]
    for index, alert in enumerate(alerts[:MAX_ALERTS]):
        if index:
            blocks.append({"type": "divider"})
        blocks.extend(_alert_blocks(alert))
    if len(alerts) > MAX_ALERTS:
        more = f"…and {len(alerts) - MAX_ALERTS} more alerts in this group"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"text": slack_escape(headline(alerts)), "blocks": blocks}
