"""An alert group as an email: subject, plain text and HTML (right-to-left when Arabic)."""

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
    term_texts,
)
from rasd.notify.messages.text import clean, header_safe, is_rtl, safe_url


def subject(alerts: Sequence[Alert]) -> str:
    """``[rasd][severity] title``, on one line whatever the feed put in the title."""
    return header_safe(headline(alerts))


def text_body(alerts: Sequence[Alert]) -> str:
    alerts = ordered(alerts)
    parts = []
    for alert in alerts[:MAX_ALERTS]:
        lines = [
            f"[{alert.severity.value.upper()}] {clean(alert.title)}",
            f"Rule: {clean(alert.rule, 80)}   Time: {iso_time(alert)}",
        ]
        if alert.places:
            lines.append("Places: " + ", ".join(clean(p, 60) for p in alert.places))
        terms = term_texts(alert)
        if terms:
            lines.append("Terms: " + ", ".join(terms))
        for article in alert.articles[:MAX_ARTICLES]:
            lines.append(f"- {clean(article.outlet, 80)}: {clean(article.title, 200)}")
            url = safe_url(article.url)
            if url:
                lines.append(f"  {url}")
        if len(alert.articles) > MAX_ARTICLES:
            lines.append(f"- …and {len(alert.articles) - MAX_ARTICLES} more")
        parts.append("\n".join(lines))
    if len(alerts) > MAX_ALERTS:
        parts.append(f"…and {len(alerts) - MAX_ALERTS} more alerts in this group")
    return "\n\n".join(parts) + "\n"


def _dir(text: str) -> str:
    return "rtl" if is_rtl(text) else "ltr"


def _html_alert(alert: Alert) -> str:
    title = clean(alert.title)
    items = []
    for article in alert.articles[:MAX_ARTICLES]:
        a_title = clean(article.title, 200)
        url = safe_url(article.url)
        outlet = escape(clean(article.outlet, 80))
        label = f'<a href="{escape(url)}">{outlet}</a>' if url else outlet
        items.append(f'<li dir="{_dir(a_title)}">{label}: <bdi>{escape(a_title)}</bdi></li>')
    if len(alert.articles) > MAX_ARTICLES:
        items.append(f"<li>…and {len(alert.articles) - MAX_ARTICLES} more</li>")
    facts = [f"Rule: <code>{escape(clean(alert.rule, 80))}</code>", f"Time: {iso_time(alert)}"]
    if alert.places:
        places = ", ".join(f"<bdi>{escape(clean(p, 60))}</bdi>" for p in alert.places)
        facts.append(f"Places: {places}")
    terms = term_texts(alert)
    if terms:
        facts.append("Terms: " + ", ".join(f"<mark><bdi>{escape(t)}</bdi></mark>" for t in terms))
    return (
        f'<div dir="{_dir(title)}">'
        f"<h2><span>[{alert.severity.value.upper()}]</span> <bdi>{escape(title)}</bdi></h2>"
        f"<p>{' · '.join(facts)}</p>"
        f"<ul>{''.join(items)}</ul></div>"
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
