"""From the bytes of a feed document to feedparser entries, refusing what is not a safe feed.

Steps, in this order on purpose:

1. decode (:mod:`rasd.connectors.decode`): BOM, byte layout, UTF-8 evidence, declaration, then
   the text itself; the text is then re-encoded as UTF-8 so every later step sees one encoding;
2. refuse an empty document and HTML pages (a login wall or an error page served with 200);
3. repair what real feeds get wrong without changing their text (:func:`repair`): characters
   XML forbids (a NUL, a stray control character) are dropped with a warning; comments and the
   XML declaration go; HTML named entities (``&eacute;``, ``&nbsp;``) become character
   references, as do the entities a DOCTYPE declares with a plain value, and a DOCTYPE's
   references to external entity sets (the Netscape RSS 0.91 DTD, XHTML's Latin-1 set) are
   dropped unread; an ``&`` that starts no reference is escaped;
4. check with defusedxml, which refuses any other entity declaration (the "billion laughs"
   bomb) and external entities; a document cut short keeps the entries that ended before the
   cut (warning ``truncated``), one using a namespace prefix it never declared gets it
   declared; any other error refuses the document with expat's reason and position;
5. only then hand the document to feedparser, which knows RSS 0.9x/1.0/2.0 and Atom.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.entities import html5
from xml.etree.ElementTree import ParseError

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from feedparser.mixin import _FeedParserMixin

from rasd.connectors.decode import decode

_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)
_HTML_TAG = re.compile(r"<html[\s>]", re.I)
_FEED_ROOTS = {"rss", "feed", "rdf", "channel"}
_ENTRIES = {"item", "entry"}
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
# XML 1.0 allows tab, LF, CR and everything from U+0020 but surrogates, U+FFFE and U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SCAN = re.compile(
    r"(?P<cdata><!\[CDATA\[.*?(?:\]\]>|\Z))"
    r"|(?P<comment><!--.*?(?:-->|\Z))"
    r"|&(?:#(?P<num>[0-9]{1,10})|#(?P<x>[xX])(?P<hex>[0-9A-Fa-f]{1,8})"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9._-]{0,63}));"
    r"|&",
    re.S,
)
_XML_DECL = re.compile(r"\A(\s*)<\?xml\s[^>]*?\?>")
_DOCTYPE = re.compile(r"<!DOCTYPE\s+[A-Za-z_:][^\[>]*(?:\[(?P<subset>.*?)\]\s*)?>", re.S | re.I)
_SUBSET_PARTS = re.compile(
    r"\s+|<!--.*?-->"
    r"|<!ENTITY\s+%\s*[A-Za-z_][\w.-]*\s+(?:PUBLIC\s+(?:\"[^\"]*\"|'[^']*')\s+|SYSTEM\s+)"
    r"(?:\"[^\"]*\"|'[^']*')\s*>"
    r"|%[A-Za-z_][\w.-]*;"
    r"|<!ENTITY\s+(?P<name>[A-Za-z_][\w.-]*)\s+"
    r"(?:\"(?P<dq>(?:[^\"&%<]|&#[0-9]{1,7};|&#x[0-9A-Fa-f]{1,6};)*)\""
    r"|'(?P<sq>(?:[^'&%<]|&#[0-9]{1,7};|&#x[0-9A-Fa-f]{1,6};)*)')\s*>"
)
_FIRST_ELEMENT = re.compile(r"<[A-Za-z_]")
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_START_TAG = re.compile(rb"<([^\s/>]+)(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/?>")
_END_TAG = re.compile(rb"</[^\s>]+\s*>")
_PREFIX_USE = re.compile(rb"</?([A-Za-z_][\w.-]*):[A-Za-z_]|\s([A-Za-z_][\w.-]*):[\w.-]+\s*=")
_PREFIX_DECL = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)\s*=")
_KNOWN_NAMESPACES = {
    prefix: uri for uri, prefix in reversed(_FeedParserMixin.namespaces.items()) if prefix
}
# Warnings that mean the text of some article may be wrong or missing; the others are repairs
# that kept the text as its author meant it.
DEGRADING = frozenset(
    {
        "replaced-bytes",
        "encoding-mismatch",
        "encoding-guessed",
        "encoding-unknown",
        "control-chars",
        "truncated",
    }
)


class FeedError(Exception):
    """The document is not a usable feed. ``reason``: empty-document, not-a-feed, invalid-xml,
    truncated-xml, xml-entities-forbidden."""

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
    declared_encoding: str | None = None
    warnings: dict[str, int] = field(default_factory=dict)

    @property
    def degraded(self) -> bool:
        """True if a warning says some article's text may be wrong or missing."""
        return not DEGRADING.isdisjoint(self.warnings)


def parse(body: bytes, content_type: str = "", language: str | None = None) -> ParsedFeed:
    """The feed in ``body``; ``language`` is the feed's from feeds.yaml (a hint for decoding)."""
    decoded = decode(body, content_type, language)
    text = decoded.text.lstrip("\ufeff")
    if not text.strip():
        raise FeedError("empty-document", f"no content ({len(body)} bytes)")
    if _HTML_START.match(text):
        raise FeedError("not-a-feed", "an HTML page, not an RSS or Atom document")
    text, warnings = repair(text)
    try:
        data, root, checked = _well_formed(text.encode("utf-8"))
    except FeedError as exc:
        if exc.reason != "empty-document" and _HTML_TAG.search(text[:4096]):
            raise FeedError("not-a-feed", "an HTML page, not an RSS or Atom document") from None
        raise
    if root not in _FEED_ROOTS:
        raise FeedError("not-a-feed", f"root element <{root}> is not rss, feed or RDF")
    result = feedparser.parse(io.BytesIO(data), sanitize_html=True, resolve_relative_uris=False)
    feed = result.get("feed", {})
    return ParsedFeed(
        title=str(feed.get("title", "")),
        lang=_primary_language(feed.get("language")),
        encoding=decoded.encoding,
        entries=list(result.get("entries", [])),
        declared_encoding=decoded.declared,
        warnings={**decoded.warnings, **warnings, **checked},
    )


def repair(text: str) -> tuple[str, dict[str, int]]:
    """The document with what XML forbids or does not know rewritten, and counts of what was
    done: ``control-chars`` (dropped characters and references to them), ``bare-ampersand``
    (escaped), for the warnings.

    >>> repair("<t>AT&T &eacute;t&eacute;&hellip;\\x00</t>")
    ('<t>AT&amp;T été&#8230;</t>', {'control-chars': 1, 'bare-ampersand': 1})
    """
    counts = {"control-chars": 0, "bare-ampersand": 0}
    text, counts["control-chars"] = _FORBIDDEN.subn("", text)
    declared: dict[str, str] = {}
    # Only a DOCTYPE before the root element is one (not a "<!DOCTYPE html>" in a CDATA).
    root = _FIRST_ELEMENT.search(text, 0, 65536)
    doctype = _DOCTYPE.search(text, 0, root.start() if root else 8192)
    if doctype and (entities := _understood(doctype.group("subset") or "")) is not None:
        declared = entities
        start, end = doctype.span()
        text = text[:start] + "\n" * text.count("\n", start, end) + text[end:]
    budget = [len(text)]  # characters entity values may add: the document can at most double

    def replace(m: re.Match) -> str:
        if m.group("cdata"):
            return m.group(0)
        if comment := m.group("comment"):
            # A cut-off comment stays, so the parser sees where the document ends.
            return "\n" * comment.count("\n") if comment.endswith("-->") else comment
        if (digits := m.group("num") or m.group("hex")) is not None:
            code = int(digits, 16 if m.group("hex") else 10)
            if not _allowed(code):
                counts["control-chars"] += 1
                return ""
            return f"&#x{digits};" if m.group("x") == "X" else m.group(0)
        name = m.group("name")
        if name is None:
            counts["bare-ampersand"] += 1
            return "&amp;"
        if name in _XML_ENTITIES:
            return m.group(0)
        if (value := declared.get(name)) is not None:
            budget[0] -= len(value)
            if budget[0] < 0:
                raise FeedError("xml-entities-forbidden", "DOCTYPE entities expand past the cap")
            # Character references in the value stay references; quotes are escaped so a value
            # used in an attribute cannot end it.
            return value.replace('"', "&#34;").replace("'", "&#39;")
        if (value := html5.get(f"{name};")) is not None:
            return _references(value)
        counts["bare-ampersand"] += 1
        return f"&amp;{name};"

    text = _SCAN.sub(replace, text)
    # UTF-8 now, whatever the declaration said; without comments it is at the start as XML
    # requires (a feed may put a comment or blank lines before it).
    text = _XML_DECL.sub(r"\1", text, count=1)
    return text, {kind: n for kind, n in counts.items() if n}


def _understood(subset: str) -> dict[str, str] | None:
    """The entities a DOCTYPE's internal subset declares, if every declaration in it is
    understood: entity sets referenced from outside (never fetched: the names they define are
    HTML's, which repair knows) and entities whose value is text and character references, no
    other entity (so expanding them is linear). None otherwise: defusedxml judges the rest."""
    found: dict[str, str] = {}
    position = 0
    while position < len(subset):
        part = _SUBSET_PARTS.match(subset, position)
        if part is None:
            return None
        if part.group("name"):
            found.setdefault(part.group("name"), part.group("dq") or part.group("sq") or "")
        position = part.end()
    return found


def _references(value: str) -> str:
    """Text as XML character data: letters as they are, anything else as a reference."""
    return "".join(c if c.isalnum() or c == " " else f"&#{ord(c)};" for c in value)


def _allowed(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


class _Outline:
    """A parser target that keeps only the root's name and the last point where the document
    could end with no entry open (the byte after that tag, and the elements open there)."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.expat = None
        self.root: str | None = None
        self.open: list[tuple[str, bytes]] = []  # (local name, name as written)
        self.cut = 0
        self.cut_open: tuple[bytes, ...] = ()
        self.entries_started = 0
        self.entries_ended = 0
        self.cut_entries = 0

    def start(self, tag: str, attrib: dict) -> None:
        local = tag.rsplit("}", 1)[-1].lower()
        if self.root is None:
            self.root = local
        written = _START_TAG.match(self.source, self.expat.CurrentByteIndex)
        self.open.append((local, written.group(1) if written else b""))
        self.entries_started += local in _ENTRIES
        if written and not written.group(0).endswith(b"/>"):
            self._may_end_at(written.end())

    def end(self, tag: str) -> None:
        local, _ = self.open.pop()
        self.entries_ended += local in _ENTRIES
        at = self.expat.CurrentByteIndex
        if self.source.startswith(b"</", at):
            closing = _END_TAG.match(self.source, at)
            if closing:
                self._may_end_at(closing.end())
        else:
            # expat reports the end of an empty element (<link/>) just after it.
            self._may_end_at(at)

    def _may_end_at(self, position: int) -> None:
        if all(local not in _ENTRIES for local, _ in self.open):
            self.cut = position
            self.cut_open = tuple(written for _, written in self.open)
            self.cut_entries = self.entries_ended

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _outline(data: bytes) -> tuple[_Outline, ParseError | None, bool]:
    """The document's outline, expat's error if any, and whether it came at the end."""
    outline = _Outline(data)
    parser = DefusedXMLParser(
        target=outline, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    outline.expat = parser.parser
    try:
        parser.feed(data)
    except DefusedXmlException as exc:
        raise FeedError("xml-entities-forbidden", type(exc).__name__) from None
    except ParseError as exc:
        return outline, exc, False
    try:
        parser.close()
    except DefusedXmlException as exc:
        raise FeedError("xml-entities-forbidden", type(exc).__name__) from None
    except ParseError as exc:
        # Only the end of the input reveals an unclosed element, tag or CDATA section.
        return outline, exc, True
    return outline, None, False


def _well_formed(data: bytes) -> tuple[bytes, str | None, dict[str, int]]:
    """The document, repaired if that loses no complete entry, its root's local name, and
    warnings; a FeedError if it is not well-formed XML and cannot be repaired."""
    warnings: dict[str, int] = {}
    outline, error, at_end = _outline(data)
    if error is not None and not at_end and str(error).startswith("unbound prefix"):
        data, declared = _declare_prefixes(data)
        if declared:
            warnings["undeclared-prefix"] = declared
            outline, error, at_end = _outline(data)
    if error is None:
        return data, outline.root, warnings
    if not at_end:
        raise FeedError("invalid-xml", str(error))
    if outline.root is None:
        raise FeedError("empty-document", "no element, only a prolog")
    if outline.cut_entries == 0 and outline.entries_started:
        raise FeedError("truncated-xml", f"{error} (cut inside the first entry)")
    if outline.cut:
        closing = b"".join(b"</" + name + b">" for name in reversed(outline.cut_open))
        repaired = data[: outline.cut] + closing
        fixed, fix_error, _ = _outline(repaired)
        if fix_error is None:
            warnings["truncated"] = 1
            return repaired, fixed.root, warnings
    raise FeedError("truncated-xml", str(error))


def _declare_prefixes(data: bytes) -> tuple[bytes, int]:
    """The document with the namespace prefixes it uses but never declares declared on its
    root (feedparser's URI for the prefixes it knows, e.g. itunes, media, dc)."""
    used = {a or b for a, b in _PREFIX_USE.findall(data)} - {b"xml", b"xmlns"}
    missing = sorted(used - set(_PREFIX_DECL.findall(data)))
    root = _ROOT_TAG.search(data)
    if not missing or root is None:
        return data, 0
    declarations = b"".join(
        b' xmlns:%s="%s"'
        % (p, _KNOWN_NAMESPACES.get(p.decode(), f"urn:x-undeclared:{p.decode()}").encode())
        for p in missing
    )
    return data[: root.end()] + declarations + data[root.end() :], len(missing)


def _primary_language(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    primary = value.strip().lower().replace("_", "-").split("-")[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None
