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
        ("truncated.xml", "truncated-xml"),  # cut inside its first entry: nothing to keep
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
    decoded = decode(doc("rafidain-ar-windows-1256.xml"))
    assert decoded.encoding == "windows-1256" and "قاعدة عين الأسد" in decoded.text
    assert decoded.warnings == {}
    body = doc("rafidain-ar-iso-8859-6.xml").split(b"?>", 1)[1]
    decoded = decode(body, "application/rss+xml; charset=ISO-8859-6")
    assert (decoded.encoding, decoded.warnings) == ("iso-8859-6", {})
    assert "هطول أمطار" in decoded.text
    decoded = decode("<rss>قصف</rss>".encode("utf-8-sig"))
    assert (decoded.text, decoded.encoding, decoded.warnings) == ("<rss>قصف</rss>", "utf-8", {})


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


def test_rss_091_with_the_netscape_doctype_and_html_entities():
    parsed = parse(doc("courrier-rss091-netscape.xml"))
    assert (parsed.encoding, parsed.lang, parsed.warnings) == ("iso-8859-1", "fr", {})
    assert parsed.entries[0]["title"] == (
        "Élections provinciales\u00a0: la participation dépasse les prévisions"
    )
    assert parsed.entries[1]["title"] == "Réouverture du musée de Mossoul après restauration"


def test_control_characters_are_dropped_with_a_warning():
    parsed = parse(doc("nahrain-control-chars.xml"))
    assert parsed.warnings == {"control-chars": 2} and parsed.degraded
    assert parsed.entries[0]["title"].endswith("بعد عاصفة رملية")
    assert parsed.entries[1]["summary"] == (
        "تشمل الخطة تقوية الأعمدة وتوسيع الممرات وتستمر ثمانية أشهر."
    )
    # References to characters XML forbids are dropped the same way.
    ref = b"<rss version='2.0'><channel><item><title>a&#0;b&#x1F;c</title></item></channel></rss>"
    parsed = parse(ref)
    assert (parsed.entries[0]["title"], parsed.warnings) == ("abc", {"control-chars": 2})


@pytest.mark.parametrize("body", [b"", b"  \r\n\t ", b"\xef\xbb\xbf", b"<?xml version='1.0'?>\n"])
def test_an_empty_document_is_not_a_truncated_one(body):
    with pytest.raises(FeedError) as info:
        parse(body)
    assert info.value.reason == "empty-document"


def test_a_cut_document_keeps_the_entries_that_ended_before_the_cut():
    parsed = parse(doc("nahrain-truncated-in-third-item.xml"))
    assert [e["link"] for e in parsed.entries] == [
        "https://nahrain.example.iq/news/power-cut-mosul",
        "https://nahrain.example.iq/news/sarafiya-bridge",
    ]
    assert parsed.warnings == {"truncated": 1} and parsed.degraded
    # A document cut only in its closing tags loses nothing.
    whole = doc("nahrain-utf8-one-bad-byte.xml").replace(b"\xff", b"")
    parsed = parse(whole[: whole.rindex(b"</channel>") + 4])
    assert len(parsed.entries) == 3 and parsed.warnings == {"truncated": 1}


def test_a_document_cut_inside_its_first_entry_says_so():
    with pytest.raises(FeedError) as info:
        parse(doc("truncated.xml"))
    assert info.value.reason == "truncated-xml"
    assert "cut inside the first entry" in info.value.detail


def test_ill_formed_documents_say_why_and_where():
    with pytest.raises(FeedError) as info:
        parse(doc("invalid.xml"))
    assert info.value.detail == "mismatched tag: line 3, column 31"


def test_bare_ampersands_and_unknown_entities_are_text():
    body = (
        b"<rss version='2.0'><channel><item><title>AT&T &unknown; &#X41;</title>"
        b"<link>https://x.example/?a=1&b=2</link></item></channel></rss>"
    )
    [entry] = parse(body).entries
    assert (entry["title"], entry["link"]) == ("AT&T &unknown; A", "https://x.example/?a=1&b=2")
    assert parse(body).warnings == {"bare-ampersand": 3}
    assert not parse(body).degraded


def test_entities_in_cdata_and_comments_stay_as_written():
    body = (
        b"<rss version='2.0'><channel><!-- a -- comment &eacute; -->"
        b"<item><title><![CDATA[caf&eacute; & co]]></title></item></channel></rss>"
    )
    assert parse(body).entries[0]["title"] == "caf&eacute; & co"


def test_an_undeclared_namespace_prefix_is_declared():
    body = (
        b"<rss version='2.0'><channel><item><title>T</title>"
        b"<media:thumbnail url='https://x.example/a.jpg'/><dc:creator>Rudaw</dc:creator>"
        b"</item></channel></rss>"
    )
    parsed = parse(body)
    assert parsed.warnings == {"undeclared-prefix": 2}
    assert parsed.entries[0]["author"] == "Rudaw"
    assert parsed.entries[0]["media_thumbnail"][0]["url"] == "https://x.example/a.jpg"


def test_doctype_entities_with_plain_values_are_expanded():
    body = (
        b'<!DOCTYPE rss [<!ENTITY outlet "Rudaw &#8212; Erbil"> <!ENTITY id "tag:r,">]>'
        b"<rss version='2.0'><channel><item><title>&outlet;</title><guid>&id;1</guid>"
        b"</item></channel></rss>"
    )
    [entry] = parse(body).entries
    assert (entry["title"], entry["id"]) == ("Rudaw \u2014 Erbil", "tag:r,1")


def test_external_entity_sets_in_a_doctype_are_never_read(tmp_path):
    secret = tmp_path / "secret.ent"
    secret.write_text('<!ENTITY leak "LEAKED">')
    body = (
        f'<!DOCTYPE rss [<!ENTITY % set SYSTEM "{secret.as_uri()}"> %set;]>'
        "<rss version='2.0'><channel><item><title>&leak; &eacute;</title></item></channel></rss>"
    ).encode()
    [entry] = parse(body).entries
    assert entry["title"] == "&leak; é"


def test_doctype_entity_expansion_is_capped():
    # Linear, not exponential (no entity refers to another), and still capped: entity values
    # may not more than double the document.
    value = "x" * 1000
    body = (
        f'<!DOCTYPE rss [<!ENTITY big "{value}">]><rss><channel><title>'
        + "&big;" * 100
        + "</title></channel></rss>"
    ).encode()
    with pytest.raises(FeedError) as info:
        parse(body)
    assert info.value.reason == "xml-entities-forbidden"


def test_other_doctype_declarations_are_left_to_defusedxml():
    nested = (
        b'<!DOCTYPE rss [<!ENTITY a "x"><!ENTITY b "&a;&a;">]><rss><channel><title>&b;'
        b"</title></channel></rss>"
    )
    with pytest.raises(FeedError) as info:
        parse(nested)
    assert info.value.reason == "xml-entities-forbidden"
