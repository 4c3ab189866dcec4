"""Sample alerts for the notify tests (unit and integration), with real Arabic text."""

from __future__ import annotations

from datetime import UTC, datetime

from rasd.models import Alert, StoryArticle, TermHit

CREATED = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
TITLE_AR = "قصف صاروخي يستهدف قاعدة عين الأسد الجوية غرب العراق"


def arabic_alert(key: str = "rocket-attack:story-1", **changes) -> Alert:
    fields = dict(
        key=key,
        kind="match",
        severity="high",
        rule="rocket-attack",
        title=TITLE_AR,
        tags=("attack",),
        articles=(
            StoryArticle(
                article_id="a1",
                outlet="الجزيرة",
                title=TITLE_AR,
                url="https://www.aljazeera.net/news/2026/3/14/qasf",
                lang="ar",
            ),
            StoryArticle(
                article_id="a2",
                outlet="Reuters",
                title="Rockets hit Ain al-Asad air base in western Iraq",
                url="https://www.reuters.com/world/middle-east/rockets-ain-al-asad?a=1&b=2",
                lang="en",
            ),
        ),
        places=("iraq",),
        terms=(TermHit(term="صاروخ", field="title", start=4, end=10, text="صاروخي"),),
        created_at=CREATED,
    )
    fields.update(changes)
    return Alert(**fields)


def english_alert(key: str = "embassy:story-2", **changes) -> Alert:
    fields = dict(
        key=key,
        kind="match",
        severity="medium",
        rule="embassy-protest",
        title="Protesters gather outside the embassy in Baghdad",
        tags=("protest",),
        articles=(
            StoryArticle(
                article_id="b1",
                outlet="BBC",
                title="Protesters gather outside the embassy in Baghdad",
                url="https://www.bbc.co.uk/news/world-1",
            ),
        ),
        places=("iraq",),
        created_at=CREATED,
    )
    fields.update(changes)
    return Alert(**fields)
