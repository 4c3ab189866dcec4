"""The records that cross process boundaries (DESIGN.md): Article, Match, Alert.

They travel as JSON (``model_dump_json`` / ``model_validate_json``, on the hot paths through
:mod:`rasd.codec`, which writes the same bytes); inside a process they are these typed, frozen
objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class Severity(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ArticleField = Literal["title", "summary", "body"]


class Article(Record):
    id: str
    url: str | None = None
    outlet: str
    feed: str
    lang: str
    title: str
    summary: str = ""
    body: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime = Field(default_factory=utcnow)


class TermHit(Record):
    """One matched term: where it is in the original (un-normalised) text, for highlighting."""

    term: str
    field: ArticleField
    start: int
    end: int
    text: str


class Match(Record):
    article_id: str
    rule_id: str
    rule_version: str
    severity: Severity
    tags: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    terms: tuple[TermHit, ...] = ()
    matched_at: datetime = Field(default_factory=utcnow)


class StoryArticle(Record):
    article_id: str
    outlet: str
    title: str
    url: str | None = None
    lang: str | None = None
    published_at: datetime | None = None
    # The article's summary, so that the console can show hits in it (TermHit field "summary").
    summary: str = ""

    @classmethod
    def from_article(cls, article: Article) -> StoryArticle:
        """The report of ``article`` as a story lists it."""
        return cls(
            article_id=article.id,
            outlet=article.outlet,
            title=article.title,
            summary=article.summary,
            url=article.url,
            lang=article.lang,
            published_at=article.published_at,
        )


class Alert(Record):
    key: str
    kind: Literal["match", "escalation"]
    severity: Severity
    rule: str
    title: str
    tags: tuple[str, ...] = ()
    articles: tuple[StoryArticle, ...] = ()
    places: tuple[str, ...] = ()
    terms: tuple[TermHit, ...] = ()
    counts: dict[str, int] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    # Copied from the rule so that notify needs no rule lookup: the receivers the rule names
    # (routed further by receivers.yaml) and the rule's cooldown.
    notify: tuple[str, ...] = ()
    cooldown_seconds: int | None = Field(None, ge=0)
    # For an escalation: the keys of the story alerts it counts (notify's inhibitions hold
    # back those stories' updates while the escalation is active).
    stories: tuple[str, ...] = ()
