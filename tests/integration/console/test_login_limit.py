"""Failed logins are limited per username and per client address (a real console and Redis)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from console_server import PASSWORD, USER, _csrf_from

from rasd.connections import async_redis_client
from rasd.console.login_limit import LoginLimiter

pytestmark = pytest.mark.integration


def attempt(http: httpx.Client, user: str, password: str) -> httpx.Response:
    token = _csrf_from(http.get("/login").text)
    return http.post("/login", data={"username": user, "password": password, "csrf_token": token})


def test_five_failures_for_a_user_lock_it_out_even_with_the_right_password(console):
    window = console.settings.console_login_window_seconds
    with httpx.Client(base_url=console.url, timeout=30) as http:
        for _ in range(console.settings.console_login_max_failures):
            assert attempt(http, USER, "wrong").status_code == 401
        refused = attempt(http, USER, PASSWORD)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= window
        assert "Too many failed logins" in refused.text
        assert "Try again in 5 minutes." in refused.text
        assert http.get("/api/alerts").status_code == 401  # not logged in


def test_failures_from_one_address_lock_out_every_user_from_it(console):
    with httpx.Client(base_url=console.url, timeout=30) as http:
        for n in range(console.settings.console_login_max_failures):
            assert attempt(http, f"guess-{n}", "wrong").status_code == 401
        assert attempt(http, "guess-new", "wrong").status_code == 429
        assert attempt(http, USER, PASSWORD).status_code == 429


def test_a_success_clears_the_users_failures_not_the_addresses(settings):
    async def scenario() -> None:
        redis = async_redis_client(settings)
        limiter = LoginLimiter(settings, redis)
        try:
            for _ in range(settings.console_login_max_failures):
                await limiter.failed("alice", "10.0.0.1")
            assert await limiter.check("alice", "10.0.0.2") is not None  # the user
            assert await limiter.check("bob", "10.0.0.1") is not None  # the address
            assert await limiter.check("bob", "10.0.0.2") is None
            await limiter.succeeded("alice")
            assert await limiter.check("alice", "10.0.0.2") is None
            assert await limiter.check("alice", "10.0.0.1") is not None
        finally:
            await redis.aclose()

    asyncio.run(scenario())
