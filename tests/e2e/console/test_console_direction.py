"""Right-to-left text as the browser lays it out (Debian's chromium): where the History diff's
markers and a line's start land, and a summary that mixes an English caption with Arabic.

The server-side tests check the markup (dir="auto", one paragraph per direction); these check
what a reader sees: boxes and the positions of single characters on the page.
"""

from __future__ import annotations

import pytest
from console_server import fill_editor, publish_alert
from playwright.sync_api import expect
from test_console_browser import log_in

from rasd.models import Alert, Severity, StoryArticle, TermHit

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

# Where character ``index`` of an element's text is drawn: {x, y, right, bottom} of its box.
CHAR_BOX = """(el, index) => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (index < n.length) {
      const range = document.createRange();
      range.setStart(n, index);
      range.setEnd(n, index + 1);
      const r = range.getBoundingClientRect();
      return {x: r.x, y: r.y, right: r.right, bottom: r.bottom};
    }
    index -= n.length;
  }
  return null;
}"""

BOX = """el => { const r = el.getBoundingClientRect();
  return {x: r.x, y: r.y, right: r.right, bottom: r.bottom}; }"""

RULE_BEFORE = """\
id: base-withdrawal
title: Troops withdraw from a base
severity: high
match:
  all:
    - any:
        - انسحاب
        - سحب
    - any: [قاعدة, base]
"""

# A long Arabic comment (it wraps in the diff) and an Arabic list item, both changed.
LONG_COMMENT = (
    "# تنبيه للمحررين: هذه القاعدة تلتقط أخبار انسحاب القوات من القواعد العسكرية في العراق "
    "وسوريا، وتستبعد التمارين المعلنة مسبقا والزيارات الرسمية القصيرة للقادة العسكريين."
)
RULE_AFTER = (
    LONG_COMMENT
    + "\n"
    + RULE_BEFORE.replace("        - سحب\n", "        - سحب القوات\n        - إخلاء\n")
)


def test_history_diff_markers_stay_at_the_line_start(console, browser):
    rule_file = console.settings.rules_dir / "withdrawal.yaml"
    rule_file.write_text(RULE_BEFORE, encoding="utf-8")
    page = browser.new_page()
    page.set_viewport_size({"width": 900, "height": 880})  # narrow: the long comment wraps
    log_in(page, console.url)
    page.goto(f"{console.url}/rules/edit/withdrawal.yaml")
    fill_editor(page, RULE_AFTER)
    expect(page.locator("#rule-ok")).to_have_text("Valid: base-withdrawal")
    page.click("#save")
    expect(page.locator("#save-status")).to_have_text("Saved.")
    assert rule_file.read_text(encoding="utf-8") == RULE_AFTER

    page.click("text=History")
    diff = page.locator("section.change pre.diff").first
    expect(diff.locator(".line.add")).to_have_count(3)
    pre = diff.evaluate(BOX)
    arabic_lines = [
        (diff.locator(".line.add", has_text="تنبيه للمحررين"), LONG_COMMENT, "+"),
        (diff.locator(".line.add", has_text="إخلاء"), "        - إخلاء", "+"),
        (diff.locator(".line.del", has_text="سحب"), "        - سحب", "-"),
    ]
    for line, text, sign in arabic_lines:
        marker, body = line.locator(".marker"), line.locator(".text")
        expect(marker).to_have_text(sign)
        expect(body).to_have_text(text)
        assert body.evaluate("el => getComputedStyle(el).direction") == "rtl", text
        row, mark, words = line.evaluate(BOX), marker.evaluate(BOX), body.evaluate(BOX)
        # The marker is the diff line's first column: at its left edge, on its first row,
        # left of the line's text (the old layout put it at the right end of the line).
        assert abs(mark["x"] - row["x"]) <= 1, (text, mark, row)
        assert abs(mark["y"] - row["y"]) <= 1, (text, mark, row)
        assert mark["right"] <= words["x"] + 1, (text, mark, words)
        # The line's start (its first Arabic letter) is drawn at the right end of its first
        # row, inside the diff's box: not cut off, not pushed past the edge.
        first_letter = next(i for i, ch in enumerate(text) if "\u0600" <= ch <= "\u06ff")
        start = body.evaluate(CHAR_BOX, first_letter)
        assert abs(start["y"] - words["y"]) <= 2, (text, start, words)
        assert pre["x"] <= start["x"] and start["right"] <= pre["right"], (text, start, pre)
        last = body.evaluate(CHAR_BOX, len(text) - 1)
        assert last["x"] < start["x"], (text, last, start)
        assert body.evaluate("el => el.scrollWidth <= el.clientWidth"), text

    # The long comment wraps onto more rows inside the box rather than running off its start.
    comment_line = arabic_lines[0][0]
    one_row = comment_line.locator(".marker").evaluate(CHAR_BOX, 0)
    comment = comment_line.locator(".text").evaluate(BOX)
    assert comment["bottom"] - comment["y"] > 1.5 * (one_row["bottom"] - one_row["y"])
    assert pre["x"] <= comment["x"] and comment["right"] <= pre["right"]
    assert diff.evaluate("el => el.scrollWidth <= el.clientWidth")
    # One row after the other, no blank row between two lines of the diff.
    rows = diff.locator(".line").evaluate_all(
        "lines => lines.map(l => [l.getBoundingClientRect().top, l.getBoundingClientRect().bottom])"
    )
    gaps = [round(below[0] - above[1], 1) for above, below in zip(rows, rows[1:], strict=False)]
    assert set(gaps) == {0}, gaps


# An English photo caption, then the Arabic report, flattened into one run as feeds send it.
CAPTION = "Photo: coalition vehicles leave the base at dawn."
REPORT = "أعلن التحالف سحب قواته من القاعدة الجوية بعد مفاوضات استمرت أسابيع."
SUMMARY = f"{CAPTION} {REPORT}"


def mixed_alert() -> Alert:
    at = SUMMARY.index("القاعدة")
    return Alert(
        key="mixed-summary",
        kind="match",
        severity=Severity.high,
        rule="base-withdrawal",
        title="التحالف ينسحب من القاعدة الجوية",
        terms=(TermHit(term="قاعدة", field="summary", start=at, end=at + 7, text="القاعدة"),),
        articles=(
            StoryArticle(
                article_id="mixed-1",
                outlet="مكتب الأخبار",
                title="التحالف ينسحب من القاعدة الجوية",
                summary=SUMMARY,
                lang="ar",
            ),
        ),
    )


def test_mixed_summary_is_laid_out_per_paragraph(console, browser):
    publish_alert(console.settings, mixed_alert())
    page = browser.new_page()
    log_in(page, console.url)
    page.goto(f"{console.url}/alerts/mixed-summary")
    paragraphs = page.locator(".story-article .summary-text p")
    expect(paragraphs).to_have_text([CAPTION, REPORT])
    caption, report = paragraphs.nth(0), paragraphs.nth(1)
    expect(report.locator("mark")).to_have_text("القاعدة")

    assert caption.evaluate("el => getComputedStyle(el).direction") == "ltr"
    box = caption.evaluate(BOX)
    first, stop = caption.evaluate(CHAR_BOX, 0), caption.evaluate(CHAR_BOX, len(CAPTION) - 1)
    assert CAPTION.endswith(".")
    assert abs(first["x"] - box["x"]) <= 1, (first, box)
    assert stop["x"] > first["x"], (stop, first)

    assert report.evaluate("el => getComputedStyle(el).direction") == "rtl"
    box = report.evaluate(BOX)
    first, stop = report.evaluate(CHAR_BOX, 0), report.evaluate(CHAR_BOX, len(REPORT) - 1)
    assert REPORT.endswith(".")
    # Right to left: the report starts at the paragraph's right edge and its full stop ends
    # it on the left, after the last word, not at the right beside the first one.
    assert abs(first["right"] - box["right"]) <= 1, (first, box)
    before_stop = report.evaluate(CHAR_BOX, len(REPORT) - 2)
    assert abs(stop["y"] - before_stop["y"]) <= 2, (stop, before_stop)
    assert stop["right"] <= before_stop["x"] + 1, (stop, before_stop)
    assert stop["x"] < first["x"], (stop, first)
