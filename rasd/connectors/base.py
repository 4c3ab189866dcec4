"""The lifecycle every connector has: ``start`` (open connections), ``run`` (until stopped),
``stop`` (ask ``run`` to finish what it fetched and return).

>>> connector = RssConnector(settings, config)   # doctest: +SKIP
>>> await connector.start()
>>> loop.add_signal_handler(signal.SIGTERM, connector.stop)
>>> await connector.run()                         # returns after stop(), everything flushed
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod


class Connector(ABC):
    def __init__(self) -> None:
        self._stopping = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def start(self) -> None:  # noqa: B027 - optional hook; a connector may need nothing
        """Open connections; raise if a dependency (Kafka, Redis) cannot be reached."""

    @abstractmethod
    async def run(self) -> None:
        """Work until :meth:`stop` is called, then release what :meth:`start` opened."""

    def stop(self) -> None:
        """Ask :meth:`run` to return; safe to call from a signal handler, more than once."""
        self._stopping.set()

    async def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` or until stopped; True if stopped."""
        if self._stopping.is_set():
            # wait_for with a zero timeout would time out before looking at the event.
            return True
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))
        except TimeoutError:
            return False
        return True
