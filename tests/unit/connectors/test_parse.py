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


def test_connect_error_reasons_from_the_cause_chain():
    import socket

    import httpx

    from rasd.connectors.fetch import _connect_reason

    def chained(cause: BaseException) -> httpx.ConnectError:
        try:
            try:
                raise cause
            except OSError as exc:
                raise httpx.ConnectError("All connection attempts failed") from exc
        except httpx.ConnectError as exc:
            return exc

    assert _connect_reason(chained(ConnectionRefusedError(111, "x"))) == "connect-refused"
    assert _connect_reason(chained(socket.gaierror(-2, "Name or service not known"))) == "dns-error"
    assert _connect_reason(chained(OSError(113, "No route to host"))) == "connect-error"


def test_undeclared_html_entities_are_read_as_their_characters():
    doc = (
        b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>"
        b"<item><title>Mosul&nbsp;&mdash; power&hellip; &amp; water</title>"
        b"<link>https://x.example/1</link></item></channel></rss>"
    )
    [entry] = parse(doc).entries
    assert entry["title"] == "Mosul\u00a0\u2014 power\u2026 & water"
