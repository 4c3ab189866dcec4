"""Fetching feed documents over HTTP: conditional GET, timeouts, size cap, per-host limit.

A fetch either returns a :class:`Fetched` (a 200 with its body, or a 304) or raises
:class:`FetchError` whose ``reason`` is one short, stable word for health and metrics.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import defaultdict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from rasd.connectors.config import PollerConfig


@dataclass(frozen=True)
class Validators:
    """What the server told us to send back for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes
    content_type: str
    validators: Validators
    latency_ms: int
    url: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """A fetch that failed. ``reason``: http-error, timeout, connect-refused, dns-error,
    connect-error, redirect-loop, too-large, protocol-error. ``retry_after``: seconds, if the
    server said so."""

    def __init__(
        self,
        reason: str,
        detail: str,
        status: int | None = None,
        retry_after: float | None = None,
        latency_ms: int = 0,
    ):
        self.reason = reason
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        self.latency_ms = latency_ms
        super().__init__(f"{reason}: {detail}")


class Fetcher:
    """One shared HTTP client; at most ``per_host`` fetches at a time to any one host.

    >>> async with Fetcher(PollerConfig()) as fetcher:          # doctest: +SKIP
    ...     fetched = await fetcher.fetch("https://feeds.bbci.co.uk/arabic/rss.xml")
    """

    def __init__(self, config: PollerConfig):
        self._config = config
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(config.per_host)
        )
        self._client = httpx.AsyncClient(
            follow_redirects=True,
            max_redirects=config.max_redirects,
            timeout=httpx.Timeout(
                connect=config.connect_timeout,
                read=config.read_timeout,
                write=config.read_timeout,
                pool=config.total_timeout,
            ),
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=32
            ),
            headers={
                "User-Agent": config.user_agent,
                "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                "text/xml;q=0.9, */*;q=0.5",
                "Accept-Encoding": "gzip, deflate",
            },
            # Feeds are public; a proxy from the environment would surprise an operator.
            trust_env=False,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, validators: Validators = Validators()) -> Fetched:
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        started = time.monotonic()
        async with self._hosts[urlsplit(url).hostname or ""]:
            try:
                return await asyncio.wait_for(
                    self._get(url, headers, started), timeout=self._config.total_timeout
                )
            except TimeoutError:
                raise FetchError(
                    "timeout",
                    f"no complete answer within {self._config.total_timeout:g}s",
                    latency_ms=_since(started),
                ) from None
            except FetchError:
                raise
            except httpx.TooManyRedirects as exc:
                raise FetchError("redirect-loop", str(exc), latency_ms=_since(started)) from None
            except httpx.TimeoutException as exc:
                raise FetchError(
                    "timeout", type(exc).__name__, latency_ms=_since(started)
                ) from None
            except httpx.ConnectError as exc:
                reason = _connect_reason(exc)
                raise FetchError(
                    reason, str(exc) or type(exc).__name__, latency_ms=_since(started)
                ) from None
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise FetchError(
                    "protocol-error", f"{type(exc).__name__}: {exc}", latency_ms=_since(started)
                ) from None

    async def _get(self, url: str, headers: dict[str, str], started: float) -> Fetched:
        cap = self._config.max_bytes
        async with self._client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status == 304:
                return Fetched(
                    304, b"", "", _validators(response), _since(started), str(response.url)
                )
            if status >= 400 or status < 200:
                raise FetchError(
                    "http-error",
                    f"HTTP {status} {response.reason_phrase}".strip(),
                    status=status,
                    retry_after=_retry_after(response.headers.get("retry-after")),
                    latency_ms=_since(started),
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FetchError(
                    "too-large",
                    f"Content-Length {declared} over the cap of {cap} bytes",
                    status=status,
                    latency_ms=_since(started),
                )
            chunks = []
            size = 0
            # aiter_bytes yields decompressed bytes, so the cap also stops a gzip bomb.
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise FetchError(
                        "too-large",
                        f"body over the cap of {cap} bytes",
                        status=status,
                        latency_ms=_since(started),
                    )
                chunks.append(chunk)
            return Fetched(
                status,
                b"".join(chunks),
                response.headers.get("content-type", ""),
                _validators(response),
                _since(started),
                str(response.url),
            )


def _connect_reason(exc: BaseException | None) -> str:
    """connect-refused, dns-error or connect-error, from the connect error's chain of causes."""
    for _ in range(10):
        if exc is None:
            break
        text = str(exc).lower()
        if isinstance(exc, ConnectionRefusedError) or "refused" in text:
            return "connect-refused"
        if isinstance(exc, socket.gaierror) or "name or service not known" in text:
            return "dns-error"
        exc = exc.__cause__ or exc.__context__
    return "connect-error"


def _validators(response: httpx.Response) -> Validators:
    return Validators(response.headers.get("etag"), response.headers.get("last-modified"))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
