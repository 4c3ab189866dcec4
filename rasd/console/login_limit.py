"""Failed logins per username and per client address, in Redis, so every console process
counts the same attempts.

Each key is a sorted set of failure times (``<ns>:console:login-failures:user:<name>`` and
``...:addr:<address>``) pruned to the window and expiring with it: a sliding window, so an
attacker cannot spend a whole allowance at the end of one window and another at the start
of the next. A success clears the username's failures, not the address's.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from rasd.keys import RedisKeys
from rasd.settings import Settings


@dataclass(frozen=True)
class Refused:
    """Too many failures: try again in ``retry_after`` seconds."""

    retry_after: int


class LoginLimiter:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self._redis = redis
        self._max = settings.console_login_max_failures
        self._window = settings.console_login_window_seconds
        self._redis_keys = RedisKeys(settings)

    def _keys(self, user: str, address: str) -> tuple[str, str]:
        keys = self._redis_keys
        return keys.login_failures("user", user), keys.login_failures("addr", address)

    async def check(self, user: str, address: str) -> Refused | None:
        """``Refused`` when the username or the address is at its limit, else None."""
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in self._keys(user, address):
                pipe.zremrangebyscore(key, "-inf", now - self._window)
                pipe.zcard(key)
                pipe.zrange(key, 0, 0, withscores=True)
            replies = await pipe.execute()
        wait = 0.0
        for count, oldest in (replies[1:3], replies[4:6]):
            if count >= self._max and oldest:
                wait = max(wait, oldest[0][1] + self._window - now)
        return Refused(retry_after=max(1, math.ceil(wait))) if wait > 0 else None

    async def failed(self, user: str, address: str) -> None:
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in self._keys(user, address):
                # A random member: two failures in the same microsecond are two failures.
                pipe.zadd(key, {f"{now:.6f}:{secrets.token_hex(4)}": now})
                pipe.expire(key, self._window)
            await pipe.execute()

    async def succeeded(self, user: str) -> None:
        await self._redis.delete(self._keys(user, "")[0])
