from __future__ import annotations

import httpx
import pytest
from console_server import console, login  # noqa: F401 - the fixture


@pytest.fixture
def client(console):  # noqa: F811
    """An HTTP client logged in to the console; ``client.csrf`` is the session's token."""
    with httpx.Client(base_url=console.url, timeout=30) as http:
        http.csrf = login(http)
        yield http
