"""Decoding Arabic feeds whatever they declare: the fixtures carry the same three headlines in
every encoding, with true, false or no declarations (no network)."""

from pathlib import Path

import pytest

from rasd.connectors.decode import decode
from rasd.connectors.parse import parse

FIXTURES = Path(__file__).parents[2] / "fixtures" / "feeds"
HEADLINES = [
    "انقطاع التيار الكهربائي عن أحياء واسعة في الموصل بعد عاصفة رملية",
    "الحكومة تعلن خطة لإعادة تأهيل جسر الصرافية في بغداد",
    "ارتفاع منسوب نهر دجلة يثير مخاوف المزارعين في صلاح الدين",
]


def doc(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "encoding", "declared", "warnings"),
    [
        ("nahrain-windows-1256-undeclared.xml", "windows-1256", None, {"encoding-guessed": 1}),
        ("nahrain-iso-8859-6-undeclared.xml", "iso-8859-6", None, {"encoding-guessed": 1}),
        (
            "nahrain-utf8-declared-windows-1256.xml",
            "utf-8",
            "windows-1256",
            {"encoding-mismatch": 1},
        ),
        (
            "nahrain-iso-8859-6-declared-windows-1256.xml",
            "iso-8859-6",
            "windows-1256",
            {"encoding-mismatch": 1},
        ),
        (
            "nahrain-windows-1256-declared-iso-8859-6.xml",
            "windows-1256",
            "iso-8859-6",
            {"encoding-mismatch": 1},
        ),
        ("nahrain-utf8-one-bad-byte.xml", "utf-8", "utf-8", {"replaced-bytes": 1}),
        ("nahrain-utf16le-bom.xml", "utf-16-le", "utf-16", {}),
        ("nahrain-utf16be.xml", "utf-16-be", "utf-16", {}),
        ("nahrain-utf32le-bom.xml", "utf-32-le", "utf-32", {}),
        ("nahrain-utf32be.xml", "utf-32-be", "utf-32", {}),
    ],
)
def test_arabic_text_decodes_whatever_the_declaration(name, encoding, declared, warnings):
    parsed = parse(doc(name))
    assert (parsed.encoding, parsed.declared_encoding, parsed.warnings) == (
        encoding,
        declared,
        warnings,
    )
    assert parsed.title == "وكالة أنباء النهرين"
    assert [e["title"] for e in parsed.entries] == HEADLINES
    assert parsed.degraded == bool(warnings)


def test_one_bad_byte_is_replaced_and_the_rest_kept():
    parsed = parse(doc("nahrain-utf8-one-bad-byte.xml"))
    assert parsed.entries[2]["summary"] == (
        "طالب مزارعون بتعزيز السدود الترابية قبل موسم الأمطار المقبل\ufffd."
    )


def test_a_headline_alone_is_told_apart_by_the_feeds_language():
    # One short headline is too little for the detector alone; the document's <language> or
    # the feed's configured language narrows it to the two legacy Arabic encodings.
    headline = "سقوط صاروخ قرب المطار"
    for encoding in ("windows-1256", "iso-8859-6"):
        body = f"<rss><channel><item><title>{headline}</title></item></channel></rss>"
        decoded = decode(body.encode(encoding), language="ar")
        assert (decoded.encoding, decoded.warnings) == (encoding, {"encoding-guessed": 1})
        assert headline in decoded.text
        body = body.replace("<channel>", "<channel><language>ar-IQ</language>")
        assert decode(body.encode(encoding)).encoding == encoding


@pytest.mark.parametrize(
    "headline",
    ["قصف مدفعي على أطراف المدينة", "عودة النازحين إلى قراهم بعد انتهاء المعارك", "حريق"],
)
def test_with_no_language_known_a_headline_is_still_read_as_arabic(headline):
    # charset-normalizer alone reads some of these as Central European or Thai code pages.
    for encoding in ("windows-1256", "iso-8859-6"):
        body = f"<rss><channel><item><title>{headline}</title></item></channel></rss>"
        decoded = decode(body.encode(encoding))
        assert (decoded.encoding, decoded.warnings) == (encoding, {"encoding-guessed": 1})
        assert headline in decoded.text


def test_a_latin_feed_in_a_legacy_encoding_is_read_by_its_language():
    title = "El niño llegó a España después de una larga travesía"
    body = f"<rss><channel><language>es</language><item><title>{title}</title></item>"
    decoded = decode((body + "</channel></rss>").encode("iso-8859-1"))
    assert (decoded.encoding, decoded.warnings) == ("windows-1252", {"encoding-guessed": 1})
    assert title in decoded.text


def test_the_http_charset_overrides_the_document_and_is_checked_too():
    body = doc("nahrain-windows-1256-undeclared.xml")
    decoded = decode(body, "application/rss+xml; charset=windows-1256")
    assert (decoded.encoding, decoded.declared, decoded.warnings) == (
        "windows-1256",
        "windows-1256",
        {},
    )
    decoded = decode(body, "text/xml; charset=utf-8")
    assert (decoded.encoding, decoded.warnings) == ("windows-1256", {"encoding-mismatch": 1})


def test_a_wrong_server_charset_is_forgiven_when_the_document_declares_right():
    body = doc("nahrain-utf8-one-bad-byte.xml").replace(b"\xff", b"")
    decoded = decode(body, "text/xml; charset=ISO-8859-1")
    assert (decoded.encoding, decoded.declared, decoded.warnings) == ("utf-8", "utf-8", {})
    body = doc("rafidain-ar-iso-8859-6.xml")
    decoded = decode(body, "text/xml; charset=windows-1256")
    assert (decoded.encoding, decoded.declared, decoded.warnings) == (
        "iso-8859-6",
        "iso-8859-6",
        {},
    )
    # With nothing in the document to bear it out, a wrong charset is a mismatch.
    body = doc("nahrain-iso-8859-6-undeclared.xml")
    decoded = decode(body, "text/xml; charset=windows-1256")
    assert (decoded.encoding, decoded.declared, decoded.warnings) == (
        "iso-8859-6",
        "windows-1256",
        {"encoding-mismatch": 1},
    )


def test_plain_ascii_and_utf8_need_no_guess():
    assert decode(b"<rss/>").warnings == {}
    assert decode("<rss>قصف</rss>".encode()).warnings == {}
    # UTF-8 is XML's default: undeclared UTF-8 is not a guess.
    assert decode("<rss>قصف</rss>".encode()).encoding == "utf-8"


def test_an_unknown_declared_encoding_is_warned():
    body = '<?xml version="1.0" encoding="x-no-such"?><rss><t>قصف صاروخي</t></rss>'
    decoded = decode(body.encode("windows-1256"), language="ar")
    assert (decoded.encoding, decoded.warnings) == ("windows-1256", {"encoding-unknown": 1})


def test_ebcdic_declared_documents_decode():
    body = '<?xml version="1.0" encoding="cp500"?><rss version="2.0"><channel><title>Ça va</title>'
    parsed = parse((body + "</channel></rss>").encode("cp500"))
    assert (parsed.encoding, parsed.title, parsed.warnings) == ("cp500", "Ça va", {})


@pytest.mark.parametrize("name", ["nahrain-utf8-one-bad-byte.xml", "nahrain-utf16le-bom.xml"])
def test_a_document_cut_anywhere_never_yields_a_cut_entry(name):
    from rasd.connectors.parse import FeedError

    whole = doc(name)
    outcomes = set()
    for end in range(0, len(whole), 3):
        try:
            parsed = parse(whole[:end])
        except FeedError as exc:
            outcomes.add(exc.reason)
            continue
        outcomes.add(len(parsed.entries))
        for entry in parsed.entries:
            assert entry["title"] in HEADLINES and entry["link"].startswith("https://nahrain")
    assert {"empty-document", "truncated-xml", 1, 2, 3} <= outcomes
