"""Slack Block Kit for an alert group, within Slack's limits whatever the feed sends.

One alert reads: the header ``[HIGH] title`` (the title once), the first report's summary
line, the outlets, the places by name in the alert's language, then the reports as links;
fields for the rule and the time; a context line with the ids (rule, key, places) in matcher
syntax, for machines and for silences. Every piece of feed text is cleaned, escaped for Slack
and, when it holds Arabic, wrapped in a directional isolate (see
:mod:`rasd.notify.messages.text`).

Slack refuses a message past its documented Block Kit limits (``invalid_blocks``) and the
alert would end as a dead letter, so every text is built to a budget (:data:`LIMITS`): reports
that do not fit are counted ("…and 3 more reports"), not cut in the middle of a link.
:func:`problems` checks a payload against the limits with slack_sdk's Block Kit models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

# Imported here, not on the first message: importing it takes long enough to hold a
# notifier's event loop past a group's lease.
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from rasd.models import Alert, Severity
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
    top_severity,
)
from rasd.notify.messages.text import RLM, clean, is_rtl, isolate, rtl_line, safe_url, slack_escape

log = logging.getLogger(__name__)

# Slack's documented limits (https://docs.slack.dev/reference/block-kit/blocks). A section's
# text is shared out: title line <= 600 (several alerts), summary <= 800, outlets and places
# <= 400 each, the reports the rest.
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
CONTEXT_MAX = 2000  # kept well under the 3,000 of a text object
# A link longer than this is shown as its outlet's name only: one URL must not crowd out
# every other report (percent-encoded Arabic slugs run to hundreds of characters).
URL_MAX = 1000

EMOJI = {
    Severity.info: ":information_source:",
    Severity.low: ":large_blue_circle:",
    Severity.medium: ":large_yellow_circle:",
    Severity.high: ":large_orange_circle:",
    Severity.critical: ":red_circle:",
}


def _text(text: str | None, limit: int = 300) -> str:
    return isolate(slack_escape(clean(text, limit)))


def _fit(lines: Sequence[str], limit: int, more: Callable[[int], str], sep: str = "\n") -> str:
    """As many ``lines`` as fit in ``limit`` characters, then ``more(n)`` for the n left."""
    reserve = len(more(len(lines))) + len(sep)
    kept: list[str] = []
    size = -len(sep)
    for line in lines:
        if size + len(sep) + len(line) + reserve > limit:
            break
        kept.append(line)
        size += len(sep) + len(line)
    left = len(lines) - len(kept)
    return sep.join([*kept, more(left)] if left else kept)


def _reports(count: int) -> str:
    return f"…and {count} more report{'s' if count != 1 else ''}"


def _cut_to(build: Callable[[int], str], limit: int, start: int) -> str:
    """``build(n)`` for the largest ``n <= start`` whose result fits in ``limit`` (escaping
    makes the final length unknown until it is built)."""
    n = start
    text = build(n)
    while len(text) > limit and n > 1:
        n = max(1, n - max(1, (len(text) - limit)))
        text = build(n)
    return text[:limit]


def _article_line(article, headline_title: str) -> str:
    title = clean(article.title, 200)
    label = _text(article.outlet, 80)
    # The headline report's title is the message's title: not repeated.
    if title and clean(article.title) != headline_title:
        label = f"{label}: {isolate(slack_escape(title))}"
    url = safe_url(article.url)
    link = f"<{url.replace('&', '&amp;')}|{label}>" if url and len(url) <= URL_MAX else label
    return f"{RLM if is_rtl(title) else ''}• {link}"


def _story_text(alert: Alert, with_title: bool) -> str:
    title = clean(alert.title)
    lines = []
    if with_title:
        head = f"{EMOJI[alert.severity]} *{alert.severity.value.upper()}* "
        lines.append(head + _cut_to(lambda n: rtl_line(slack_escape(clean(title, n))), 600, 300))
    line = summary(alert)
    if line:
        lines.append(_cut_to(lambda n: rtl_line(slack_escape(clean(line, n))), 800, len(line)))
    names = [isolate(slack_escape(o)) for o in outlets(alert)]
    if names:
        lines.append("*Outlets:* " + _fit(names, 400, lambda n: f"+{n} more", " · "))
    places = [_text(p, 60) for p in place_names(alert)]
    if places:
        lines.append("*Places:* " + _fit(places, 400, lambda n: f"+{n} more", ", "))
    head = "\n".join(lines)
    reports = [_article_line(a, title) for a in alert.articles[:MAX_ARTICLES]]
    unseen = len(alert.articles) - len(reports)

    budget = SECTION_MAX - len(head) - 1
    body = _fit(reports, budget, lambda left: _reports(left + unseen)) if reports else ""
    if unseen and len(reports) == len(body.split("\n")):  # every shown report fitted
        body = f"{body}\n{_reports(unseen)}" if body else _reports(unseen)
    return "\n".join(part for part in (head, body) if part)[:SECTION_MAX]


def _ids(alert: Alert) -> str:
    parts = [f"rule={alert.rule}", f"key={alert.key}"]
    if alert.places:
        parts.append("places=" + ",".join(alert.places))
    ids = [f"`{slack_escape(clean(p, 500))}`" for p in parts]
    return _fit(ids, CONTEXT_MAX, lambda n: "…", sep=" · ")


def _alert_blocks(alert: Alert, with_title: bool) -> list[dict]:
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _story_text(alert, with_title)}}
    ]
    epoch = int(alert.created_at.timestamp())
    fields = [
        f"*Rule*\n`{slack_escape(clean(alert.rule, 80))}`",
        f"*Time*\n<!date^{epoch}^{{date_short_pretty}} {{time}}|{iso_time(alert)}>",
    ]
    terms = [isolate(slack_escape(t)) for t in term_texts(alert)]
    if terms:
        fields.append("*Terms*\n" + _fit(terms, FIELD_MAX - 8, lambda n: f"+{n} more", ", "))
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _ids(alert)}]})
    return blocks


def _header(alerts: Sequence[Alert], severity: Severity) -> str:
    prefix = f"[{severity.value.upper()}] "
    if len(alerts) > 1:
        return f"{prefix}{len(alerts)} alerts, worst {severity.value}"
    title = clean(alerts[0].title)
    # plain_text is not parsed for links or mentions; @channel is still defused because
    # Slack notifies on it in some clients.
    return _cut_to(
        lambda n: prefix + isolate(slack_escape(clean(title, n))), HEADER_MAX, HEADER_MAX
    )


def slack_payload(alerts: Sequence[Alert]) -> dict:
    """The JSON body posted to a Slack incoming webhook."""
    alerts = ordered(alerts)
    severity = top_severity(alerts)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": _header(alerts, severity)}}
    ]
    many = len(alerts) > 1
    for index, alert in enumerate(alerts[:MAX_ALERTS]):
        if index:
            blocks.append({"type": "divider"})
        blocks.extend(_alert_blocks(alert, with_title=many))
    if len(alerts) > MAX_ALERTS:
        more = f"…and {len(alerts) - MAX_ALERTS} more alerts in this group"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    payload = {"text": slack_escape(headline(alerts)), "blocks": blocks}
    found = problems(payload)
    if found:
        # Built to the limits, so this is a bug; a plain message still reaches the desk.
        log.error("Slack message over Block Kit limits (%s); sending it plain", "; ".join(found))
        return {"text": payload["text"], "blocks": blocks[:1]}
    return payload


def problems(payload: dict) -> list[str]:
    """Where ``payload`` breaks Slack's Block Kit limits (empty when it does not): slack_sdk's
    models check each block; the message-wide limits and the fields' length are checked here
    (slack_sdk's models do not know them)."""
    found = []
    blocks = payload.get("blocks", [])
    if len(blocks) > BLOCKS_MAX:
        found.append(f"{len(blocks)} blocks (at most {BLOCKS_MAX})")
    for index, block in enumerate(blocks):
        try:
            Block.parse(block).validate_json()
        except SlackObjectFormationError as exc:
            found.append(f"block {index}: {exc}")
        for field in block.get("fields") or ():
            if len(field["text"]) > FIELD_MAX:
                found.append(f"block {index}: a field of {len(field['text'])} characters")
        for element in block.get("elements") or ():
            if len(element.get("text", "")) > 3000:
                found.append(f"block {index}: a context text of {len(element['text'])}")
    return found
