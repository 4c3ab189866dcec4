"""From the bytes of a feed document to feedparser entries, refusing what is not a safe feed.

Steps, in this order on purpose:
1. decode: a BOM, then the HTTP ``charset``, then the XML declaration, then UTF-8, then
   windows-1256 (the usual legacy Arabic encoding); the first that decodes cleanly wins;
2. re-encode as UTF-8 with the declaration rewritten, so every later step sees one encoding,
   and write HTML named entities (``&nbsp;``) as character references when there is no DTD;
3. refuse HTML pages (a login wall or an error page served with 200);
4. parse with defusedxml, which refuses entity declarations (the "billion laughs" bomb) and
   external entities, and tells well-formed from truncated or broken XML;
5. only then hand the document to feedparser, which knows RSS 0.9x/1.0/2.0 and Atom.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from html.entities import html5
from xml.etree.ElementTree import ParseError

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_XML_DECL_TEXT = re.compile(
    r"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._:-]+)([\"'])", re.I
)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)
_HTML_TAG = re.compile(r"<html[\s>]", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_FEED_ROOTS = {"rss", "feed", "rdf", "channel"}
_DOCTYPE = re.compile(r"<!DOCTYPE", re.I)
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}


class FeedError(Exception):
    """The document is not a usable feed. ``reason``: not-a-feed, invalid-xml, truncated-xml,
    xml-entities-forbidden, decode-error."""

    def __init__(self, reason: str, detail: str):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    lang: str | None
    encoding: str
    entries: list[dict]


def decode(body: bytes, content_type: str = "") -> tuple[str, str]:
    """The document as text, and the name of the encoding it was in."""
    candidates: list[str] = []
    for bom, name in _BOMS:
        if body.startswith(bom):
            candidates.append(name)
    if m := _CHARSET.search(content_type):
        candidates.append(m.group(1))
    if m := _XML_DECL.match(body):
        candidates.append(m.group(1).decode("ascii"))
    candidates += ["utf-8", "windows-1256"]
    for name in candidates:
        try:
            codec = codecs.lookup(name)
        except LookupError:
            continue
        try:
            text = body.decode(codec.name)
        except UnicodeDecodeError:
            continue
        return text.lstrip("\ufeff"), name.lower()
    raise FeedError("decode-error", f"not decodable as any of {', '.join(candidates)}")


def parse(body: bytes, content_type: str = "") -> ParsedFeed:
    text, encoding = decode(body, content_type)
    if _HTML_START.match(text):
        raise FeedError("not-a-feed", "an HTML page, not an RSS or Atom document")
    text = _XML_DECL_TEXT.sub(r"\1utf-8\3", text, count=1)
    if not _DOCTYPE.search(text[:4096]):
        # Many real feeds use HTML's named entities (&nbsp;, &hellip;) without declaring them:
        # written as character references they are well-formed XML with the same text.
        text = _NAMED_ENTITY.sub(_numeric_reference, text)
    utf8 = text.encode("utf-8")
    try:
        root = _check_xml(utf8)
    except FeedError:
        if _HTML_TAG.search(text[:4096]):
            raise FeedError("not-a-feed", "an HTML page, not an RSS or Atom document") from None
        raise
    local = root.tag.rsplit("}", 1)[-1].lower()
    if local not in _FEED_ROOTS:
        raise FeedError("not-a-feed", f"root element <{local}> is not rss, feed or RDF")
    result = feedparser.parse(io.BytesIO(utf8), sanitize_html=True, resolve_relative_uris=False)
    feed = result.get("feed", {})
    return ParsedFeed(
        title=str(feed.get("title", "")),
        lang=_primary_language(feed.get("language")),
        encoding=encoding,
        entries=list(result.get("entries", [])),
    )


def _numeric_reference(match: re.Match) -> str:
    name = match.group(1)
    if name in _XML_ENTITIES or f"{name};" not in html5:
        return match.group(0)
    return "".join(f"&#{ord(c)};" for c in html5[f"{name};"])


def _check_xml(data: bytes):
    try:
        return fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedError("xml-entities-forbidden", type(exc).__name__) from None
    except ParseError as exc:
        message = str(exc)
        # expat reports a document cut short as something unclosed, or no root end tag, at EOF.
        line, _column = exc.position
        at_end = line >= data.rstrip().count(b"\n") + 1
        if at_end and ("no element found" in message or "unclosed" in message):
            raise FeedError("truncated-xml", message) from None
        raise FeedError("invalid-xml", message) from None


def _primary_language(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    primary = value.strip().lower().replace("_", "-").split("-")[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None
