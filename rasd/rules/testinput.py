"""Articles for `rasd rules test`: JSONL (one article per line) or an RSS/Atom document.

XML is first parsed with defusedxml (which refuses entity expansion and external entities),
then handed to feedparser for the feed semantics.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import ValidationError

from rasd.dates import parse_published
from rasd.models import Article
from rasd.text.language import item_language

MAX_INPUT_BYTES = 50_000_000
MAX_FIELD_CHARS = 100_000


class InputError(Exception):
    """The input file cannot be read at all."""


def read_articles(path: Path, on_error: Callable[[str], None]) -> Iterator[Article]:
    """Articles from ``path``; bad JSONL lines are reported through ``on_error`` and skipped."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{path} is larger than {MAX_INPUT_BYTES} bytes")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return iter(_feed_articles(path, data))
    return _jsonl_articles(path, data, on_error)


def _text(value: object) -> str:
    return str(value)[:MAX_FIELD_CHARS] if value else ""


def _jsonl_articles(path: Path, data: bytes, on_error: Callable[[str], None]) -> Iterator[Article]:
    text = data.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object")
            title = _text(item.get("title"))
            url = _text(item.get("url") or item.get("link"))
            # A label file names items by this id, so it must not depend on the reader: the
            # item's own id, else its guid or link (unique in a feed), else the line itself.
            article_id = (
                _text(item.get("id") or item.get("guid"))
                or url
                or hashlib.sha256(line.encode()).hexdigest()[:16]
            )
            summary = _text(item.get("summary") or item.get("description"))
            if not (title or summary or item.get("body")):
                raise ValueError("no title, summary, description or body")
            lang = item_language(title, summary, _text(item.get("lang")) or None) or ""
            raw_date = item.get("published") or item.get("pubDate") or item.get("date")
            try:
                published = parse_published(raw_date) if raw_date else None
            except ValueError as exc:
                on_error(f"{path}:{number}: date ignored: {exc}")
                published = None
            yield Article(
                id=article_id,
                url=url or None,
                outlet=_text(item.get("outlet")) or path.name,
                feed=_text(item.get("feed")) or path.name,
                lang=lang or "",
                title=title,
                summary=summary,
                body=_text(item.get("body")) or None,
                published_at=published,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            on_error(f"{path}:{number}: skipped: {field}: {first['msg']}")
        except (ValueError, TypeError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            on_error(f"{path}:{number}: skipped: {message}")


def _feed_articles(path: Path, data: bytes) -> list[Article]:
    import defusedxml.ElementTree as SafeET
    import feedparser
    from defusedxml import DefusedXmlException

    try:
        SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise InputError(f"{path} is not a safe, well-formed XML feed: {exc}") from None
    feed = feedparser.parse(data)
    lang = _text(feed.feed.get("language"))
    outlet = _text(feed.feed.get("title")) or path.name
    articles = []
    for entry in feed.entries:
        link = _text(entry.get("link"))
        # Named by link (else guid) as people name a feed's items, so a label file can too.
        name = link or _text(entry.get("id"))
        content = entry.get("content") or []
        articles.append(
            Article(
                id=name or hashlib.sha256(_text(entry.get("title")).encode()).hexdigest()[:16],
                url=link or None,
                outlet=outlet,
                feed=path.name,
                lang=item_language(
                    _text(entry.get("title")), _text(entry.get("summary")), lang or None
                )
                or "",
                title=_text(entry.get("title")),
                summary=_text(entry.get("summary")),
                body=_text(content[0].get("value")) if content else None,
            )
        )
    return articles
