"""Login everywhere, CSRF on every state change, feed text rendered inert, secure headers."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
from console_server import PASSWORD, USER, publish_alert
from fastapi.routing import APIRoute
from starlette.routing import Mount

from rasd.models import Alert, Severity, StoryArticle, TermHit

pytestmark = pytest.mark.integration

OPEN = {"/healthz", "/metrics", "/login"}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def flat_routes(routes):
    """Every route, also those of included routers (FastAPI >= 0.16x keeps them nested)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from flat_routes(included.routes)
        elif not isinstance(route, Mount):
            yield route


def protected_routes(app):
    for route in flat_routes(app.routes):
        if route.path in OPEN:
            continue
        methods = route.methods if isinstance(route, APIRoute) else route.methods or {"GET"}
        for method in sorted(methods - {"HEAD"}):
            yield method, concrete(route.path)


def test_every_route_but_the_open_ones_needs_login(console):
    routes = list(protected_routes(console.app))
    assert len(routes) > 20
    assert ("GET", "/api/alerts/live") in routes
    with httpx.Client(base_url=console.url) as anonymous:
        for method, path in routes:
            response = anonymous.request(method, path, json={})
            if path.startswith("/api/") and path != "/api/docs":
                assert response.status_code == 401, (method, path, response.status_code)
            else:
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"].startswith("/login?next=")
        for path in ("/healthz", "/metrics", "/login"):
            assert anonymous.get(path).status_code == 200, path


def test_a_forged_or_expired_cookie_is_no_login(console):
    with httpx.Client(base_url=console.url) as client:
        client.cookies.set("rasd_session", "eyJ1IjoiYW5hbHlzdCJ9.forged.signature")
        assert client.get("/api/alerts").status_code == 401


def test_csrf_is_enforced_on_state_changes(console, client):
    publish_alert(console.settings, alert_with("k1", "عنوان"))
    # Logged in, but without the token: refused.
    assert client.post("/api/alerts/k1/ack").status_code == 403
    assert client.post("/api/alerts/k1/ack", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    for method, path in protected_routes(console.app):
        if method != "GET":
            assert client.request(method, path, json={}).status_code == 403, (method, path)
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    # With it: accepted.
    ok = client.post("/api/alerts/k1/ack", headers={"X-CSRF-Token": client.csrf})
    assert ok.status_code == 200, ok.text
    assert ok.json()["by"] == USER


def test_login_needs_the_login_pages_csrf_token(console):
    with httpx.Client(base_url=console.url) as client:
        client.get("/login")
        response = client.post("/login", data={"username": USER, "password": PASSWORD})
        assert response.status_code == 403
        assert client.get("/api/alerts").status_code == 401


def test_login_redirects_only_within_the_site(console):
    with httpx.Client(base_url=console.url) as client:
        page = client.get("/login?next=https://evil.example/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert 'value="/alerts"' in page.text
        response = client.post(
            "/login",
            data={
                "username": USER,
                "password": PASSWORD,
                "csrf_token": token,
                "next": "//evil.example/",
            },
        )
        assert response.headers["location"] == "/alerts"


def test_logout_ends_the_session(client):
    assert client.post("/logout", data={"csrf_token": client.csrf}).status_code == 303
    assert client.get("/api/alerts").status_code == 401


def test_secure_headers_on_pages_api_and_static(client):
    for path in ("/alerts", "/api/alerts", "/static/bundles/console.js", "/login"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert "style-src 'self' 'nonce-" in csp and "{nonce}" not in csp, path
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script_or_handlers(console, client):
    publish_alert(console.settings, alert_with("k1", "عنوان"))
    for path in ("/alerts", "/alerts/k1", "/rules", "/health", "/silences", "/api/docs"):
        assert active_markup(client.get(path).text) == [], path


# The console's own files (console.js; the bundles built from frontend/).
OWN_SCRIPTS = {"/static/bundles/console.js", "/static/charts.js", "/static/bundles/rule-editor.js"}


class _ActiveMarkup(HTMLParser):
    """Collects what a browser would run: inline scripts, on* handlers, javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs:
            self.found.append("inline <script>")
        elif tag == "script" and attrs["src"] not in OWN_SCRIPTS:
            self.found.append(f"script {attrs['src']}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            if name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"<{tag} {name}={value}>")
        if tag in {"img", "iframe", "object", "embed", "b"}:
            self.found.append(f"<{tag}> from feed text")


def active_markup(html: str) -> list[str]:
    parser = _ActiveMarkup()
    parser.feed(html)
    return parser.found


HOSTILE_TITLE = '<script>alert("x")</script> قصف <img src=x onerror="alert(1)"> صاروخ'
HOSTILE_URL = "javascript:alert(document.cookie)"


def alert_with(key: str, title: str, url: str | None = None) -> Alert:
    start = title.find("قصف")
    terms = (TermHit(term="قصف", field="title", start=start, end=start + 3, text="قصف"),)
    return Alert(
        key=key,
        kind="match",
        severity=Severity.high,
        rule="rocket-attack",
        title=title,
        articles=(
            StoryArticle(
                article_id="a1",
                outlet='<b onmouseover="alert(2)">Outlet</b>',
                title=title,
                url=url,
                lang="ar",
            ),
        ),
        places=("iraq",),
        terms=terms if start >= 0 else (),
    )


def test_feed_text_is_rendered_inert(console, client):
    publish_alert(console.settings, alert_with("hostile", HOSTILE_TITLE, HOSTILE_URL))
    for path in ("/alerts", "/alerts/hostile"):
        html = client.get(path).text
        assert active_markup(html) == [], path
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert 'onerror="alert' not in html and 'onmouseover="alert' not in html
        assert 'href="javascript:' not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    detail = client.get("/alerts/hostile").text
    # The highlight splits the title at the hit and escapes each piece.
    assert "&lt;/script&gt; <mark>قصف</mark> &lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in detail
    # The javascript: URL is shown as text, never as a link.
    assert '<span class="url" dir="auto">javascript:alert(document.cookie)</span>' in detail


def test_live_stream_fragment_is_escaped(console, client):
    with client.stream("GET", "/api/alerts/live") as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        publish_alert(console.settings, alert_with("hostile", HOSTILE_TITLE))
        data = next(line for line in lines if line.startswith("data:"))
    assert "<script>" not in data and 'onerror=\\"alert' not in data
    assert "&lt;script&gt;" in data
