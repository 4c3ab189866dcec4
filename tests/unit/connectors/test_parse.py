"""Decoding and safe parsing of feed documents (the fixture files, no network)."""

from pathlib import Path

import pytest

from rasd.connectors.parse import FeedError, decode, parse

FIXTURES = Path(__file__).parents[2] / "fixtures" / "feeds"


def doc(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("html-page.html", "not-a-feed"),
        ("invalid.xml", "invalid-xml"),
        ("truncated.xml", "truncated-xml"),
        ("entity-bomb.xml", "xml-entities-forbidden"),
    ],
)
def test_bad_documents_are_refused_with_a_reason(name, reason):
    with pytest.raises(FeedError) as info:
        parse(doc(name))
    assert info.value.reason == reason


def test_external_entities_are_refused():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>'
    )
    with pytest.raises(FeedError) as info:
        parse(xxe)
    assert info.value.reason == "xml-entities-forbidden"


def test_xml_that_is_not_a_feed():
    with pytest.raises(FeedError, match="not-a-feed"):
        parse(b"<?xml version='1.0'?><svg><g/></svg>")


def test_encodings_from_declaration_header_and_bom():
    text, encoding = decode(doc("rafidain-ar-windows-1256.xml"))
    assert encoding == "windows-1256" and "قاعدة عين الأسد" in text
    body = doc("rafidain-ar-iso-8859-6.xml").split(b"?>", 1)[1]
    text, encoding = decode(body, "application/rss+xml; charset=ISO-8859-6")
    assert encoding == "iso-8859-6" and "هطول أمطار" in text
    assert decode("<rss>قصف</rss>".encode("utf-8-sig")) == ("<rss>قصف</rss>", "utf-8")
    # An undeclared legacy Arabic document is not valid UTF-8: windows-1256 is tried next.
    assert decode("<rss>قصف</rss>".encode("windows-1256"))[1] == "windows-1256"


def test_formats():
    rss, atom = parse(doc("seed-aljazeera-ar.xml")), parse(doc("gulfwire-en.atom"))
    assert (rss.lang, len(rss.entries), atom.lang, len(atom.entries)) == ("ar", 3, "en", 2)
    assert parse(doc("empty.xml")).entries == []
