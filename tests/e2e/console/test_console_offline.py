"""The console works offline (Debian's chromium): every page, its editor, charts and map load
everything they use from the console itself; no CDN, font service or tile server is asked."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from console_server import WITHDRAWAL_RULE, publish_alert
from playwright.sync_api import expect
from test_console_browser import log_in
from test_console_pictures import alert

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_every_page_loads_only_from_the_console(console, browser):
    (console.settings.rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    publish_alert(console.settings, alert("offline-1", places=("iraq", "mosul")))
    origin = urlsplit(console.url).netloc
    elsewhere: list[str] = []

    # A request for anything off the console is refused, as it would fail on a machine
    # without internet, and recorded.
    def refuse_outside(route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == origin:
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    browser.route("**/*", refuse_outside)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    failed: list[str] = []
    # Left pages abort their pending loads and live stream (ERR_ABORTED); any other failure is
    # something missing from the console's own files.
    page.on(
        "requestfailed",
        lambda r: r.failure != "net::ERR_ABORTED" and failed.append(f"{r.url} {r.failure}"),
    )
    log_in(page, console.url)

    ready = {
        "/alerts": ["#alerts-per-hour .plot[data-ready=true]", "#alerts-map .map[data-ready=true]"],
        "/alerts/offline-1": ["#feedback-useful"],
        "/rules": [".sparkline[data-ready=true]"],
        "/rules/edit/withdrawal.yaml": ["#rule-code .cm-content", "#rule-ok"],
        "/rules/new?path=draft.yaml": ["#rule-code .cm-content"],
        "/rules/history/withdrawal.yaml": ["main h1"],
        "/health": [
            "#articles-per-minute .plot[data-ready=true]",
            "#lag-per-minute .plot[data-ready=true]",
        ],
        "/silences": ["main h1"],
        "/api/docs": ["section.endpoint"],
    }
    for path, selectors in ready.items():
        page.goto(f"{console.url}{path}")
        for selector in selectors:
            expect(page.locator(selector).first).to_be_visible()
        # Stylesheets, scripts, fonts and images the page asked for.
        loaded = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
        assert all(urlsplit(u).netloc == origin for u in loaded), (path, loaded)
    page.goto(f"{console.url}/login")  # logged in: the login page still renders
    # The tab's icon too (the browser asks for it outside the page's resource list).
    icon = page.evaluate(
        """() => fetch(document.querySelector('link[rel=icon]').href)
                 .then(r => [r.status, r.headers.get('content-type')])"""
    )
    assert icon == [200, "image/svg+xml"]
    assert elsewhere == []
    assert failed == []
    assert errors == []
