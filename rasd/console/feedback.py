"""Analysts' feedback on alerts and articles, and what it says about each rule.

Three verdicts: an alert was ``useful`` or a ``false-alarm`` (about the alert's rule and the
articles of its story), and an article was ``missed`` by a rule that should have matched it.
Each is one entry of the Redis stream ``<ns>:feedback`` (field ``feedback``: the JSON of a
``Feedback``), with who and when; the stream is bounded by ``MAX_ENTRIES`` and ``MAX_AGE``.
This module is the only one that reads or writes it.

The rule's tags are copied into the record when it is given, so that ``labels()`` (what
``rasd rules feedback export`` writes, the format ``rasd rules eval`` reads) needs no rule files
and still says what the analyst meant if the rule changes later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis

from rasd.keys import RedisKeys
from rasd.settings import Settings

Verdict = Literal["useful", "false-alarm", "missed"]

MAX_ENTRIES = 100_000
MAX_AGE = timedelta(days=90)
# Precision is reported over these windows (the Rules page's columns).
WINDOWS = {"7d": timedelta(days=7), "30d": timedelta(days=30)}


class Feedback(BaseModel):
    """One analyst's verdict. ``alert`` is set for useful / false-alarm, ``articles`` lists the
    story's article ids (one article for ``missed``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verdict: Verdict
    rule: str = Field(min_length=1, max_length=200)
    tags: tuple[str, ...] = ()
    alert: str | None = Field(None, max_length=1000)
    articles: tuple[str, ...] = Field((), max_length=200)
    note: str = Field("", max_length=1000)
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Precision:
    """Alerts judged useful and false alarms for one rule in one window."""

    useful: int = 0
    false_alarms: int = 0

    @property
    def judged(self) -> int:
        return self.useful + self.false_alarms

    @property
    def value(self) -> float | None:
        return self.useful / self.judged if self.judged else None


def latest_per_alert(items: Iterable[Feedback]) -> list[Feedback]:
    """The last verdict on each alert (an analyst may change their mind; oldest first in)."""
    latest: dict[str, Feedback] = {}
    for item in items:
        if item.alert is not None and item.verdict != "missed":
            latest[item.alert] = item
    return list(latest.values())


def precision(items: Iterable[Feedback], now: datetime) -> dict[str, dict[str, Precision]]:
    """Per rule, per window name of ``WINDOWS``: the precision of its alerts from feedback."""
    out: dict[str, dict[str, Precision]] = {}
    for item in latest_per_alert(items):
        for name, span in WINDOWS.items():
            if item.at < now - span:
                continue
            rule = out.setdefault(item.rule, {})
            p = rule.get(name, Precision())
            useful = item.verdict == "useful"
            rule[name] = Precision(p.useful + useful, p.false_alarms + (not useful))
    return out


def labels(items: Iterable[Feedback]) -> list[dict]:
    """Feedback as label lines (``rasd rules eval``'s format): per article, the classes
    (the rules' tags in upper case) analysts said it belongs to; a false alarm judges the
    article without its rule's classes. The latest verdict on an (article, class) wins."""
    verdicts: dict[str, dict[str, bool]] = {}
    notes: dict[str, list[str]] = {}
    for item in items:
        positive = item.verdict != "false-alarm"
        for article in item.articles:
            classes = verdicts.setdefault(article, {})
            for tag in item.tags:
                classes[tag.upper()] = positive
            if item.note:
                notes.setdefault(article, []).append(item.note)
    return [
        {
            "id": article,
            "labels": sorted(c for c, yes in classes.items() if yes),
            "status": "judged",
            "note": "; ".join(notes.get(article, [])),
        }
        for article, classes in verdicts.items()
    ]


class FeedbackStore:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self._redis = redis
        self.key = RedisKeys(settings).feedback

    async def add(self, item: Feedback) -> str:
        floor = int((datetime.now(UTC) - MAX_AGE).timestamp() * 1000)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.key, {"feedback": item.model_dump_json()}, maxlen=MAX_ENTRIES, approximate=True
            )
            pipe.xtrim(self.key, minid=floor, approximate=True)
            entry_id, _ = await pipe.execute()
        return entry_id

    async def since(self, since: datetime | None = None) -> list[Feedback]:
        """Feedback given at or after ``since`` (all kept when None), oldest first."""
        start = f"{int(since.timestamp() * 1000)}-0" if since else "-"
        out = []
        for _id, fields in await self._redis.xrange(self.key, min=start, max="+"):
            try:
                out.append(Feedback.model_validate_json(fields["feedback"]))
            except (KeyError, ValidationError):
                continue  # an unreadable entry says nothing about a rule
        return out

    async def precision(self) -> dict[str, dict[str, Precision]]:
        now = datetime.now(UTC)
        return precision(await self.since(now - max(WINDOWS.values())), now)


def write_labels(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
