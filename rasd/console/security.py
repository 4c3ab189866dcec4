"""Headers every console response carries (an ASGI middleware, so streams are untouched)."""

from __future__ import annotations

import secrets

# No inline script anywhere: the pages load their scripts from /static. Styles come from
# /static too, except the <style> element the rule editor (CodeMirror) writes its theme into,
# which carries the response's nonce (``request.state.csp_nonce``, in the page's csp-nonce meta).
STYLE_SRC = "style-src 'self' 'nonce-{nonce}'"
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        STYLE_SRC,
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)

HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class SecureHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        headers = tuple(
            (n, v.replace(b"{nonce}", nonce.encode()) if n == b"content-security-policy" else v)
            for n, v in HEADERS
        )

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", ())}
                extra = [(n, v) for n, v in headers if n not in names]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
                if scope["path"] != "/static" and not scope["path"].startswith("/static/"):
                    # Pages show live data; never serve them from a shared cache.
                    message["headers"].append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, send_with_headers)
