"""Browser tests: a real console server and Debian's chromium driven by Playwright."""

from __future__ import annotations

import pytest
from console_server import console, launch_chromium  # noqa: F401 - the fixture


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "chromium-profile")
        try:
            yield context
        finally:
            context.close()
