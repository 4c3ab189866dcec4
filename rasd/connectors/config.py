"""feeds.yaml: which outlets to poll and how, validated once at start-up.

Every error names ``file:line:column`` (pydantic error locations are mapped back to the YAML
nodes), and every error in the file is reported at once.

>>> config = parse_feeds("feeds: [{name: bbc-ar, outlet: BBC, url: 'https://x/rss'}]")
>>> config.interval(config.feeds[0])
300.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from rasd.durations import parse_seconds
from rasd.yamlerrors import ConfigError, ConfigInvalid, error_at, load, located, node_at

# Kept in seconds: the connectors compute with floats.
Duration = Annotated[float, BeforeValidator(parse_seconds), Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Feed(Strict):
    """One feed to poll. ``name`` is its identity (Redis keys, metrics, health)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    outlet: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2048)
    lang: str | None = Field(None, pattern=r"^[a-z]{2,3}$")
    interval: Duration | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


class PollerConfig(Strict):
    """How the poller treats every feed (feeds.yaml ``poller:``; all optional)."""

    interval: Duration = 300.0
    jitter: float = Field(0.1, ge=0, le=0.5)
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    # A whole fetch must finish in this time, so a server trickling bytes cannot hold a slot.
    total_timeout: Duration = 60.0
    max_bytes: int = Field(5_000_000, ge=1024)
    max_redirects: int = Field(5, ge=0, le=20)
    per_host: int = Field(2, ge=1, le=64)
    max_connections: int = Field(64, ge=1, le=1024)
    max_backoff: Duration = 3600.0
    user_agent: str = "rasd/0.1 (+https://github.com/rasd; news monitoring)"
    # How long an article id is remembered (dedup across restarts and feeds).
    seen_ttl: Duration = 14 * 86400.0
    # Scale-out: a feed lease lives this long unless its owner renews it.
    lease_ttl: Duration = 30.0
    # Dates further than this in the future are treated as wrong.
    future_tolerance: Duration = 600.0


class FeedsConfig(Strict):
    poller: PollerConfig = PollerConfig()
    feeds: list[Feed] = Field(default_factory=list)

    def interval(self, feed: Feed) -> float:
        return feed.interval or self.poller.interval


class FeedsError(ConfigInvalid):
    """feeds.yaml is invalid; ``errors`` holds every problem found, each with its location."""


def load_feeds(path: Path) -> FeedsConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedsError([ConfigError(str(path), 1, 1, f"cannot read: {exc}")]) from None
    return parse_feeds(text, str(path))


def parse_feeds(text: str, path: str = "feeds.yaml") -> FeedsConfig:
    try:
        document = load(text, path)
    except ConfigInvalid as exc:
        raise FeedsError(exc.errors) from None
    node, data = document.root, document.data
    if data is None:
        data = {}
    try:
        config = FeedsConfig.model_validate(data)
    except ValidationError as exc:
        errors = []
        for error, target in located(exc, node):
            where = ".".join(str(p) for p in error["loc"])
            errors.append(error_at(path, target, f"{where}: {error['msg']}"))
        raise FeedsError(errors) from None
    errors = []
    seen: set[str] = set()
    for index, feed in enumerate(config.feeds):
        if feed.name in seen:
            target = node_at(node, ("feeds", index, "name"))
            errors.append(error_at(path, target, f"duplicate feed name {feed.name!r}"))
        seen.add(feed.name)
    if errors:
        raise FeedsError(errors)
    return config
