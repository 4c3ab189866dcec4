"""The console web app: ``create_app(settings)`` builds it; ``rasd console`` serves it.

>>> from rasd.settings import Settings
>>> app = create_app(Settings(console_users={}))  # local dev stack: the dev user
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException

from rasd.console import api, backtest_api, pages
from rasd.console.auth import (
    CsrfFailed,
    LoginRequired,
    Session,
    User,
    check_csrf,
    require_user,
)
from rasd.console.context import Console, console
from rasd.console.security import SecureHeaders
from rasd.console.views import HERE, render
from rasd.outage import REDIS_DOWN
from rasd.settings import Settings


def _local_path(target: str | None) -> str:
    """Where to go after login: only a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/alerts"
    # Browsers read "/\\host" as "//host"; control characters have no place in a path.
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return "/alerts"
    parts = urlsplit(target)
    return "/alerts" if parts.scheme or parts.netloc else target


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") and request.url.path != "/api/docs"


def create_app(settings: Settings) -> FastAPI:
    state = Console.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        tasks = [
            asyncio.create_task(state.watch_redis(), name="console-redis-watch"),
            asyncio.create_task(state.sample_lag(), name="console-lag-sample"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await state.close()

    app = FastAPI(
        title="rasd console API",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.console = state
    app.add_middleware(SecureHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "login required"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(_request: Request, _exc: CsrfFailed) -> Response:
        return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)

    async def _redis_down(request: Request, exc: Exception) -> Response:
        state.outage.failed(exc)
        detail = "Redis is unreachable; the console keeps retrying. Try again in a moment."
        headers = {"Retry-After": "5"}
        if _wants_json(request) or request.url.path in ("/healthz", "/metrics"):
            return JSONResponse({"detail": detail}, status_code=503, headers=headers)
        response = render(
            request, "error.html", status_code=503, user=None, status=503, detail=detail
        )
        response.headers.update(headers)
        return response

    for exc_type in REDIS_DOWN:
        app.add_exception_handler(exc_type, _redis_down)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return render(
            request,
            "error.html",
            status_code=exc.status_code,
            user=None,
            status=exc.status_code,
            detail=exc.detail,
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz(c: Annotated[Console, Depends(console)]) -> dict:
        await c.redis.ping()
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics(c: Annotated[Console, Depends(console)]) -> Response:
        return Response(generate_latest(c.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/login", include_in_schema=False)
    async def login_form(request: Request, next: str | None = None) -> Response:
        c: Console = request.app.state.console
        session = c.sessions.read(request) or c.sessions.new()
        response = render(
            request, "login.html", user=None, csrf=session.csrf, next=_local_path(next), error=None
        )
        c.sessions.set_cookie(response, Session(user=None, csrf=session.csrf))
        return response

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=200)],
        password: Annotated[str, Form(max_length=1000)],
        next: Annotated[str, Form(max_length=2000)] = "/alerts",
    ) -> Response:
        c: Console = request.app.state.console
        session = c.sessions.read(request)
        if session is None:
            raise CsrfFailed
        await check_csrf(request, session)
        address = request.client.host if request.client else "unknown"

        def refuse(status: int, error: str) -> Response:
            fresh = c.sessions.new()
            response = render(
                request,
                "login.html",
                status_code=status,
                user=None,
                csrf=fresh.csrf,
                next=_local_path(next),
                error=error,
            )
            c.sessions.set_cookie(response, fresh)
            return response

        # Checked before the password, so that a locked-out guesser learns nothing more. While
        # Redis is down the limit cannot be counted and logins go on unlimited (the console
        # logs the outage): users and sessions need no Redis, and a scrypt guess stays slow.
        try:
            limited = await c.logins.check(username, address)
        except REDIS_DOWN as exc:
            c.outage.failed(exc)
            limited = None
        if limited is not None:
            c.metrics.logins.labels("rate-limited").inc()
            minutes = math.ceil(limited.retry_after / 60)
            response = refuse(
                429,
                "Too many failed logins for this user or from this address. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            )
            response.headers["Retry-After"] = str(limited.retry_after)
            return response
        if not c.users.authenticate(username, password):
            c.metrics.logins.labels("refused").inc()
            with contextlib.suppress(*REDIS_DOWN):
                await c.logins.failed(username, address)
            return refuse(401, "Wrong username or password.")
        with contextlib.suppress(*REDIS_DOWN):
            await c.logins.succeeded(username)
        c.metrics.logins.labels("ok").inc()
        response = RedirectResponse(_local_path(next), status_code=303)
        # A new CSRF token at login, so a token seen before login is worth nothing after.
        c.sessions.set_cookie(response, c.sessions.new(username))
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request, _user: Annotated[User, Depends(require_user)]) -> Response:
        response = RedirectResponse("/login", status_code=303)
        request.app.state.console.sessions.clear_cookie(response)
        return response

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(require_user)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    app.include_router(api.router)
    app.include_router(backtest_api.router)
    app.include_router(pages.router)
    return app
