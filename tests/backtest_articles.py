"""Articles on a namespace's articles topic with record times in the past, for backtests.

Imported by the console's API and browser tests (``tests/`` is on sys.path through the root
conftest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rasd.connections import kafka_producer
from rasd.models import Article
from rasd.settings import Settings
from rasd.topics import ARTICLES_COMPRESSION

NOW = datetime.now(UTC)

# Long enough that matching 20,000 of them takes seconds: time to watch progress and cancel.
LONG_BODY = " ".join(
    f"قالت مصادر محلية إن القوات انسحبت من القاعدة رقم {i} في ريف المحافظة" for i in range(12)
)
_LETTERS = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"


def _unseen_words(seed: int, n: int = 80) -> str:
    """``n`` made-up Arabic words of their own: no analysis cache has them, however fast it is
    on words it has seen (the same body 20,000 times became 20,000 dictionary lookups)."""
    words = []
    for k in range(seed * n, seed * n + n):
        letters = []
        for _ in range(4):
            k, digit = divmod(k, len(_LETTERS))
            letters.append(_LETTERS[digit])
        words.append("".join(letters) + _LETTERS[k % len(_LETTERS)])
    return " ".join(words)


def article(
    article_id: str, title: str, ago: timedelta, body: str | None = None, summary: str = ""
) -> tuple[Article, datetime]:
    when = NOW - ago
    found = Article(
        id=article_id,
        outlet="o",
        feed="f",
        lang="",
        title=title,
        summary=summary,
        body=body,
        published_at=when,
    )
    return found, when


def many(n: int) -> list[tuple[Article, datetime]]:
    """``n`` long articles of the last ten hours, each with words of its own in its summary
    (rules read the title and summary unless they say otherwise)."""
    return [
        article(
            f"n{i}",
            f"Report {i} on the bases in Iraq",
            timedelta(minutes=i % 600),
            LONG_BODY,
            summary=_unseen_words(i),
        )
        for i in range(n)
    ]


def produce(settings: Settings, articles: list[tuple[Article, datetime]]) -> None:
    """Onto the articles topic as the connectors write (zstd), each at its record time."""
    producer = kafka_producer(settings, compression_type=ARTICLES_COMPRESSION, linger_ms=20)
    try:
        for found, when in articles:
            producer.send(
                settings.topic("articles"),
                key=found.id.encode(),
                value=found.model_dump_json().encode(),
                timestamp_ms=int(when.timestamp() * 1000),
            )
        producer.flush(timeout=60)
    finally:
        producer.close()
