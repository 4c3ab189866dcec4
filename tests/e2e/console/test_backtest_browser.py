"""The rule editor's backtest in a real browser: run a draft over the last days, and cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from backtest_articles import article, many, produce
from console_server import WITHDRAWAL_RULE
from playwright.sync_api import expect
from test_console_browser import log_in

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def open_editor(console, browser):
    (console.settings.rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    log_in(page, console.url)
    page.goto(f"{console.url}/rules/edit/withdrawal.yaml")
    expect(page.locator("#rule-code")).to_be_visible()
    return page, errors


def test_backtest_over_the_last_days_shows_matches_per_day(console, browser):
    produce(
        console.settings,
        [
            article("old", "Troops withdraw from an old base in Iraq", timedelta(days=10)),
            article("a1", "Troops withdraw from a northern base in Iraq", timedelta(days=2)),
            article("a2", "انسحاب القوات من قاعدة عين الأسد", timedelta(hours=2)),
            article("a3", "Markets calm as talks resume", timedelta(hours=1)),
        ],
    )
    page, errors = open_editor(console, browser)
    page.fill("#backtest-since", "7d")
    page.click("#backtest-start")
    status = page.locator("#backtest-status")
    expect(status).to_contain_text("Backtest over the last 7d: 3 articles in", timeout=30_000)
    table = page.locator("#backtest-result table.backtest-days")
    expect(table.locator("th")).to_have_text(["day", "base-withdrawal"])
    assert sum(int(c) for c in table.locator("tbody td:nth-child(2)").all_inner_texts()) == 2
    expect(page.locator("#backtest-result .summary")).to_contain_text("2 of 3 articles matched")
    # Feed text stays text; each example takes its own direction (in the order they were read).
    examples = page.locator('#backtest-result .backtest-examples span[dir="auto"]')
    expect(examples).to_have_count(2)
    assert sorted(examples.all_inner_texts()) == [
        "Troops withdraw from a northern base in Iraq",
        "انسحاب القوات من قاعدة عين الأسد",
    ]
    expect(page.locator("#backtest-cancel")).to_be_hidden()
    assert errors == []


def test_a_running_backtest_shows_progress_and_can_be_cancelled(console, browser):
    produce(console.settings, many(20_000))
    page, errors = open_editor(console, browser)
    page.fill("#backtest-since", "1d")
    page.click("#backtest-start")
    progress = page.locator("#backtest-progress")
    expect(progress).to_be_visible(timeout=20_000)
    expect(progress).to_have_attribute("max", "20000", timeout=20_000)
    status = page.locator("#backtest-status")
    expect(status).to_contain_text(" of 20,000 articles")
    expect(page.locator("#backtest-start")).to_be_disabled()
    page.click("#backtest-cancel")
    expect(status).to_contain_text("Cancelled after", timeout=10_000)
    expect(progress).to_be_hidden()
    expect(page.locator("#backtest-cancel")).to_be_hidden()
    expect(page.locator("#backtest-start")).to_be_enabled()
    assert page.locator("#backtest-result").inner_html() == ""
    assert errors == []
