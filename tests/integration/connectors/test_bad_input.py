"""Every kind of bad answer a feed can give: a clear health entry and a metric for that feed,
no crash, and the good feed polled alongside it is unaffected."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.integration.connectors.conftest import (
    FIXTURES,
    Running,
    closed_port,
    feeds_config,
    health,
    read_articles,
)

pytestmark = pytest.mark.integration


def errors(feed: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "rasd_connector_fetch_errors_total", {"feed": feed, "reason": reason}
    )
    return value or 0.0


def fetches(feed: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "rasd_connector_fetches_total", {"feed": feed, "outcome": outcome}
    )
    return value or 0.0


def issues(feed: str, issue: str) -> float:
    value = REGISTRY.get_sample_value(
        "rasd_connector_entry_issues_total", {"feed": feed, "issue": issue}
    )
    return value or 0.0


FAILURES = [
    ("html-page", "/feed/html-page.html", "not-a-feed", 200),
    ("invalid-xml", "/feed/invalid.xml", "invalid-xml", 200),
    ("truncated-xml", "/feed/truncated.xml", "truncated-xml", 200),
    ("entity-bomb", "/feed/entity-bomb.xml", "xml-entities-forbidden", 200),
    ("over-cap", "/big", "too-large", 200),
    ("gzip-bomb", "/gzip-bomb", "too-large", 200),
    ("not-found", "/status/404", "http-error", 404),
    ("server-error", "/status/500", "http-error", 500),
    ("timeout", "/slow", "timeout", None),
    ("redirect-loop", "/loop/0", "redirect-loop", None),
]


@pytest.mark.parametrize(
    ("name", "path", "reason", "status"), FAILURES, ids=[f[0] for f in FAILURES]
)
async def test_bad_feed_gets_health_and_metric_and_spares_the_others(
    settings, feed_server, name, path, reason, status
):
    config = feeds_config(
        [(name, feed_server.url(path)), ("good", feed_server.url("/feed/gulfwire-en.atom"))]
    )
    before = errors(name, reason)
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)
    bad, good = h[name], h["good"]
    assert bad.status == "error"
    assert bad.error_reason == reason
    assert bad.error_detail
    assert bad.http_status == status
    assert bad.consecutive_failures == 1
    assert bad.last_error is not None and bad.last_success is None
    assert bad.next_poll is not None
    assert errors(name, reason) == before + 1
    assert good.status == "ok" and good.items_new == 2
    assert {a.feed for _, a in read_articles(settings)} == {"good"}


async def test_connection_refused(settings, feed_server):
    url = f"http://127.0.0.1:{closed_port()}/rss"
    config = feeds_config([("refused", url), ("good", feed_server.url("/feed/gulfwire-en.atom"))])
    before = errors("refused", "connect-refused")
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)
    assert h["refused"].status == "error"
    assert h["refused"].error_reason == "connect-refused"
    assert errors("refused", "connect-refused") == before + 1
    assert h["good"].status == "ok"


async def test_failures_back_off_exponentially(settings, feed_server):
    config = feeds_config([("down", feed_server.url("/status/503"))], max_backoff=3600)
    async with Running(settings, config) as connector:
        delays = [await connector.poll(config.feeds[0]) for _ in range(3)]
    assert health(settings)["down"].consecutive_failures == 3
    # interval 1 s, jitter +-10%: about 2, 4, 8 seconds.
    assert 1.8 <= delays[0] <= 2.2 and 3.6 <= delays[1] <= 4.4 and 7.2 <= delays[2] <= 8.8


async def test_empty_feed_is_ok_with_a_warning(settings, feed_server):
    config = feeds_config([("quiet", feed_server.url("/feed/empty.xml"))])
    before = issues("quiet", "empty-feed")
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)["quiet"]
    assert h.status == "ok" and h.items_seen == 0 and h.warnings == "empty-feed=1"
    assert issues("quiet", "empty-feed") == before + 1


async def test_missing_and_future_dates(settings, feed_server):
    config = feeds_config([("clockless", feed_server.url("/feed/dates.xml"))])
    before = issues("clockless", "future-date"), issues("clockless", "missing-date")
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)["clockless"]
    assert h.status == "ok" and h.items_new == 3
    assert h.warnings == "future-date=1, missing-date=1"
    assert (issues("clockless", "future-date"), issues("clockless", "missing-date")) == (
        before[0] + 1,
        before[1] + 1,
    )
    by_url = {a.url: a for _, a in read_articles(settings)}
    assert by_url["https://clockless.example/rabia-crossing"].published_at is None
    future = by_url["https://clockless.example/election-results"]
    assert future.published_at == future.fetched_at
    assert by_url["https://clockless.example/mosul-power"].published_at.isoformat() == (
        "2026-11-23T12:00:00+00:00"
    )


async def test_duplicate_guids_are_produced_once(settings, feed_server):
    config = feeds_config([("echo", feed_server.url("/feed/duplicates.xml"))])
    before = issues("echo", "duplicate-guid")
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)["echo"]
    assert h.items_seen == 3 and h.items_new == 2 and h.warnings == "duplicate-guid=1"
    assert issues("echo", "duplicate-guid") == before + 1
    titles = sorted(a.title for _, a in read_articles(settings))
    assert titles == ["افتتاح معرض بغداد الدولي للكتاب", "وزير الخارجية يزور طهران لبحث التهدئة"]


async def test_windows_1256_and_iso_8859_6_arabic(settings, feed_server):
    config = feeds_config(
        [
            ("win", feed_server.url("/feed/rafidain-ar-windows-1256.xml")),
            ("iso", feed_server.url("/iso-header")),
        ]
    )
    before = fetches("win", "ok")
    async with Running(settings, config) as connector:
        await connector.poll_once()
    assert fetches("win", "ok") == before + 1
    h = health(settings)
    assert (h["win"].status, h["win"].encoding) == ("ok", "windows-1256")
    assert (h["iso"].status, h["iso"].encoding) == ("ok", "iso-8859-6")
    titles = {(a.feed, a.title, a.lang) for _, a in read_articles(settings)}
    assert ("win", "انسحاب القوات من قاعدة عين الأسد في الأنبار", "ar") in titles
    assert ("iso", "هطول أمطار غزيرة على بغداد والمحافظات الجنوبية", "ar") in titles


async def test_conditional_get_sends_etag_back(settings, feed_server):
    config = feeds_config([("etag", feed_server.url("/etag"))])
    async with Running(settings, config) as connector:
        await connector.poll_once()
        await connector.poll_once()
    assert feed_server.conditional_hits == 1
    h = health(settings)["etag"]
    assert (h.status, h.http_status, h.items_new, h.items_total) == ("not-modified", 304, 0, 2)


async def test_gzip_feed(settings, feed_server):
    config = feeds_config([("zipped", feed_server.url("/gzip/seed-aljazeera-ar.xml"))])
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)["zipped"]
    assert (h.status, h.items_new) == ("ok", 3)
    assert h.bytes == len((FIXTURES / "seed-aljazeera-ar.xml").read_bytes())


async def test_per_host_limit(settings, feed_server):
    config = feeds_config([(f"p{i}", feed_server.url(f"/paced/{i}")) for i in range(6)], per_host=2)
    async with Running(settings, config) as connector:
        await connector.poll_once()
    # At most two at once (how many overlap below that depends on the machine's load).
    assert 1 <= feed_server.max_in_flight <= 2
    assert all(h.status == "ok" for h in health(settings).values())


def document_warnings(feed: str, warning: str) -> float:
    value = REGISTRY.get_sample_value(
        "rasd_connector_document_warnings_total", {"feed": feed, "warning": warning}
    )
    return value or 0.0


NAHRAIN = {
    "انقطاع التيار الكهربائي عن أحياء واسعة في الموصل بعد عاصفة رملية",
    "الحكومة تعلن خطة لإعادة تأهيل جسر الصرافية في بغداد",
    "ارتفاع منسوب نهر دجلة يثير مخاوف المزارعين في صلاح الدين",
}
DECODING = [
    # (feed, fixture, status, encoding, declared, warnings)
    ("w1256-bare", "nahrain-windows-1256-undeclared.xml", "degraded", "windows-1256", None,
     "encoding-guessed=1"),
    ("iso-bare", "nahrain-iso-8859-6-undeclared.xml", "degraded", "iso-8859-6", None,
     "encoding-guessed=1"),
    ("utf8-as-1256", "nahrain-utf8-declared-windows-1256.xml", "degraded", "utf-8",
     "windows-1256", "encoding-mismatch=1"),
    ("iso-as-1256", "nahrain-iso-8859-6-declared-windows-1256.xml", "degraded", "iso-8859-6",
     "windows-1256", "encoding-mismatch=1"),
    ("bad-byte", "nahrain-utf8-one-bad-byte.xml", "degraded", "utf-8", "utf-8",
     "replaced-bytes=1"),
    ("nul", "nahrain-control-chars.xml", "degraded", "utf-8", "utf-8", "control-chars=2"),
    ("utf16", "nahrain-utf16le-bom.xml", "ok", "utf-16-le", "utf-16", None),
    ("utf32", "nahrain-utf32be.xml", "ok", "utf-32-be", "utf-32", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fixture", "status", "encoding", "declared", "warnings"),
    DECODING,
    ids=[d[0] for d in DECODING],
)
async def test_arabic_feeds_decode_and_health_says_how(
    settings, feed_server, name, fixture, status, encoding, declared, warnings
):
    config = feeds_config([(name, feed_server.url(f"/feed/{fixture}"))])
    expected = dict(w.split("=") for w in warnings.split(", ")) if warnings else {}
    before = {kind: document_warnings(name, kind) for kind in expected}
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)[name]
    assert (h.status, h.encoding, h.declared_encoding, h.warnings) == (
        status,
        encoding,
        declared,
        warnings,
    )
    assert h.items_new == 3 and h.error_reason is None
    assert {kind: document_warnings(name, kind) - before[kind] for kind in expected} == {
        kind: float(count) for kind, count in expected.items()
    }
    assert {a.title for _, a in read_articles(settings)} == NAHRAIN
    assert {a.lang for _, a in read_articles(settings)} == {"ar"}


async def test_rss_091_with_netscape_doctype_and_html_entities(settings, feed_server):
    config = feeds_config([("courrier", feed_server.url("/feed/courrier-rss091-netscape.xml"))])
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)["courrier"]
    # RSS 0.91 items have no dates: an entry issue, not a degraded document.
    assert (h.status, h.items_new, h.encoding) == ("ok", 2, "iso-8859-1")
    assert h.warnings == "missing-date=2"
    titles = {a.title for _, a in read_articles(settings)}
    assert "Réouverture du musée de Mossoul après restauration" in titles


async def test_a_cut_feed_delivers_its_whole_entries_and_says_it_was_cut(settings, feed_server):
    config = feeds_config([("cut", feed_server.url("/feed/nahrain-truncated-in-third-item.xml"))])
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)["cut"]
    assert (h.status, h.items_seen, h.items_new, h.warnings) == ("degraded", 2, 2, "truncated=1")
    assert len(read_articles(settings)) == 2


@pytest.mark.parametrize("code", [200, 204])
async def test_an_empty_answer_is_an_empty_document(settings, feed_server, code):
    name = f"empty-{code}"
    config = feeds_config([(name, feed_server.url(f"/empty/{code}"))])
    before = errors(name, "empty-document")
    async with Running(settings, config) as connector:
        await connector.poll_once()
    h = health(settings)[name]
    assert (h.status, h.error_reason, h.http_status) == ("error", "empty-document", code)
    assert h.error_detail == "no content (0 bytes)"
    assert errors(name, "empty-document") == before + 1


async def test_a_degraded_feed_stays_degraded_while_unchanged(settings, feed_server):
    url = feed_server.url("/etag/nahrain-iso-8859-6-undeclared.xml")
    config = feeds_config([("guess", url)])
    before = fetches("guess", "not-modified")
    async with Running(settings, config) as connector:
        await connector.poll_once()
        await connector.poll_once()
    h = health(settings)["guess"]
    assert (h.status, h.http_status, h.warnings) == ("degraded", 304, "encoding-guessed=1")
    assert fetches("guess", "not-modified") == before + 1
