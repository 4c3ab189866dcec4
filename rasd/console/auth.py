"""Who is logged in: users from settings, a signed session cookie, a CSRF token per session.

The session cookie holds ``{"u": user or None, "c": csrf token}`` signed with
``settings.console_secret_key`` (itsdangerous); nothing is stored server-side. Every route except
the open ones depends on :func:`require_user`, which also checks the CSRF token on every
state-changing request (form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from rasd.console.passwords import hash_password, verify_password
from rasd.settings import Settings

log = logging.getLogger(__name__)

COOKIE = "rasd_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The local development stack's user (README); never used against configured servers.
DEV_USER, DEV_PASSWORD = "dev", "dev"


class ConsoleConfigError(RuntimeError):
    """The console cannot start with these settings."""


class LoginRequired(Exception):  # noqa: N818 - a signal handled by the app, not an error
    """No valid session: pages redirect to /login, the API answers 401."""


class CsrfFailed(Exception):  # noqa: N818
    """A state-changing request without the session's CSRF token: 403."""


@dataclass(frozen=True)
class Session:
    user: str | None
    csrf: str


class Users:
    """The console's users: ``settings.console_users`` (username -> scrypt hash)."""

    def __init__(self, settings: Settings) -> None:
        self._hashes = {name: h.get_secret_value() for name, h in settings.console_users.items()}
        if not self._hashes:
            if not (settings.kafka_is_local and settings.redis_is_local):
                raise ConsoleConfigError(
                    "no console users: set RASD_CONSOLE_USERS to a JSON object of username -> "
                    "hash from `rasd console hash-password`"
                )
            log.warning("console: no users configured; local dev stack user %r", DEV_USER)
            self._hashes = {DEV_USER: hash_password(DEV_PASSWORD)}
        # Checked for unknown users too, so that response time does not reveal who exists.
        self._decoy = next(iter(self._hashes.values()))

    def authenticate(self, user: str, password: str) -> bool:
        stored = self._hashes.get(user)
        ok = verify_password(password, stored or self._decoy)
        return ok and stored is not None


class Sessions:
    """Signs and reads the session cookie."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._max_age = settings.console_session_hours * 3600
        self._signer = URLSafeTimedSerializer(
            settings.console_secret_key.get_secret_value(), salt="rasd-console-session"
        )

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._signer.loads(raw, max_age=self._max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user = data.get("u")
        return Session(user=user if isinstance(user, str) else None, csrf=data["c"])

    @staticmethod
    def new(user: str | None = None) -> Session:
        return Session(user=user, csrf=secrets.token_urlsafe(32))

    def set_cookie(self, response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self._signer.dumps({"u": session.user, "c": session.csrf}),
            max_age=self._max_age,
            httponly=True,
            samesite="strict",
            secure=self._settings.console_secure_cookie,
            path="/",
        )

    @staticmethod
    def clear_cookie(response) -> None:
        response.delete_cookie(COOKIE, path="/")


@dataclass(frozen=True)
class User:
    name: str
    csrf: str


async def check_csrf(request: Request, session: Session) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfFailed


async def require_user(request: Request) -> User:
    """FastAPI dependency of every protected route."""
    session = request.app.state.console.sessions.read(request)
    if session is None or session.user is None:
        raise LoginRequired
    if request.method not in SAFE_METHODS:
        await check_csrf(request, session)
    return User(name=session.user, csrf=session.csrf)
