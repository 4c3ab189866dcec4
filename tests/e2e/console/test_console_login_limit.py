"""The login's rate limit as a person meets it in the browser (Debian's chromium): after too many
failures the form says why and for how long, for the username and for the browser's address."""

from __future__ import annotations

import pytest
from console_server import PASSWORD, USER
from playwright.sync_api import expect

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def try_login(page, url: str, user: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


LOCKED = "Too many failed logins for this user or from this address. Try again in 5 minutes."


def test_too_many_failures_for_a_user_lock_it_with_a_clear_message(console, browser):
    page = browser.new_page()
    for _ in range(console.settings.console_login_max_failures):
        try_login(page, console.url, USER, "wrong")
        expect(page.locator(".error")).to_have_text("Wrong username or password.")
    try_login(page, console.url, USER, PASSWORD)  # the right password, too late
    expect(page.locator(".error[role=alert]")).to_have_text(LOCKED)
    expect(page).to_have_url(f"{console.url}/login")
    page.goto(f"{console.url}/alerts")
    expect(page).to_have_url(f"{console.url}/login?next=/alerts")


def test_guessing_many_users_from_one_address_locks_the_address(console, browser):
    page = browser.new_page()
    for n in range(console.settings.console_login_max_failures):
        try_login(page, console.url, f"guess-{n}", "wrong")
        expect(page.locator(".error")).to_have_text("Wrong username or password.")
    # Nothing in the browser carries the count: without its cookies it is refused all the same,
    # the right user and password included.
    browser.clear_cookies()
    try_login(page, console.url, USER, PASSWORD)
    expect(page.locator(".error[role=alert]")).to_have_text(LOCKED)
