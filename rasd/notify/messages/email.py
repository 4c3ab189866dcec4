"""An alert group as an email: subject, plain text and HTML (right-to-left when Arabic).

Each alert reads as in Slack: the title once, the first report's summary line, the outlets,
the places by name in the alert's language, the reports; then the rule, time, terms and ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from html import escape

from rasd.models import Alert
from rasd.notify.messages.common import (
    MAX_ALERTS,
    MAX_ARTICLES,
    headline,
    iso_time,
    ordered,
    outlets,
    place_names,
    summary,
    term_texts,
)
from rasd.notify.messages.text import clean, header_safe, is_rtl, safe_url


def subject(alerts: Sequence[Alert]) -> str:
    """``[rasd][severity] title``, on one line whatever the feed put in the title."""
    return header_safe(headline(alerts))


def _other_title(article, alert: Alert) -> str:
    """The report's title unless it is the alert's own (shown once, as the title)."""
    return "" if clean(article.title) == clean(alert.title) else clean(article.title, 200)


def _ids(alert: Alert) -> str:
    ids = f"rule={clean(alert.rule, 80)}  key={clean(alert.key, 200)}"
    return ids + (f"  places={','.join(alert.places)}" if alert.places else "")


def text_body(alerts: Sequence[Alert]) -> str:
    alerts = ordered(alerts)
    parts = []
    for alert in alerts[:MAX_ALERTS]:
        lines = [f"[{alert.severity.value.upper()}] {clean(alert.title)}"]
        if summary(alert):
            lines.append(summary(alert))
        if alert.articles:
            lines.append("Outlets: " + " · ".join(outlets(alert)))
        if alert.places:
            lines.append("Places: " + ", ".join(place_names(alert)))
        for article in alert.articles[:MAX_ARTICLES]:
            title = _other_title(article, alert)
            lines.append(f"- {clean(article.outlet, 80)}" + (f": {title}" if title else ""))
            url = safe_url(article.url)
            if url:
                lines.append(f"  {url}")
        if len(alert.articles) > MAX_ARTICLES:
            lines.append(f"- …and {len(alert.articles) - MAX_ARTICLES} more")
        lines.append(f"Rule: {clean(alert.rule, 80)}   Time: {iso_time(alert)}")
        terms = term_texts(alert)
        if terms:
            lines.append("Terms: " + ", ".join(terms))
        lines.append(f"Ids: {_ids(alert)}")
        parts.append("\n".join(lines))
    if len(alerts) > MAX_ALERTS:
        parts.append(f"…and {len(alerts) - MAX_ALERTS} more alerts in this group")
    return "\n\n".join(parts) + "\n"


def _dir(text: str) -> str:
    return "rtl" if is_rtl(text) else "ltr"


def _bdi(texts) -> str:
    return ", ".join(f"<bdi>{escape(t)}</bdi>" for t in texts)


def _html_alert(alert: Alert) -> str:
    title = clean(alert.title)
    items = []
    for article in alert.articles[:MAX_ARTICLES]:
        a_title = _other_title(article, alert)
        url = safe_url(article.url)
        outlet = escape(clean(article.outlet, 80))
        label = f'<a href="{escape(url)}">{outlet}</a>' if url else outlet
        text = f": <bdi>{escape(a_title)}</bdi>" if a_title else ""
        items.append(f'<li dir="{_dir(a_title or title)}">{label}{text}</li>')
    if len(alert.articles) > MAX_ARTICLES:
        items.append(f"<li>…and {len(alert.articles) - MAX_ARTICLES} more</li>")
    lead = []
    if summary(alert):
        lead.append(f'<p dir="{_dir(summary(alert))}"><bdi>{escape(summary(alert))}</bdi></p>')
    if alert.articles:
        lead.append(f"<p>Outlets: {_bdi(outlets(alert))}</p>")
    if alert.places:
        lead.append(f"<p>Places: {_bdi(place_names(alert))}</p>")
    facts = [f"Rule: <code>{escape(clean(alert.rule, 80))}</code>", f"Time: {iso_time(alert)}"]
    terms = term_texts(alert)
    if terms:
        facts.append("Terms: " + ", ".join(f"<mark><bdi>{escape(t)}</bdi></mark>" for t in terms))
    return (
        f'<div dir="{_dir(title)}">'
        f"<h2><span>[{alert.severity.value.upper()}]</span> <bdi>{escape(title)}</bdi></h2>"
        f"{''.join(lead)}<ul>{''.join(items)}</ul>"
        f"<p>{' · '.join(facts)}</p>"
        f'<p><small dir="ltr"><code>{escape(_ids(alert))}</code></small></p></div>'
    )


def html_body(alerts: Sequence[Alert]) -> str:
    alerts = ordered(alerts)
    rtl = is_rtl(clean(alerts[0].title))
    body = "<hr>".join(_html_alert(a) for a in alerts[:MAX_ALERTS])
    if len(alerts) > MAX_ALERTS:
        body += f"<p>…and {len(alerts) - MAX_ALERTS} more alerts in this group</p>"
    return (
        f'<!DOCTYPE html><html lang="{"ar" if rtl else "en"}" dir="{"rtl" if rtl else "ltr"}">'
        f'<head><meta charset="utf-8"><title>{escape(subject(alerts))}</title></head>'
        f"<body>{body}</body></html>"
    )


def email_message(alerts: Sequence[Alert], *, sender: str, to: Sequence[str]) -> MIMEMultipart:
    # The classic MIME classes rather than EmailMessage: CPython 3.11's modern header folder
    # drops the space where it splits a long non-ASCII subject into encoded words.
    message = MIMEMultipart("alternative")
    message["Subject"] = Header(subject(alerts), "utf-8")
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="rasd")
    message.attach(MIMEText(text_body(alerts), "plain", "utf-8"))
    message.attach(MIMEText(html_body(alerts), "html", "utf-8"))
    return message
