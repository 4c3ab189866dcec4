"""A real console server for tests: uvicorn in a thread on 127.0.0.1 and a free port.

Imported by the console test packages' conftests (``tests/`` is on sys.path through the root
conftest).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from rasd.connections import async_redis_client
from rasd.connectors.ingest import ingest
from rasd.console.app import create_app
from rasd.console.kafka_view import last_articles
from rasd.console.passwords import hash_password
from rasd.models import Alert, Article, Match, StoryArticle
from rasd.outbox import Outbox
from rasd.settings import Settings

USER, PASSWORD = "analyst", "correct horse battery staple"

# Debian's chromium, headless, with everything that would reach out to the internet turned off
# (no sync, no component updates, no background networking, no QUIC).
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


def launch_chromium(playwright, profile: Path):
    """A browser context on a fresh profile directory (Playwright's ``launch_persistent_context``
    is how a profile directory is given; ``--user-data-dir`` in the arguments is refused)."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        locale="en-GB",
        viewport={"width": 1360, "height": 880},
    )


# Hashing is deliberately slow; one hash serves the whole session.
_HASH = hash_password(PASSWORD)


def console_settings(settings: Settings, rules_dir: Path) -> Settings:
    rules_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        **{
            **settings.model_dump(),
            "redis_url": settings.redis_dsn,
            "rules_dir": rules_dir,
            "console_users": {USER: _HASH},
            "console_secret_key": "test-secret-" + settings.namespace,
        }
    )


WITHDRAWAL_RULE = """\
id: base-withdrawal
title: Troops withdraw from a base
severity: high
tags: [military]
places: [iraq]
match:
  all:
    - any: [انسحاب, سحب, withdraw]
    - any: [قاعدة, base]
"""


def ingest_feed(settings: Settings, path: Path) -> list[Article]:
    """Ingest a feed document as the connectors do; returns the articles now on the topic."""
    report = run_async(lambda: ingest(settings, [str(path)]))
    assert not report.errors, report.errors
    return last_articles(settings, 100)


def alert_for(article: Article, match: Match) -> Alert:
    """The alert streams raises for the first report of a story."""
    return Alert(
        key=f"{match.rule_id}:{article.id}",
        kind="match",
        severity=match.severity,
        rule=match.rule_id,
        title=article.title,
        tags=match.tags,
        articles=(StoryArticle.from_article(article),),
        places=match.places,
        terms=match.terms,
        counts={"articles": 1},
    )


def publish_alert(settings: Settings, alert: Alert, revision: int = 0) -> None:
    """Write ``alert`` through streams' outbox writer (alerts hash, by-time set, outbox)."""

    async def write() -> None:
        client = async_redis_client(settings)
        try:
            assert await Outbox(client, settings).try_write(alert, revision)
        finally:
            await client.aclose()

    run_async(write)


def run_async(coroutine_function):
    """Run a coroutine to its end in a thread of its own and return its result.

    The caller may be inside a running event loop (Playwright's sync API runs one).
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine_function())
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="run-async")
    thread.start()
    thread.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass(frozen=True)
class RunningConsole:
    url: str
    settings: Settings
    app: object


@contextmanager
def running_console(settings: Settings) -> Iterator[RunningConsole]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="console-server")
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("console server did not start")
            time.sleep(0.02)
        yield RunningConsole(url=f"http://127.0.0.1:{port}", settings=settings, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def login(client: httpx.Client, user: str = USER, password: str = PASSWORD) -> str:
    """Log ``client`` in; returns the session's CSRF token."""
    page = client.get("/login")
    token = _csrf_from(page.text)
    response = client.post(
        "/login", data={"username": user, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return _csrf_from(client.get("/alerts").text)


def _csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def console(settings, tmp_path) -> Iterator[RunningConsole]:
    """A running console on the test's namespace, its rules in ``tmp_path/rules``."""
    with running_console(console_settings(settings, tmp_path / "rules")) as running:
        yield running


def fill_editor(page, text: str) -> None:
    """Replaces the editor's text by pasting it (Playwright's fill() and insert_text() on a
    contenteditable turn runs of spaces into no-break spaces)."""
    content = page.locator("#rule-code .cm-content")
    content.click()
    page.keyboard.press("Control+A")
    content.evaluate(
        """(el, text) => {
          const data = new DataTransfer();
          data.setData("text/plain", text);
          el.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }""",
        text,
    )
