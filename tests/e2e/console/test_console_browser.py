"""The console in a real browser: log in, watch an alert arrive, read it, edit a rule.

The last test runs the whole pipeline into the browser: a fixture feed is ingested, a real
`rasd worker` matches it and writes the alert, and the console shows it live.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from console_server import (
    PASSWORD,
    USER,
    WITHDRAWAL_RULE,
    alert_for,
    fill_editor,
    ingest_feed,
    publish_alert,
)
from integration.streams.streams_harness import Worker, produce
from playwright.sync_api import expect

from rasd.models import Alert, Article, Severity, StoryArticle
from rasd.rules import Matcher, parse_rules

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

FEED = Path(__file__).parent / "fixtures" / "desk.rss"


def log_in(page, url: str) -> None:
    page.goto(f"{url}/alerts")
    expect(page).to_have_url(f"{url}/login?next=/alerts")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{url}/alerts")


def test_wrong_password_is_refused(console, browser):
    page = browser.new_page()
    page.goto(f"{console.url}/login")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_have_text("Wrong username or password.")
    page.goto(f"{console.url}/rules")
    expect(page).to_have_url(f"{console.url}/login?next=/rules")


def test_alert_arrives_live_and_shows_arabic_highlighted_rtl(console, browser):
    articles = ingest_feed(console.settings, FEED)
    matcher = Matcher(parse_rules(WITHDRAWAL_RULE, "withdrawal.yaml").rules)
    arabic = next(a for a in articles if a.lang == "ar" and matcher.match(a))
    alert = alert_for(arabic, matcher.match(arabic)[0])

    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, console.url)
    expect(page.locator("#live-status")).to_have_text("live")
    expect(page.locator("tr.alert")).to_have_count(0)

    publish_alert(console.settings, alert)

    row = page.locator(f'tr.alert[data-key="{alert.key}"]')
    expect(row).to_be_visible(timeout=15_000)
    expect(row.locator("td.title a")).to_have_text(arabic.title)
    expect(row.locator("td.title a")).to_have_attribute("dir", "rtl")

    row.locator("td.title a").click()
    headline = page.locator(".story-article .headline").first
    expect(headline).to_have_attribute("dir", "rtl")
    assert headline.evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(headline).to_have_text(arabic.title)
    marked = headline.locator("mark").all_inner_texts()
    title_hits = sorted((h for h in alert.terms if h.field == "title"), key=lambda h: h.start)
    assert marked == [h.text for h in title_hits]
    assert "قاعدة" in marked

    page.click("#ack")
    expect(page.locator("#ack-state")).to_contain_text(f"by {USER}")
    assert dialogs == []


def editor_text(page) -> str:
    """The rule editor's document, line by line as CodeMirror renders it."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#rule-code .cm-line'),"
        " l => l.textContent).join('\\n')"
    )


def test_rule_edit_error_fix_dry_run_save(console, browser):
    ingest_feed(console.settings, FEED)
    rule_file = console.settings.rules_dir / "withdrawal.yaml"
    rule_file.write_text(WITHDRAWAL_RULE, encoding="utf-8")

    page = browser.new_page()
    page_errors = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    # Script errors and CSP refusals (the editor's styles need the page's nonce).
    page.on("console", lambda m: "Content Security Policy" in m.text and page_errors.append(m.text))
    log_in(page, console.url)
    page.click("text=Rules")
    expect(page.locator('tr[data-rule="base-withdrawal"]')).to_be_visible()
    page.click('tr[data-rule="base-withdrawal"] >> text=Edit')
    code = page.locator("#rule-code")
    expect(code.locator('.cm-lineNumbers .cm-gutterElement:text-is("9")')).to_be_visible()
    assert editor_text(page) == WITHDRAWAL_RULE.rstrip("\n") + "\n"
    expect(page.locator("#rule-text")).to_be_hidden()
    # YAML highlighting: keys and values are styled apart.
    assert code.locator(".cm-line").first.locator("span").count() >= 1

    broken = WITHDRAWAL_RULE.replace("severity: high", "severity: hgh")
    fill_editor(page, broken)
    # The check's error, inline at its place and in the gutter of its line ...
    marked = code.locator(".cm-lintRange-error")
    expect(marked).to_have_count(1)
    expect(marked).to_have_text("hgh")
    expect(code.locator(".cm-line").nth(2).locator(".cm-lintRange-error")).to_have_text("hgh")
    expect(code.locator(".cm-gutter-lint .cm-lint-marker-error")).to_have_count(1)
    # ... and in the list beside the editor.
    error = page.locator("#rule-errors li")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("line 3, column 11")
    expect(error).to_contain_text("severity")
    page.click("#save")
    expect(page.locator("#save-status")).to_have_text("Not saved: fix the errors.")
    assert rule_file.read_text(encoding="utf-8") == WITHDRAWAL_RULE

    # Clicking the error puts the cursor on it: what is typed next replaces the bad value.
    error.click()
    for _ in "hgh":
        page.keyboard.press("Delete")
    page.keyboard.type("critical")
    page.keyboard.press("Escape")  # closes the value completion the typing opened
    fixed = WITHDRAWAL_RULE.replace("severity: high", "severity: critical")
    expect(marked).to_have_count(0)
    expect(error).to_have_count(0)
    expect(page.locator("#rule-ok")).to_have_text("Valid: base-withdrawal")
    assert editor_text(page) == fixed.rstrip("\n") + "\n"

    page.fill("#dry-run-n", "50")
    page.click("#dry-run")
    result = page.locator("#dry-run-result")
    expect(result.locator(".summary")).to_contain_text(
        # The dry run reads the topic from Kafka: slower when the machine is busy.
        "2 matches in the last 3 articles",
        timeout=20_000,
    )
    arabic = result.locator('.headline[dir="rtl"]')
    expect(arabic).to_have_count(1)
    assert "قاعدة" in arabic.locator("mark").all_inner_texts()
    english = result.locator('.headline[dir="ltr"]')
    expect(english).to_have_text("Coalition troops withdraw from Kirkuk air base")
    assert english.locator("mark").all_inner_texts() == ["withdraw", "base"]

    page.click("#save")
    expect(page.locator("#save-status")).to_have_text("Saved.")
    assert rule_file.read_text(encoding="utf-8") == fixed

    page.click("text=History")
    change = page.locator("section.change").first
    expect(change.locator("h2")).to_contain_text(f"by {USER}")
    expect(change.locator(".diff .add")).to_contain_text(["+severity: critical"])
    expect(change.locator(".diff .del")).to_contain_text(["-severity: high"])
    assert page_errors == []


def test_rule_editor_keeps_arabic_terms_in_yaml_order(console, browser):
    (console.settings.rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    page = browser.new_page()
    log_in(page, console.url)
    page.goto(f"{console.url}/rules/edit/withdrawal.yaml")
    line = page.locator("#rule-code .cm-line", has_text="withdraw]")
    terms = line.locator(".cm-rtl")
    expect(terms).to_have_text(["انسحاب", "سحب"])
    assert terms.first.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert terms.first.evaluate("el => getComputedStyle(el).unicodeBidi") == "isolate"
    # Left to right as the YAML list reads: without isolation the browser would put the two
    # Arabic terms (and the comma between them) into one right-to-left run, the first term
    # on the right.
    first, second = (terms.nth(i).bounding_box() for i in range(2))
    english = page.evaluate(
        """() => {
          const line = Array.from(document.querySelectorAll('#rule-code .cm-line'))
            .find(l => l.textContent.includes('withdraw]'));
          const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const at = n.textContent.indexOf('withdraw');
            if (at >= 0) {
              const range = document.createRange();
              range.setStart(n, at);
              range.setEnd(n, at + 8);
              return range.getBoundingClientRect().x;
            }
          }
          return null;
        }"""
    )
    assert first["x"] + first["width"] <= second["x"] + 1
    assert second["x"] + second["width"] <= english + 1


def test_rule_editor_completes_schema_keys(console, browser):
    page = browser.new_page()
    log_in(page, console.url)
    page.goto(f"{console.url}/rules/new?path=draft.yaml")
    fill_editor(page, "id: draft\nsev")
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+Space")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.first).to_have_text("severity")
    # Clicked: Enter right after the list opens is ignored by design (interactionDelay).
    options.first.click()
    assert editor_text(page) == "id: draft\nseverity: "
    page.keyboard.press("Control+Space")  # the value: the schema's severities
    expect(options).to_have_text(["critical", "high", "info", "low", "medium"], timeout=5000)
    page.keyboard.press("Escape")
    # Nested keys: under match, the condition's keys; keys already written are not offered.
    fill_editor(page, "id: draft\nseverity: low\nmatch:\n  any: [a]\n  ")
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+Space")
    expect(options).to_have_text(["all", "near", "none"])
    options.first.click()
    assert editor_text(page).endswith("\n  all: ")


def test_hostile_feed_text_stays_text_in_the_browser(console, browser):
    title = '<img src=x onerror="alert(1)"><script>alert(2)</script> قصف صاروخي'
    alert = Alert(
        key="hostile",
        kind="match",
        severity=Severity.critical,
        rule="rocket-attack",
        title=title,
        articles=(
            StoryArticle(
                article_id="h1",
                outlet='<b onmouseover="alert(3)">x</b>',
                title=title,
                url="javascript:alert(4)",
                lang="ar",
            ),
        ),
    )
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, console.url)
    expect(page.locator("#live-status")).to_have_text("live")
    publish_alert(console.settings, alert)  # arrives through the live stream
    link = page.locator('tr.alert[data-key="hostile"] td.title a')
    expect(link).to_have_text(title)
    link.click()
    expect(page.locator(".story-article .headline")).to_have_text(title)
    page.locator(".story-article .meta").hover()
    page.locator(".story-article .url").click()
    assert page.locator(".story-article img, .story-article script, main b").count() == 0
    assert dialogs == []


@pytest.fixture
def worker(console, tmp_path):
    (console.settings.rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    process = Worker(console.settings, console.settings.rules_dir, tmp_path / "worker.log", {})
    process.start()
    yield process
    process.stop()


def test_ingested_feed_becomes_a_live_alert(console, worker, browser):
    page = browser.new_page()
    log_in(page, console.url)
    expect(page.locator("#live-status")).to_have_text("live")

    ingest_feed(console.settings, FEED)

    # The Arabic and the English report of the withdrawal are one story: one row, two articles,
    # whichever report the worker saw first being its headline.
    story = page.locator("tr.alert", has_text="base-withdrawal")
    expect(story.locator("td").nth(6)).to_have_text("2", timeout=90_000)
    expect(story).to_have_count(1)
    story.locator("td.title a").click()
    arabic = page.locator(".story-article .headline[dir=rtl]", has_text="قاعدة كركوك")
    expect(arabic).to_be_visible()
    assert "قاعدة" in arabic.locator("mark").all_inner_texts(), worker.log_text()[-3000:]

    # A rule created in the console reaches the running worker without a restart.
    page.goto(f"{console.url}/rules/new?path=oil.yaml")
    fill_editor(page, OIL_RULE)
    expect(page.locator("#rule-ok")).to_have_text("Valid: oil-prices")
    page.click("#save")
    expect(page.locator("#save-status")).to_have_text("Saved.")
    page.goto(f"{console.url}/alerts")
    expect(page.locator("#live-status")).to_have_text("live")
    oil = page.locator("tr.alert td.title a", has_text="أسعار النفط")
    # The worker picks the file up within its poll interval; until then an article is
    # matched against the old rules, so a fresh one is sent until the alert shows.
    deadline = time.monotonic() + 60
    attempt = 0
    while oil.count() == 0:
        assert time.monotonic() < deadline, worker.log_text()[-3000:]
        attempt += 1
        produce(console.settings, [oil_article(attempt)])
        page.wait_for_timeout(1000)
    expect(oil.first).to_have_attribute("dir", "rtl")


OIL_RULE = """\
id: oil-prices
title: Oil price moves
severity: low
match:
  all:
    - any: [أسعار, prices]
    - any: [النفط, oil]
"""


def oil_article(n: int) -> Article:
    return Article(
        id=f"oil-{n}",
        outlet="مكتب الأخبار",
        feed="desk",
        lang="ar",
        title=f"ارتفاع أسعار النفط في الأسواق العالمية للمرة {n}",
        url=f"http://127.0.0.1/desk/oil-{n}",
    )
