"""From a feed entry to an :class:`~rasd.models.Article` (DESIGN.md "Records").

>>> canonical_url("HTTPS://Example.com:443/a?utm_source=x&b=2&fbclid=y#top")
'https://example.com/a?b=2'
>>> canonical_url("https://example.com/a?z=1&a=2&utm_medium=rss")
'https://example.com/a?z=1&a=2'
>>> strip_html("<p>قصف <b>صاروخي</b> &amp; رد</p>")
'قصف صاروخي & رد'
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rasd.models import Article
from rasd.text.language import item_language

# Size caps: a feed cannot make an article (and every downstream record) arbitrarily large.
MAX_TITLE = 1_000
MAX_SUMMARY = 5_000
MAX_BODY = 100_000
MAX_URL = 2_048

_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "at_", "hsa_")
_TRACKING = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid",
    "mc_eid", "_ga", "_gl", "ocid", "cmpid", "ncid", "smid", "ito", "xtor",
    "__twitter_impression",
}  # fmt: skip
_SPACE = re.compile(r"\s+")


def canonical_url(url: str) -> str:
    """The URL without tracking parameters or fragment; scheme and host lower-cased, default
    port dropped, the other query parameters kept in their order."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def article_id(url: str | None, feed: str, guid: str | None, title: str = "") -> str:
    """Stable id: the canonical URL's hash (http and https count as one), else feed + guid."""
    if url:
        key = "url:" + re.sub(r"^http://", "https://", canonical_url(url))
    else:
        key = f"guid:{feed}\n{guid or title}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template"}
    _BREAK = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def strip_html(value: str, limit: int | None = None) -> str:
    """Plain text of an HTML fragment: tags and scripts dropped, entities decoded, spaces
    collapsed, cut to ``limit`` characters."""
    if "<" in value:
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        value = "".join(extractor.parts)
    else:
        value = unescape(value)
    text = _SPACE.sub(" ", value).strip()
    return text[:limit] if limit is not None else text


@dataclass
class EntryIssues:
    """What was wrong with a document's entries (health warnings and metrics)."""

    missing_date: int = 0
    future_date: int = 0
    duplicate: int = 0
    untitled: int = 0

    def as_dict(self) -> dict[str, int]:
        """Only the kinds that occurred, e.g. ``{"missing-date": 2}``."""
        counts = {
            "missing-date": self.missing_date,
            "future-date": self.future_date,
            "duplicate-guid": self.duplicate,
            "untitled": self.untitled,
        }
        return {kind: n for kind, n in counts.items() if n}


@dataclass(frozen=True)
class Source:
    """Where entries come from: the feed's name and outlet, its languages."""

    feed: str
    outlet: str
    lang: str | None = None
    document_lang: str | None = None


def build_articles(
    entries: list[dict],
    source: Source,
    fetched_at: datetime,
    future_tolerance: timedelta = timedelta(minutes=10),
) -> tuple[list[Article], EntryIssues]:
    """Articles for a document's entries, each id once, with what was wrong with them."""
    issues = EntryIssues()
    articles: dict[str, Article] = {}
    for entry in entries:
        title = strip_html(str(entry.get("title") or ""), MAX_TITLE)
        summary = strip_html(_summary(entry), MAX_SUMMARY)
        if not title and not summary:
            issues.untitled += 1
            continue
        url = _link(entry)
        guid = entry.get("id") or entry.get("guid")
        aid = article_id(url, source.feed, str(guid) if guid else None, title)
        if aid in articles:
            issues.duplicate += 1
            continue
        published = _published(entry)
        if published is None:
            issues.missing_date += 1
        elif published > fetched_at + future_tolerance:
            # A date in the future is a wrong clock or a typo; the article exists now.
            issues.future_date += 1
            published = fetched_at
        body = _body(entry)
        articles[aid] = Article(
            id=aid,
            url=url,
            outlet=source.outlet,
            feed=source.feed,
            lang=_language(entry, source, title, summary),
            title=title or summary[:200],
            summary=summary,
            body=body,
            published_at=published,
            fetched_at=fetched_at,
        )
    return list(articles.values()), issues


def _link(entry: dict) -> str | None:
    link = entry.get("link")
    if not isinstance(link, str) or not link.strip():
        return None
    link = link.strip()
    if urlsplit(link).scheme not in ("http", "https") or len(link) > MAX_URL:
        return None
    return canonical_url(link)


def _summary(entry: dict) -> str:
    for key in ("summary", "description", "subtitle"):
        if value := entry.get(key):
            return str(value)
    return ""


def _body(entry: dict) -> str | None:
    content = entry.get("content")
    if not content:
        return None
    text = strip_html(" ".join(str(c.get("value", "")) for c in content), MAX_BODY)
    return text or None


def _published(entry: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                # feedparser normalises to UTC struct_time; timegm reads it as UTC.
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _language(entry: dict, source: Source, title: str, summary: str) -> str:
    detail = entry.get("title_detail") or {}
    declared = detail.get("language") if isinstance(detail, dict) else None
    if isinstance(declared, str) and re.fullmatch(r"[a-zA-Z]{2,3}([-_].*)?", declared):
        declared = declared[:3].split("-")[0].split("_")[0].lower()
    else:
        declared = source.document_lang or source.lang
    # Feeds mislabel: an English headline in a feed declared Arabic (or the reverse) is
    # analysed, matched and grouped as what its title's script says it is.
    return item_language(title, summary, declared) or "und"
