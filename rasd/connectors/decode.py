"""From the bytes of a feed document to its text, and how sure we are of the encoding.

Order, strongest evidence first:

1. a byte order mark (UTF-8, UTF-16, UTF-32), else the layout of the first four bytes, which
   XML requires to be ``<?xm`` or ``<``: it tells UTF-16 and UTF-32 (either byte order) and
   EBCDIC from the ASCII-compatible encodings (XML 1.0, appendix F);
2. a document that is valid UTF-8 and not plain ASCII is UTF-8, whatever it declares: legacy
   text (windows-1256, ISO-8859-6, Latin-1) almost never forms valid multi-byte sequences, so a
   contrary declaration is the one that is wrong. A document that is UTF-8 but for a few bytes
   is UTF-8 with those bytes replaced (U+FFFD): well-formed multi-byte characters must be the
   majority (declared or default UTF-8) or four per bad byte (declared otherwise);
3. the declarations: the HTTP ``charset`` (first, RFC 7303), then the XML declaration, the
   first kept that decodes and gives text that is not a mess (a server's default charset is
   often wrong where the document's own declaration is right: either one bears the text out);
4. otherwise the text itself decides: charset-normalizer (a maintained detector, which scores
   how messy and how coherent each candidate decoding is) tells windows-1256 from ISO-8859-6
   from Latin-1 or Big5 by the letters they produce.

Every guess or repair is a warning (``replaced-bytes``, ``encoding-mismatch``,
``encoding-guessed``, ``encoding-unknown``), so health can say that a feed's text may be wrong.

>>> decode("<rss>قصف</rss>".encode("windows-1256")).encoding          # doctest: +SKIP
'windows-1256'
>>> decode("<rss>قصف</rss>".encode(), "text/xml; charset=windows-1256").warnings
{'encoding-mismatch': 1}
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from charset_normalizer import CharsetMatch, from_bytes
from charset_normalizer.md import mess_ratio

from rasd.text.language import ARABIC_SCRIPT

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_XML_DECL = re.compile(r"\A\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Names Python does not know for the encodings XML documents (and feedparser's corpus) use.
_ALIASES = {
    "ucs-2": "utf-16", "iso-10646-ucs-2": "utf-16", "csunicode": "utf-16",
    "ucs-4": "utf-32", "iso-10646-ucs-4": "utf-32", "csucs4": "utf-32",
    "x-mac-arabic": "mac-arabic", "x-mac-roman": "mac-roman",
}  # fmt: skip
# Seven-bit stateful encodings turn markup-looking bytes into other characters (UTF-7 was an
# XSS vector in browsers); a document declaring one is read as undeclared.
_UNSAFE = {"utf-7", "hz", "iso2022_jp", "iso2022_kr"}
_LANGUAGE = re.compile(
    rb"<(?:\w+:)?language>\s*([A-Za-z]{2,3})\b|xml:lang\s*=\s*[\"']([A-Za-z]{2,3})\b"
)
_ARABIC_CODECS = ["cp1256", "iso8859_6"]
# The legacy encodings a feed in a language would be in, when it declares none.
_LEGACY_CODECS = {
    **{language: _ARABIC_CODECS for language in ARABIC_SCRIPT},
    **{language: ["cp1252"] for language in
       ("en", "fr", "es", "de", "pt", "it", "nl", "ca", "da", "sv", "no", "nb", "fi", "ga")},
    "tr": ["cp1254"],
}  # fmt: skip
_PROBE = '<?xml version="1.0" encoding=""?><a b=\'c\'>&amp;#;/[]</a>\n'
# charset-normalizer's own default: a decoding messier than this is not a reading of the text.
MESS_LIMIT = 0.2
# Well-formed multi-byte characters per invalid byte above which a document declared in a legacy
# encoding is UTF-8 with a few bad bytes (a cut character, one pasted Latin-1 letter).
UTF8_MAJORITY = 4


@dataclass(frozen=True)
class Decoded:
    """A document's text, the encoding it was read in, the one it declared, and warnings."""

    text: str
    encoding: str
    declared: str | None = None
    warnings: dict[str, int] = field(default_factory=dict)


def decode(body: bytes, content_type: str = "", language: str | None = None) -> Decoded:
    """The text of a feed document; never fails (undecodable bytes become U+FFFD, warned).
    ``language`` (the feed's, from feeds.yaml) helps tell legacy encodings apart when the
    document names none (``<language>`` or ``xml:lang``)."""
    header = m.group(1) if (m := _CHARSET.search(content_type)) else None
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _in_family(body[len(bom) :], name, header)
    family = _family(body[:4])
    if family is not None:
        return _in_family(body, family, header)
    return _ascii_compatible(body, header, language)


def _family(head: bytes) -> str | None:
    """UTF-16/32 or EBCDIC from the first four bytes of a document without a BOM."""
    if len(head) < 4:
        return None
    zeros = tuple(b == 0 for b in head)
    if zeros == (True, True, True, False):
        return "utf-32-be"
    if zeros == (False, True, True, True):
        return "utf-32-le"
    if zeros == (True, False, True, False):
        return "utf-16-be"
    if zeros == (False, True, False, True):
        return "utf-16-le"
    if head == b"\x4c\x6f\xa7\x94":  # "<?xm" in EBCDIC
        return "cp037"
    return None


@dataclass(frozen=True)
class _Declarations:
    """What the HTTP ``charset`` and the XML declaration say, in that order of authority."""

    names: tuple[str, ...]

    @property
    def codecs(self) -> list[str]:
        """Python codecs for the declared names that can be used (known, markup-safe)."""
        found = [_codec(name) for name in self.names]
        return [c for c in found if c and c not in _UNSAFE and _ascii_safe(c)]

    def agree(self, codec: str) -> bool:
        return any(_same_family(declared, codec) for declared in self.codecs)

    def shown(self, codec: str) -> str | None:
        """The declaration to show next to the encoding used: the one that agreed, if any."""
        for name in self.names:
            if _same_family(_codec(name) or name, codec):
                return name.lower()
        return self.names[0].lower() if self.names else None

    def unmet(self) -> str:
        """The warning for a document whose declarations the text did not bear out."""
        if not self.names:
            return "encoding-guessed"
        return "encoding-mismatch" if any(_codec(n) for n in self.names) else "encoding-unknown"


def _in_family(data: bytes, family: str, header: str | None) -> Decoded:
    """A document whose byte layout is known (BOM or XML autodetection)."""
    codec = family
    if family == "cp037":
        # EBCDIC variants agree on the declaration's characters; the declaration picks one.
        named = _codec(header or _declared(data.decode("cp037", "replace")))
        if named and _decodes(data[:4], named) == "<?xm":
            codec = named
    text, replaced = _decode_counting(data, codec)
    declarations = _Declarations(tuple(d for d in (header, _declared(text)) if d))
    warnings = {"replaced-bytes": replaced} if replaced else {}
    if declarations.names and not any(
        _same_family(_codec(name) or name, codec) for name in declarations.names
    ):
        # A BOM or a UTF-16/32 layout is the bytes themselves; a declaration saying otherwise
        # (UTF-8 in a UTF-16 document) is wrong, and said so.
        warnings["encoding-mismatch"] = 1
    return Decoded(text, _display(codec), declarations.shown(codec), warnings)


def _ascii_compatible(body: bytes, header: str | None, language: str | None) -> Decoded:
    # A server's charset is often a default that the document's own declaration corrects:
    # a declaration is borne out when either of them names the encoding the text is in.
    declared = _Declarations(
        tuple(d for d in (header, _declared(body[:1024].decode("latin-1"))) if d)
    )
    usable = declared.codecs
    if body.isascii():
        codec = usable[0] if usable else "utf-8"
        return Decoded(body.decode("ascii"), _display(codec), declared.shown(codec))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        warnings = {} if not declared.names or declared.agree("utf-8") else {declared.unmet(): 1}
        return Decoded(text, "utf-8", declared.shown("utf-8"), warnings)
    text, replaced = _decode_counting(body, "utf-8")
    multibyte = len(text) - len(text.encode("ascii", "ignore")) - replaced
    says_utf8 = not declared.names or declared.agree("utf-8")
    # Declared (or by XML's default) UTF-8 needs only a majority of good characters; against
    # a legacy declaration the text must be clearly UTF-8.
    if multibyte and multibyte >= (1 if says_utf8 else UTF8_MAJORITY) * replaced:
        warnings = {"replaced-bytes": replaced}
        if not says_utf8:
            warnings[declared.unmet()] = 1
        return Decoded(text, "utf-8", declared.shown("utf-8"), warnings)
    for codec in usable:
        if _same_family(codec, "utf-8"):
            continue
        text = _decodes(body, codec)
        if text is not None and mess_ratio(text, MESS_LIMIT) < MESS_LIMIT:
            return Decoded(text, _display(codec), declared.shown(codec))
    # The declarations are absent, unknown or contradicted by the text: the text decides.
    detected = _detect(body, language)
    if detected is not None:
        text, codec = detected
        warnings = {} if declared.agree(codec) else {declared.unmet(): 1}
        return Decoded(text, _display(codec), declared.shown(codec), warnings)
    # Nothing reads this text well: the declaration (or UTF-8) with what does not decode
    # replaced, so the rest of the feed still arrives and health says the text is damaged.
    codec = usable[0] if usable else "utf-8"
    text, replaced = _decode_counting(body, codec)
    warnings = {"replaced-bytes": replaced} if replaced else {}
    if not declared.agree(codec):
        warnings[declared.unmet()] = 1
    return Decoded(text, _display(codec), declared.shown(codec), warnings)


def _detect(body: bytes, language: str | None) -> tuple[str, str] | None:
    """The text and codec charset-normalizer finds least messy and most coherent.

    On a headline or two the detector alone scores several code pages as clean (Arabic text
    as Cyrillic or Thai, Spanish as Central European), so a known language narrows it to that
    language's legacy encodings first (windows-1256 and ISO-8859-6 for Arabic script); when
    that finds nothing clean (no language, or a feed labelled English that carries Arabic),
    the Arabic ones win a tie in mess: Arabic is this desk's first language.
    """
    hint = language or _document_language(body)
    if (hinted := _LEGACY_CODECS.get(hint or "")) and (found := _best(body, hinted)):
        return found
    anything = _best_match(body, None)
    arabic = _best_match(body, _ARABIC_CODECS)
    if arabic is not None and (anything is None or arabic.chaos <= anything.chaos):
        return str(arabic), arabic.encoding
    return (str(anything), anything.encoding) if anything is not None else None


def _best(body: bytes, isolation: list[str] | None) -> tuple[str, str] | None:
    match = _best_match(body, isolation)
    return (str(match), match.encoding) if match is not None else None


def _best_match(body: bytes, isolation: list[str] | None) -> CharsetMatch | None:
    # preemptive_behaviour=False: the detector must not simply believe the declaration that
    # is being checked against the text.
    for match in from_bytes(body, preemptive_behaviour=False, cp_isolation=isolation):
        if match.encoding not in _UNSAFE and _ascii_safe(match.encoding):
            return match
    return None


def _document_language(body: bytes) -> str | None:
    m = _LANGUAGE.search(body, 0, 8192)
    return (m.group(1) or m.group(2)).decode("ascii").lower() if m else None


def _declared(text: str) -> str | None:
    m = _XML_DECL.match(text)
    return m.group(1) if m else None


def _codec(name: str | None) -> str | None:
    """Python's name for a declared encoding, None if unknown."""
    if not name:
        return None
    name = _ALIASES.get(name.lower(), name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _ascii_safe(codec: str) -> bool:
    """True if the codec writes markup characters as ASCII does (not UTF-16, not EBCDIC)."""
    try:
        return _PROBE.encode(codec) == _PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def _same_family(a: str, b: str) -> bool:
    """utf-16 and utf-16-le are one encoding here; so are utf-8 and utf-8-sig."""

    def base(name: str) -> str:
        name = (_codec(name) or name).lower()
        return re.sub(r"[-_](le|be|sig)$", "", name)

    return base(a) == base(b)


def _decodes(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_counting(data: bytes, codec: str) -> tuple[str, int]:
    """The text with undecodable bytes as U+FFFD, and how many were replaced."""
    text = data.decode(codec, "replace")
    try:
        # U+FFFD written in the document itself is text, not a replacement.
        genuine = data.count("\ufffd".encode(codec))
    except UnicodeEncodeError:
        genuine = 0
    return text, max(0, text.count("\ufffd") - genuine)


def _display(codec: str) -> str:
    """The encoding's usual name for health (windows-1256, iso-8859-6; not cp1256, iso8859-6)."""
    name = codecs.lookup(codec).name
    name = re.sub(r"^cp(125\d)$", r"windows-\1", name)
    return re.sub(r"^iso8859-", "iso-8859-", name)
