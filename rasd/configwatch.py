"""Live configuration files: watch one file, parse each new version, keep the last good one.

Used by the connectors (feeds.yaml) and the notifiers (receivers.yaml). The file is read every
``interval`` and on :meth:`ConfigWatcher.request` (SIGHUP); a version whose bytes differ
(SHA-256) from the one in use and from the last refused one is parsed;
a valid one is handed to the ``on_change`` callback, an invalid one is refused: the last good
version stays in use and the errors (``file:line:column: message``) are kept, logged, counted
in the metrics and written to Redis, where ``rasd connectors status``, ``rasd notify check``
and the console's Health page read them (:class:`ReloadStates`).

A new version is read twice, ``settle`` seconds apart, and used only when both reads agree: an
editor or ``echo >`` that writes in place truncates the file first, and a poll that fell between
the truncation and the write would otherwise refuse an empty or half-written file (and report an
error the operator never made). A file still changing is looked at again on the next poll.

Polling rather than inotify: it works the same on every filesystem (bind mounts, NFS,
ConfigMaps whose symlinks are swapped), whether an editor writes in place or renames, and
reading a few kilobytes a second costs nothing.

>>> watcher = ConfigWatcher(Path("feeds.yaml"), parse_feeds, kind="feeds")  # doctest: +SKIP
>>> config = watcher.load()                     # ConfigInvalid at start-up, as before
>>> loop.add_signal_handler(signal.SIGHUP, watcher.request)
>>> states = ReloadStates(settings, connector.owner)
>>> await watcher.watch(connector.reconfigure, stop, states=states, client=redis_client)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

import redis
import redis.asyncio
from prometheus_client import Counter, Gauge
from pydantic import BaseModel, ConfigDict
from redis.exceptions import RedisError

from rasd.keys import RedisKeys
from rasd.settings import Settings
from rasd.yamlerrors import ConfigError, ConfigInvalid

log = logging.getLogger("rasd.config")

T = TypeVar("T")

RELOADS = Counter("rasd_config_reloads", "Configuration versions loaded after start.", ["config"])
RELOAD_ERRORS = Counter(
    "rasd_config_reload_errors", "Configuration versions refused (invalid).", ["config"]
)
LAST_RELOAD_OK = Gauge(
    "rasd_config_last_reload_successful",
    "1 if the file's latest version is the one in use, 0 if it was refused.",
    ["config"],
)
LAST_RELOAD_SUCCESS = Gauge(
    "rasd_config_last_reload_success_timestamp_seconds",
    "When the version in use was loaded.",
    ["config"],
)
VERSION_INFO = Gauge(
    "rasd_config_version_info",
    "The version in use (first 12 hex of SHA-256).",
    ["config", "version"],
)

# A process that stopped heartbeating its state this long ago is no longer shown.
STATE_TTL = timedelta(seconds=90)
HEARTBEAT = 30.0


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


class ReloadState(BaseModel):
    """What one process runs of one configuration file (JSON in Redis)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    config: str
    process: str
    path: str
    version: str
    loaded_at: datetime
    ok: bool = True
    # Of the latest refused version (empty when the file's latest version is in use).
    failed_version: str | None = None
    failed_at: datetime | None = None
    errors: tuple[str, ...] = ()
    seen_at: datetime

    def describe(self) -> list[str]:
        """Plain lines for a terminal: what runs, and what was refused and why."""
        when = f"{self.loaded_at:%Y-%m-%d %H:%M} UTC"
        lines = [f"{self.path}: version {self.version} in use since {when} ({self.process})"]
        if not self.ok:
            refused = f"{self.failed_at:%H:%M:%S} UTC" if self.failed_at else "?"
            lines.append(f"  new version refused at {refused}; the one in use stays:")
            lines += [f"  {error}" for error in self.errors]
        return lines


class ReloadStates:
    """The one owner of hash ``<ns>:config:<config>`` (process -> :class:`ReloadState`)."""

    def __init__(self, settings: Settings, process: str = ""):
        """``process``: the writer's id (readers need none)."""
        self._keys = RedisKeys(settings)
        self.process = process

    def key(self, config: str) -> str:
        return self._keys.config_states(config)

    async def publish(self, client: redis.asyncio.Redis, state: ReloadState) -> None:
        await client.hset(self.key(state.config), self.process, state.model_dump_json())

    async def withdraw(self, client: redis.asyncio.Redis, config: str) -> None:
        await client.hdel(self.key(config), self.process)

    def read(self, client: redis.Redis, config: str) -> list[ReloadState]:
        """The live processes' states (sync client: CLI, console thread pool)."""
        return self.decode(client.hgetall(self.key(config)))

    @staticmethod
    def decode(raw: dict) -> list[ReloadState]:
        now = datetime.now(UTC)
        states = [ReloadState.model_validate_json(value) for value in raw.values()]
        return sorted((s for s in states if now - s.seen_at < STATE_TTL), key=lambda s: s.process)


class ConfigWatcher(Generic[T]):
    """One configuration file: the version in use, and the latest refused one.

    ``parse(text, path)`` returns the typed configuration or raises :class:`ConfigInvalid`.
    """

    def __init__(
        self,
        path: Path,
        parse: Callable[[str, str], T],
        *,
        kind: str,
        interval: float = 1.0,
        settle: float = 0.05,
    ) -> None:
        self.path = path
        self.kind = kind
        self.interval = interval
        self.settle = settle
        self._parse = parse
        self._requested = asyncio.Event()
        self.current: T | None = None
        self.version = ""
        self.loaded_at = datetime.now(UTC)
        self.failed_version: str | None = None
        self.failed_at: datetime | None = None
        self.errors: list[ConfigError] = []

    # Reading ----------------------------------------------------------------------------

    def load(self) -> T:
        """The first version; raises ConfigInvalid (a process refuses to start on it)."""
        RELOADS.labels(self.kind)  # both counters exported from 0, not from the first event
        RELOAD_ERRORS.labels(self.kind)
        data = self._read()
        self.current = self._parse(self._text(data), str(self.path))
        self._accepted(data)
        return self.current

    def check(self, force: bool = False) -> T | None:
        """Look at the file once; the new configuration if a new valid version was loaded.

        Unchanged bytes are not parsed again (nor a refused version reported again) unless
        ``force`` (SIGHUP), which parses and reports once more.
        """
        try:
            data = self._read()
        except ConfigInvalid:
            if not force and self.failed_version == "unreadable":
                return None
            try:  # an editor that deletes and writes again leaves the file missing a moment
                time.sleep(self.settle)
                data = self._read()
            except ConfigInvalid as exc:
                self._refused("unreadable", exc.errors)
                return None
        version = version_of(data)
        if version not in (self.version, self.failed_version) or force:
            settled = self._settled(data)
            if settled is None:
                return None
            data, version = settled, version_of(settled)
        if version == self.version:
            if force:
                log.info("%s: unchanged (version %s)", self.path, version)
            if self.errors:  # back to the version in use: nothing is refused any more
                log.info("%s: back to version %s, the one in use", self.path, version)
                self._clear_failure()
            return None
        if version == self.failed_version and not force:
            return None
        try:
            config = self._parse(self._text(data), str(self.path))
        except ConfigInvalid as exc:
            self._refused(version, exc.errors)
            return None
        self.current = config
        self._accepted(data)
        RELOADS.labels(self.kind).inc()
        log.info("%s: version %s loaded", self.path, version)
        return config

    def request(self) -> None:
        """Ask for a check now (a signal handler: SIGHUP)."""
        self._requested.set()

    def state(self, process: str) -> ReloadState:
        return ReloadState(
            config=self.kind,
            process=process,
            path=str(self.path),
            version=self.version,
            loaded_at=self.loaded_at,
            ok=not self.errors,
            failed_version=self.failed_version,
            failed_at=self.failed_at,
            errors=tuple(str(e) for e in self.errors),
            seen_at=datetime.now(UTC),
        )

    # Watching ---------------------------------------------------------------------------

    async def watch(
        self,
        on_change: Callable[[T], Awaitable[None]],
        stop: asyncio.Event,
        *,
        states: ReloadStates | None = None,
        client: redis.asyncio.Redis | None = None,
    ) -> None:
        """Until ``stop``: check the file every ``interval`` or on request, apply each new
        valid version with ``on_change``, and keep this process's state in Redis."""
        last_published = 0.0
        loop = asyncio.get_running_loop()
        dirty = True
        try:
            while not stop.is_set():
                forced = self._requested.is_set()
                self._requested.clear()
                before = (self.version, self.failed_version, len(self.errors))
                previous = (self.current, self.version, self.loaded_at)
                try:
                    config = await asyncio.to_thread(self.check, forced)
                    if config is not None:
                        await on_change(config)
                except Exception as exc:  # noqa: BLE001 - a failure must not end the watch
                    log.exception("%s: version %s not applied", self.path, self.version)
                    failed = self.version
                    self._restore(*previous)
                    error = f"could not be applied: {type(exc).__name__}: {exc}"
                    self._refused(failed, [ConfigError(str(self.path), 1, 1, error)])
                dirty = (
                    dirty
                    or forced
                    or before
                    != (
                        self.version,
                        self.failed_version,
                        len(self.errors),
                    )
                )
                if (
                    states is not None
                    and client is not None
                    and (dirty or loop.time() - last_published >= HEARTBEAT)
                ):
                    try:
                        await states.publish(client, self.state(states.process))
                        last_published, dirty = loop.time(), False
                    except (RedisError, OSError) as exc:
                        log.warning("%s: reload state not written: %s", self.path, exc)
                await self._wait(stop)
        finally:
            if states is not None and client is not None:
                with contextlib.suppress(RedisError, OSError):
                    await states.withdraw(client, self.kind)

    async def _wait(self, stop: asyncio.Event) -> None:
        waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._requested.wait())}
        try:
            await asyncio.wait(waits, timeout=self.interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    # Internals --------------------------------------------------------------------------

    def _read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise ConfigInvalid(
                [ConfigError(str(self.path), 1, 1, f"cannot read: {exc.strerror or exc}")]
            ) from None

    def _settled(self, first: bytes) -> bytes | None:
        """The file's bytes if a second read ``settle`` seconds after ``first`` agrees; None
        while it is still being written. Runs in the watcher's thread (``watch`` calls
        :meth:`check` with ``asyncio.to_thread``), so the pause blocks no event loop."""
        time.sleep(self.settle)
        try:
            second = self._read()
        except ConfigInvalid:
            log.debug("%s: unreadable just after a change; looking again next poll", self.path)
            return None
        if second != first:
            log.debug("%s: still being written; looking again next poll", self.path)
            return None
        return second

    def _text(self, data: bytes) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigInvalid(
                [ConfigError(str(self.path), 1, 1, f"cannot read: not UTF-8 ({exc.reason})")]
            ) from None

    def _accepted(self, data: bytes) -> None:
        if self.version:
            with contextlib.suppress(KeyError):  # another watcher of this kind removed it
                VERSION_INFO.remove(self.kind, self.version)
        self.version = version_of(data)
        self.loaded_at = datetime.now(UTC)
        self._clear_failure()
        VERSION_INFO.labels(self.kind, self.version).set(1)
        LAST_RELOAD_SUCCESS.labels(self.kind).set(self.loaded_at.timestamp())

    def _restore(self, current: T | None, version: str, loaded_at: datetime) -> None:
        if self.version != version:
            with contextlib.suppress(KeyError):
                VERSION_INFO.remove(self.kind, self.version)
            VERSION_INFO.labels(self.kind, version).set(1)
            LAST_RELOAD_SUCCESS.labels(self.kind).set(loaded_at.timestamp())
        self.current, self.version, self.loaded_at = current, version, loaded_at

    def _clear_failure(self) -> None:
        self.failed_version, self.failed_at, self.errors = None, None, []
        LAST_RELOAD_OK.labels(self.kind).set(1)

    def _refused(self, version: str, errors: list[ConfigError]) -> None:
        self.failed_version, self.failed_at, self.errors = version, datetime.now(UTC), errors
        RELOAD_ERRORS.labels(self.kind).inc()
        LAST_RELOAD_OK.labels(self.kind).set(0)
        log.error(
            "%s: new version refused, still using version %s:\n%s",
            self.path,
            self.version,
            "\n".join(str(e) for e in errors),
        )
