"""The outbox: alerts handed to notify through the Redis stream ``<ns>:outbox``.

Every write is keyed by (alert key, revision). A Lua script claims the idempotency key
``<ns>:alert:<key>:rev:<n>`` with SET NX and, only if the claim succeeds, appends the stream
entry and updates the alert state (hash ``<ns>:alerts``, sorted set ``<ns>:alerts:by-time``), all
atomically inside Redis. A worker that crashes after writing and replays the same input therefore
never adds a second entry for the same story revision or escalation window.

>>> outbox = Outbox(redis_client, settings)                      # doctest: +SKIP
>>> await outbox.write(alert, revision=0)                        # doctest: +SKIP
True
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from rasd.models import Alert
from rasd.settings import Settings

if TYPE_CHECKING:
    import redis.asyncio

log = logging.getLogger(__name__)

_WRITE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[5]) then
  redis.call('XADD', KEYS[2], '*', 'key', ARGV[1], 'revision', ARGV[2], 'alert', ARGV[3])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
  redis.call('ZADD', KEYS[4], 'NX', ARGV[4], ARGV[1])
  return 1
end
return 0
"""


class Outbox:
    def __init__(self, client: redis.asyncio.Redis, settings: Settings, ttl: int = 7 * 86400):
        self._client = client
        self._settings = settings
        self._ttl = ttl
        self._script = client.register_script(_WRITE)

    async def write(self, alert: Alert, revision: int) -> bool:
        """Like :meth:`try_write`, retrying while Redis is unreachable.

        The agent waits rather than skips: its input offset is not committed meanwhile, so
        nothing is lost if the worker is stopped while Redis is down.
        """
        import redis.exceptions

        delay = 0.1
        while True:
            try:
                return await self.try_write(alert, revision)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                log.warning("outbox unreachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def try_write(self, alert: Alert, revision: int) -> bool:
        """Append ``alert`` as ``revision`` of its key; False if that revision is already there."""
        key = self._settings.key
        written = await self._script(
            keys=[
                key("alert", alert.key, "rev", str(revision)),
                key("outbox"),
                key("alerts"),
                key("alerts", "by-time"),
            ],
            args=[
                alert.key,
                str(revision),
                alert.model_dump_json(),
                alert.created_at.timestamp(),
                self._ttl,
            ],
        )
        return bool(written)
