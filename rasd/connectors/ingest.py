"""One-shot ingest (``rasd ingest PATH|URL``): a feed document, a folder of them, a JSONL of
articles, or a feed URL, into the articles topic with the same dedup as the poller.

A JSONL line has the fields ``rasd rules test`` reads: ``id``, ``title``, ``summary`` (or
``description``), optional ``body``, ``lang``, ``url`` (or ``link``), ``published``; ``outlet``
and ``feed`` are optional. With a URL the id is the poller's (canonical URL hash), so an article
both ingested and polled is produced once; without one, the given ``id`` is kept.
Unknown fields are ignored, so annotated test data can be ingested as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from rasd.connections import async_redis_client
from rasd.connectors.articles import (
    MAX_BODY,
    MAX_SUMMARY,
    MAX_TITLE,
    Source,
    article_id,
    build_articles,
    canonical_url,
    strip_html,
)
from rasd.connectors.config import PollerConfig
from rasd.connectors.fetch import Fetcher, FetchError
from rasd.connectors.parse import FeedError, parse
from rasd.connectors.poller import process_id
from rasd.connectors.sink import ArticleSink
from rasd.dates import Published
from rasd.models import Article
from rasd.settings import Settings
from rasd.text.language import item_language

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
BATCH = 200


class IngestRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    title: str = ""
    summary: str | None = None
    description: str | None = None
    body: str | None = None
    lang: str | None = None
    url: str | None = Field(None, validation_alias=AliasChoices("url", "link"))
    published: Published = Field(None, validation_alias=AliasChoices("published", "pubDate"))
    outlet: str = "ingest"
    feed: str = "ingest"

    @model_validator(mode="after")
    def _has_text(self) -> IngestRecord:
        if not (self.title or self.summary or self.description or self.body):
            raise ValueError("no title, summary, description or body")
        return self

    def article(self, fetched_at: datetime) -> Article:
        title = strip_html(self.title, MAX_TITLE)
        summary = strip_html(self.summary or self.description or "", MAX_SUMMARY)
        # With a URL the id is the poller's, so an article ingested and polled is one article.
        url = canonical_url(self.url) if self.url and self.url.startswith("http") else None
        aid = article_id(url, self.feed, self.id, title) if url or not self.id else self.id
        published = self.published
        if published is not None and published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        return Article(
            id=aid,
            url=url,
            outlet=self.outlet,
            feed=self.feed,
            lang=item_language(title, summary, self.lang) or "und",
            title=title or summary[:200],
            summary=summary,
            body=strip_html(self.body, MAX_BODY) if self.body else None,
            published_at=published.astimezone(UTC) if published else None,
            fetched_at=fetched_at,
        )


@dataclass
class IngestReport:
    seen: int = 0
    new: int = 0
    errors: list[str] = field(default_factory=list)
    # Documents read with a guess or a repair that may have changed their text.
    warnings: list[str] = field(default_factory=list)


def sources(target: str) -> list[str]:
    """The documents a target names: a URL, a file, or the feed/JSONL files in a folder."""
    if target.startswith(("http://", "https://")):
        return [target]
    path = Path(target)
    if path.is_dir():
        return [
            str(p)
            for p in sorted(path.iterdir())
            if p.is_file() and (p.suffix in FEED_SUFFIXES or p.suffix == ".jsonl")
        ]
    if path.is_file():
        return [str(path)]
    raise FileNotFoundError(f"{target}: no such file, folder or http(s) URL")


async def ingest(
    settings: Settings,
    targets: list[str],
    poller: PollerConfig | None = None,
    progress: Callable[[str, int, int], None] = lambda source, seen, new: None,
) -> IngestReport:
    """Ingest every source; ``progress(source, seen, new)`` is called after each batch."""
    poller = poller or PollerConfig()
    report = IngestReport()
    client = async_redis_client(settings)
    sink = ArticleSink(settings, client, f"ingest-{process_id()}", poller.seen_ttl)
    try:
        async with Fetcher(poller) as fetcher:
            for source in targets:
                try:
                    for batch in await _batches(source, fetcher, report, poller.max_bytes):
                        produced = await sink.publish(batch)
                        report.seen += len(batch)
                        report.new += len(produced)
                        progress(source, len(batch), len(produced))
                except (FetchError, FeedError, OSError, ValueError) as exc:
                    report.errors.append(f"{source}: {exc}")
                    progress(source, 0, 0)
    finally:
        await sink.close()
        await client.aclose()
    return report


async def _batches(
    source: str, fetcher: Fetcher, report: IngestReport, max_bytes: int
) -> list[list[Article]]:
    now = datetime.now(UTC)
    if source.startswith(("http://", "https://")):
        fetched = await fetcher.fetch(source)
        return [_feed_articles(fetched.body, fetched.content_type, source, now, report)]
    path = Path(source)
    if path.suffix == ".jsonl":
        return list(_chunks(_jsonl_articles(path, now, report.errors)))
    return [_feed_articles(read_capped(path, max_bytes), "", path.stem, now, report)]


def read_capped(path: Path, max_bytes: int) -> bytes:
    """A feed document from a file, refused past ``max_bytes`` as a fetched one is (the
    poller's ``max_bytes``), so a file cannot flood the pipeline either."""
    with path.open("rb") as document:
        body = document.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ValueError(
            f"too-large: {path.stat().st_size:,} bytes, more than max_bytes={max_bytes:,} "
            "(the same cap as a fetched feed; split the file, or ingest its items as JSONL)"
        )
    return body


def _feed_articles(
    body: bytes, content_type: str, name: str, now: datetime, report: IngestReport
) -> list[Article]:
    parsed = parse(body, content_type)
    if parsed.degraded:
        warnings = ", ".join(f"{k}={v}" for k, v in sorted(parsed.warnings.items()))
        report.warnings.append(f"{name}: read as {parsed.encoding}: {warnings}")
    feed = name.rsplit("/", 1)[-1] or "ingest"
    source = Source(feed, parsed.title[:200] or feed, None, parsed.lang)
    articles, _issues = build_articles(parsed.entries, source, now)
    return articles


def _jsonl_articles(path: Path, now: datetime, errors: list[str]) -> Iterator[Article]:
    """The articles of a JSONL file; a bad line is reported in ``errors`` and skipped."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield IngestRecord.model_validate(json.loads(line)).article(now)
            except (json.JSONDecodeError, ValidationError) as exc:
                detail = (
                    str(exc).splitlines()[0]
                    if isinstance(exc, json.JSONDecodeError)
                    else (
                        "; ".join(
                            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                        )
                    )
                )
                errors.append(f"{path}:{number}:1: {detail}")


def _chunks(articles: Iterator[Article]) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for article in articles:
        batch.append(article)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
