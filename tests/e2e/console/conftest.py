"""Browser tests: a real console server and Debian's chromium driven by Playwright.

Chromium runs headless with everything that would reach out to the internet turned off
(no sync, no component updates, no background networking, no QUIC) and a fresh profile.
"""

from __future__ import annotations

import pytest
from console_server import console  # noqa: F401 - the fixture

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="en-GB",
            viewport={"width": 1360, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
