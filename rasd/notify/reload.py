"""``rasd notify run`` with a live receivers.yaml (watched by :mod:`rasd.configwatch`).

Each valid new version starts a new :class:`~rasd.notify.notifier.Notifier` (same consumer
name, so it carries on with the entries the old one had pending), and then the old one is
stopped: its sends under way finish and are recorded, as on SIGTERM. The two overlap for
that moment, which is safe because notifiers already share the outbox and the groups
(Alertmanager likewise builds a new dispatcher on reload and stops the old one). Alerts read
after the switch are routed with the new tree, and every group flushed after it is sent
with the new receivers, including groups that were waiting. A receiver the new version no
longer defines turns its waiting groups into dead letters (``unknown receiver``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping

from rasd.configwatch import ConfigWatcher, ReloadStates
from rasd.connections import async_redis_client
from rasd.notify.config import NotifyConfigBase, parse_config
from rasd.notify.notifier import Notifier
from rasd.settings import Settings
from rasd.yamlerrors import ConfigError, ConfigInvalid

log = logging.getLogger("rasd.notify")


def receivers_parser(
    strict: bool,
    env: Mapping[str, str] | None = None,
    check: Callable[[NotifyConfigBase], list[ConfigError]] | None = None,
):
    """``parse(text, path)`` for the watcher; with ``strict`` a version that would disable a
    receiver (its secret is unset) is refused like an invalid one, and so is one ``check``
    finds errors in (the rules naming receivers it does not define)."""

    def parse(text: str, path: str) -> NotifyConfigBase:
        config = parse_config(text, path)
        if strict:
            source = os.environ if env is None else env
            errors = [
                ConfigError(path, 1, 1, f"--strict: receiver {r.name} disabled: "
                            f"environment variable not set: {', '.join(missing)}")
                for r in config.receivers
                if (missing := r.missing_env(source))
            ]  # fmt: skip
            if errors:
                raise ConfigInvalid(errors)
        if check is not None and (errors := check(config)):
            raise ConfigInvalid(errors)
        return config

    return parse


class CurrentNotifierMetrics:
    """A Prometheus collector serving the running notifier's registry (each notifier has its
    own, so a reload would otherwise leave the endpoint on the stopped one)."""

    def __init__(self) -> None:
        self.notifier: Notifier | None = None

    def collect(self):
        if self.notifier is not None:
            yield from self.notifier.metrics.collect()


class _Generation:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(notifier.run(self.stop), name="notifier")

    async def end(self) -> None:
        self.stop.set()
        try:
            await self.task
        finally:
            await self.notifier.aclose()


async def run_reloading(
    settings: Settings,
    watcher: ConfigWatcher[NotifyConfigBase],
    stop: asyncio.Event,
    *,
    consumer: str | None = None,
    env: Mapping[str, str] | None = None,
    metrics: CurrentNotifierMetrics | None = None,
) -> None:
    """Deliver until ``stop``, switching notifiers on every new valid receivers.yaml. An
    error that ends a notifier (not a reload) propagates, as from :meth:`Notifier.run`."""
    assert watcher.current is not None, "load() the watcher first"
    current = _Generation(Notifier(settings, watcher.current, consumer=consumer, env=env))
    if metrics is not None:
        metrics.notifier = current.notifier
    log.info("notifier %s started", current.notifier.consumer)

    async def switch(config: NotifyConfigBase) -> None:
        nonlocal current
        new = _Generation(Notifier(settings, config, consumer=consumer, env=env))
        old, current = current, new
        if metrics is not None:
            metrics.notifier = new.notifier
        log.info("receivers.yaml version %s in use", watcher.version)
        await old.end()
        # The old notifier removed the process's status file (`rasd dev status`) on closing.
        new.notifier.status.update()

    client = async_redis_client(settings)
    states = ReloadStates(settings, current.notifier.consumer)
    watch = asyncio.create_task(
        watcher.watch(switch, stop, states=states, client=client), name="receivers-watch"
    )
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            generation = current
            await asyncio.wait({generation.task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if generation.task.done() and generation is current and not stop.is_set():
                generation.task.result()  # a failure that ended the notifier
                return
    finally:
        stop.set()
        stopping.cancel()
        try:
            await watch
        finally:
            try:
                await current.end()
            finally:
                await client.aclose()
