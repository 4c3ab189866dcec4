"""Article building: ids from canonical URLs, HTML stripped, dates in UTC, language, caps."""

import time
from datetime import UTC, datetime, timedelta

from rasd.connectors.articles import (
    MAX_SUMMARY,
    MAX_TITLE,
    Source,
    article_id,
    build_articles,
    canonical_url,
    strip_html,
)
from rasd.text.language import script_language

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SOURCE = Source("desk", "Desk")


def test_tracking_parameters_and_fragment_do_not_change_the_id():
    plain = "https://www.aljazeera.net/news/2026/11/24/kirkuk?id=7"
    for variant in (
        "https://WWW.Aljazeera.net:443/news/2026/11/24/kirkuk?utm_source=rss&id=7#comments",
        "http://www.aljazeera.net/news/2026/11/24/kirkuk?id=7&fbclid=IwAR&gclid=1&utm_medium=x",
    ):
        assert article_id(variant, "a", None) == article_id(plain, "b", None)
    assert (
        canonical_url("https://x.example/a?b=1&utm_campaign=z&a=2") == "https://x.example/a?b=1&a=2"
    )
    assert article_id(plain + "8", "a", None) != article_id(plain, "a", None)


def test_without_url_the_id_is_feed_and_guid():
    assert article_id(None, "bbc-ar", "g-1") == article_id(None, "bbc-ar", "g-1")
    assert article_id(None, "bbc-ar", "g-1") != article_id(None, "rudaw-ar", "g-1")


def test_strip_html_drops_tags_scripts_and_decodes_entities():
    html = '<p>قصف <b>صاروخي</b>&nbsp;على <a href="x">القاعدة</a></p><script>alert(1)</script>'
    assert strip_html(html) == "قصف صاروخي على القاعدة"
    assert strip_html("Troops &amp; tanks") == "Troops & tanks"
    assert strip_html("<p>" + "ا" * 50 + "</p>", 10) == "ا" * 10


def test_script_language():
    assert script_language("انسحاب القوات من قاعدة كركوك") == "ar"
    assert script_language("Coalition leaves Kirkuk base") == "en"
    assert script_language("2026 - 11") is None


def entry(**fields):
    return {"title": "خبر", "link": "https://desk.example/1", **fields}


def test_dates_are_utc_and_future_dates_clamped():
    # feedparser gives UTC struct_time; 09:30 UTC.
    published = time.strptime("2026-11-24 09:30", "%Y-%m-%d %H:%M")
    future = time.strptime("2031-01-01 00:00", "%Y-%m-%d %H:%M")
    articles, issues = build_articles(
        [
            entry(published_parsed=published),
            entry(link="https://desk.example/2", updated_parsed=future),
            entry(link="https://desk.example/3"),
        ],
        SOURCE,
        NOW,
        timedelta(minutes=10),
    )
    assert [a.published_at for a in articles] == [NOW.replace(hour=9, minute=30), NOW, None]
    assert issues.as_dict() == {"future-date": 1, "missing-date": 1}


def test_language_entry_then_document_then_config_unless_the_script_disagrees():
    ar, en = "قصف صاروخي", "Rocket attack"
    doc = Source("d", "D", lang="en", document_lang="ar")
    assert build_articles([entry(title=ar)], doc, NOW)[0][0].lang == "ar"
    # A declared language whose script the text is not in yields to the script.
    assert build_articles([entry(title=en)], doc, NOW)[0][0].lang == "en"
    assert build_articles([entry(title=ar)], Source("d", "D", lang="en"), NOW)[0][0].lang == "ar"
    kurdish = Source("d", "D", lang="ckb")
    assert build_articles([entry(title=ar)], kurdish, NOW)[0][0].lang == "ckb"
    assert build_articles([entry(title=en)], Source("d", "D", lang="en"), NOW)[0][0].lang == "en"
    assert build_articles([entry(title=ar)], SOURCE, NOW)[0][0].lang == "ar"
    assert build_articles([entry(title=en)], SOURCE, NOW)[0][0].lang == "en"
    tagged = entry(title=en, title_detail={"language": "fr-FR"})
    assert build_articles([tagged], doc, NOW)[0][0].lang == "fr"


def test_the_title_decides_over_a_summary_that_starts_with_an_english_caption():
    # The seed article's shape: an Arabic headline, a summary led by a long English photo
    # caption, in a feed declared English.
    caption = (
        "US soldiers stand guard at the K1 air base in Kirkuk province, northern Iraq, "
        "in a photograph taken in 2019 and released by the coalition press office. "
    )
    item = entry(
        title="التحالف الدولي يسحب قواته من قاعدة كركوك",
        summary=caption + "أعلن التحالف سحب قواته",
    )
    assert build_articles([item], Source("d", "D", lang="en"), NOW)[0][0].lang == "ar"
    # With no letters in the title, the summary decides.
    bare = entry(title="2026", summary=caption)
    assert build_articles([bare], Source("d", "D", lang="ar"), NOW)[0][0].lang == "en"


def test_sizes_are_capped_and_empty_entries_skipped():
    huge = entry(title="ع" * 5000, summary="<p>" + "x " * 10000 + "</p>")
    articles, issues = build_articles([huge, {"link": "https://desk.example/empty"}], SOURCE, NOW)
    [article] = articles
    assert len(article.title) == MAX_TITLE and len(article.summary) <= MAX_SUMMARY
    assert issues.untitled == 1


def test_non_http_links_are_not_urls():
    [article], _ = build_articles([entry(link="javascript:alert(1)", id="g1")], SOURCE, NOW)
    assert article.url is None and article.id == article_id(None, "desk", "g1")
