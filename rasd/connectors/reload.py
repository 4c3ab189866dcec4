"""A running connector switches to a new feeds.yaml (the file is watched by
:mod:`rasd.configwatch`).

Feeds added start polling (after the usual spread of up to 5 s); feeds removed stop after the
step they are in (a batch being produced completes) and leave health; a feed whose definition
changed restarts with it. Unchanged feeds keep their schedule, backoff and conditional-GET
validators, as Prometheus keeps unchanged scrape targets on a reload. A changed ``poller:``
block applies to the next polls (interval, jitter, backoff, dates) and to the next fetches
(a new HTTP client; the old one is closed once its fetches can have finished). ``seen_ttl``
and ``lease_ttl`` are read when the connector starts: a change waits for a restart (logged).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from rasd.connectors.config import FeedsConfig
from rasd.connectors.fetch import Fetcher

if TYPE_CHECKING:
    from rasd.connectors.poller import RssConnector

log = logging.getLogger("rasd.connectors")

_AT_START = ("seen_ttl", "lease_ttl")
_HTTP = (
    "connect_timeout",
    "read_timeout",
    "total_timeout",
    "max_bytes",
    "max_redirects",
    "per_host",
    "max_connections",
    "user_agent",
)


async def reconfigure(connector: RssConnector, config: FeedsConfig) -> None:
    old = connector.config
    connector.config = config
    for name in _AT_START:
        if getattr(old.poller, name) != getattr(config.poller, name):
            log.warning("feeds.yaml: poller.%s changes at the next restart", name)
    if any(getattr(old.poller, n) != getattr(config.poller, n) for n in _HTTP):
        previous, connector._fetcher = connector._fetcher, Fetcher(config.poller)
        _retire(connector, _close_later(connector, previous, old.poller.total_timeout + 1))

    wanted = {feed.name: feed for feed in config.feeds}
    added, changed, removed = [], [], []
    for name, (feed, retired, task) in list(connector._loops.items()):
        if wanted.get(name) == feed:
            continue
        (changed if name in wanted else removed).append(name)
        retired.set()
        del connector._loops[name]
        _retire(connector, task)
    for name, feed in wanted.items():
        if name not in connector._loops:
            if name not in changed:
                added.append(name)
            connector._start_loop(feed)

    names = list(wanted)
    connector.leases.set_feeds(names)
    try:
        await connector._health.register(
            names, {f.name: {"outlet": f.outlet, "url": f.url} for f in config.feeds}
        )
        await connector.leases.step()
    except (RedisError, OSError) as exc:
        # The switch itself is done; the lease loop shares the new feeds at its next step.
        log.warning("feeds.yaml: new feed list not yet in Redis: %s", exc)
    log.info(
        "feeds.yaml: %d feeds (added %s, changed %s, removed %s)",
        len(names),
        ", ".join(added) or "none",
        ", ".join(changed) or "none",
        ", ".join(removed) or "none",
    )


def _retire(connector: RssConnector, work) -> None:
    """Keep a task the connector waits for when it stops, until it ends by itself."""
    task = work if isinstance(work, asyncio.Task) else asyncio.create_task(work)
    connector._retiring.add(task)
    task.add_done_callback(connector._retiring.discard)


async def _close_later(connector: RssConnector, fetcher: Fetcher, grace: float) -> None:
    # Fetches started on the old client have a total deadline; a stop cuts the wait short.
    await connector.sleep(grace)
    await fetcher.aclose()
