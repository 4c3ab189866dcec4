"""The rule editor linted as one types (Debian's chromium): keystrokes make an error, its marker
appears at the line and column the check reports, more keystrokes fix it and the file saves."""

from __future__ import annotations

import pytest
from console_server import WITHDRAWAL_RULE
from playwright.sync_api import expect
from test_console_browser import editor_text, log_in

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_typed_errors_get_markers_and_typed_fixes_save(console, browser):
    rule_file = console.settings.rules_dir / "withdrawal.yaml"
    rule_file.write_text(WITHDRAWAL_RULE, encoding="utf-8")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, console.url)
    page.goto(f"{console.url}/rules/edit/withdrawal.yaml")
    code = page.locator("#rule-code")
    lines = code.locator(".cm-line")
    expect(page.locator("#rule-ok")).to_have_text("Valid: base-withdrawal")

    # A misspelt key typed on a new line after "tags: [military]" (line 4).
    lines.nth(3).click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("descrption: reported by two outlets")
    page.keyboard.press("Escape")  # a completion list may have opened
    marked = code.locator(".cm-lintRange-error")
    expect(marked).to_have_text(["descrption"])
    expect(lines.nth(4).locator(".cm-lintRange-error")).to_have_text("descrption")
    listed = page.locator("#rule-errors li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("line 5, column 1")
    expect(page.locator("#rule-ok")).to_be_hidden()

    # A second error typed while the first stands: two markers, two gutter marks.
    lines.nth(2).click()
    page.keyboard.press("End")
    for _ in "high":
        page.keyboard.press("Backspace")
    page.keyboard.type("urgent")
    page.keyboard.press("Escape")
    expect(marked).to_have_text(["urgent", "descrption"])
    expect(code.locator(".cm-gutter-lint .cm-lint-marker-error")).to_have_count(2)
    expect(listed).to_have_count(2)
    expect(listed.first).to_contain_text("line 3, column 11")
    page.click("#save")
    expect(page.locator("#save-status")).to_have_text("Not saved: fix the errors.")
    assert rule_file.read_text(encoding="utf-8") == WITHDRAWAL_RULE

    # Fixed by typing: the severity back, the key's missing letter typed in.
    lines.nth(2).click()
    page.keyboard.press("End")
    for _ in "urgent":
        page.keyboard.press("Backspace")
    page.keyboard.type("medium")
    page.keyboard.press("Escape")
    expect(marked).to_have_text(["descrption"])
    lines.nth(4).click()
    page.keyboard.press("Home")
    for _ in "descr":
        page.keyboard.press("ArrowRight")
    page.keyboard.type("i")
    page.keyboard.press("Escape")
    expect(marked).to_have_count(0)
    expect(listed).to_have_count(0)
    expect(page.locator("#rule-ok")).to_have_text("Valid: base-withdrawal")
    expected = WITHDRAWAL_RULE.replace("severity: high", "severity: medium").replace(
        "tags: [military]\n", "tags: [military]\ndescription: reported by two outlets\n"
    )
    assert editor_text(page) == expected.rstrip("\n") + "\n"

    page.click("#save")
    expect(page.locator("#save-status")).to_have_text("Saved.")
    assert rule_file.read_text(encoding="utf-8") == expected
    assert errors == []
