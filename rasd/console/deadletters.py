"""Retry and discard of notify's dead letters (stream ``<ns>:notify:dead``).

Notify reads them with :class:`rasd.notify.DeadLetters`; what to do with one is the console's
job. Retry puts the dead letter's alerts back on the outbox through its idempotent write
(:meth:`rasd.outbox.Outbox.retry`), which every notifier then routes again (notify's dedup
keeps receivers that did get them from being paged twice), then removes the dead letter: a
retry cut short is simply retried, and queues nothing twice. An unreadable outbox entry has no
alert to resend: it can only be discarded.
"""

from __future__ import annotations

from redis.asyncio import Redis

from rasd.notify import DeadLetter, DeadLetters
from rasd.outbox import Outbox
from rasd.settings import Settings


class NotRetryable(ValueError):
    pass


class DeadLetterActions:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self._dead = DeadLetters(redis, settings)
        self._outbox = Outbox(redis, settings)

    async def get(self, dead_id: str) -> DeadLetter | None:
        return await self._dead.get(dead_id)

    async def retry(self, dead_id: str) -> DeadLetter | None:
        """Re-queue the alerts; None when there is no such dead letter."""
        dead = await self.get(dead_id)
        if dead is None:
            return None
        if not dead.alerts:
            raise NotRetryable("this dead letter holds no alert to resend; discard it")
        await self._outbox.retry(dead_id, dead.alerts)
        await self._dead.remove(dead_id)
        return dead

    async def discard(self, dead_id: str) -> bool:
        return await self._dead.remove(dead_id)
