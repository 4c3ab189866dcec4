from __future__ import annotations

import pytest

from rasd.console.highlight import highlight, hit_spans, merge_spans, text_dir
from rasd.models import TermHit

TITLE = "التحالف الدولي يسحب قواته من قاعدة كركوك الجوية"


def hit(text: str, start: int, field="title") -> TermHit:
    return TermHit(term=text, field=field, start=start, end=start + len(text), text=text)


def test_spans_are_clipped_sorted_and_merged():
    assert merge_spans([(5, 9), (0, 2), (1, 3), (8, 12), (20, 30), (4, 4)], 25) == [
        (0, 3),
        (5, 12),
        (20, 25),
    ]


def test_arabic_hits_are_marked_at_their_spans():
    start = TITLE.index("قاعدة")
    html = str(highlight(TITLE, hit_spans(TITLE, "title", [hit("قاعدة", start)])))
    assert html == TITLE[:start] + "<mark>قاعدة</mark>" + TITLE[start + 5 :]


def test_every_piece_is_escaped_and_only_mark_is_markup():
    text = '<script>x</script> قصف <a href="javascript:y">&amp;</a>'
    start = text.index("قصف")
    html = str(highlight(text, [(start, start + 3), (0, 8)]))
    assert html == (
        "<mark>&lt;script&gt;</mark>x&lt;/script&gt; <mark>قصف</mark> "
        "&lt;a href=&#34;javascript:y&#34;&gt;&amp;amp;&lt;/a&gt;"
    )


def test_a_stale_span_falls_back_to_finding_the_hit_text():
    other_article = "قوات التحالف تغادر قاعدة عين الأسد"
    spans = hit_spans(other_article, "title", [hit("قاعدة", 30), hit("قواته", 2, "summary")])
    at = other_article.index("قاعدة")
    assert spans == [(at, at + 5)]


def test_repeated_words_are_all_found():
    text = "base, base and base"
    assert hit_spans(text, "title", [hit("base", 100)]) == [(0, 4), (6, 10), (15, 19)]


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        (TITLE, "ar", "rtl"),
        (TITLE, "en", "rtl"),
        ("Coalition leaves Kirkuk base", "ar", "ltr"),
        ("2026 «" + TITLE, None, "rtl"),
        ("123 !", "ar", "rtl"),
        ("123 !", "en", "auto"),
        ("", None, "auto"),
    ],
)
def test_direction_comes_from_the_letters_then_the_language(text, lang, expected):
    assert text_dir(text, lang) == expected


# A caption in English, then the report in Arabic, flattened into one run as feeds do.
MIXED = (
    "Photo: an aerial view of the base. أعلن التحالف سحب قواته من القاعدة. وقال متحدث إن ذلك مقرر."
)


def test_mixed_summary_is_split_where_the_direction_changes():
    from rasd.console.highlight import paragraphs

    assert [MIXED[s:e] for s, e in paragraphs(MIXED)] == [
        "Photo: an aerial view of the base.",
        "أعلن التحالف سحب قواته من القاعدة. وقال متحدث إن ذلك مقرر.",
    ]


def test_line_breaks_split_and_text_without_letters_joins_its_neighbour():
    from rasd.console.highlight import paragraphs

    text = "قصف. 2024.\nSecond line"
    assert [text[s:e] for s, e in paragraphs(text)] == ["قصف. 2024.", "Second line"]
    assert paragraphs("") == []


def test_hits_are_marked_inside_their_paragraph():
    from rasd.console.highlight import highlight_paragraphs

    at = MIXED.index("القاعدة")
    base = MIXED.index("base")
    html = [str(p) for p in highlight_paragraphs(MIXED, [(base, base + 4), (at, at + 7)])]
    assert html == [
        "Photo: an aerial view of the <mark>base</mark>.",
        "أعلن التحالف سحب قواته من <mark>القاعدة</mark>. وقال متحدث إن ذلك مقرر.",
    ]


def test_history_diff_keeps_markers_at_the_line_start():
    from datetime import UTC, datetime

    from rasd.console.rulefiles import Change
    from rasd.console.views import templates

    diff = "--- a/x.yaml\n+++ b/x.yaml\n@@ -1,2 +1,2 @@\n id: x\n-    - قاعدة\n+    - قاعدة <b>\n"
    change = Change(path="x.yaml", by="dev", at=datetime(2026, 1, 1, tzinfo=UTC), diff=diff)
    html = templates.get_template("rule_history.html").render(
        path="x.yaml", changes=[change], user=None, csp_nonce=""
    )
    assert (
        '<span class="line add"><span class="marker">+</span>'
        '<span class="text" dir="auto">    - قاعدة &lt;b&gt;</span></span>'
    ) in html
    assert '<span class="line del"><span class="marker">-</span>' in html
    assert (
        '<span class="line hdr"><span class="marker"></span>'
        '<span class="text" dir="auto">+++ b/x.yaml</span></span>'
    ) in html
