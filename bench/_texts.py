"""Real RSS items with their article text, cycled into many articles: what bench/backtest.py
produces into a topic and bench/long_texts.py matches in memory.

Imports nothing but ``rasd.models`` (a bench measuring another version of the code imports this
after pointing ``rasd`` at it, and a bench that reports its peak memory loads no Kafka client).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rasd.models import Article

# (lang, title, summary, body)
Item = tuple[str, str, str, str | None]

FALLBACK: list[Item] = [
    ("ar", "قصف مدفعي يستهدف بلدة في ريف إدلب", "أفادت مصادر محلية بسقوط قذائف على البلدة", None),
    ("en", "Markets calm as talks resume", "Shares rose slightly in early trading.", None),
    ("en", "Troops withdraw from the northern base", "The last soldiers left on Sunday.", None),
]


def source_items(eval_dir: Path, say: Callable[[str], None]) -> list[Item]:
    """The ANT Arabic sample (title, description, text) and the Arab News items of
    ``eval_dir``; the built-in sentences, after saying so, when it is absent."""
    items: list[Item] = []
    ant = eval_dir / "ar" / "ant_multisource_rss_2018_sample.jsonl"
    news = eval_dir / "en" / "arabnews_rss_2023Q4.jsonl"
    for path, lang in ((ant, "ar"), (news, "en")):
        if path.is_file():
            for line in path.open(encoding="utf-8"):
                row = json.loads(line)
                items.append(
                    (lang, row.get("title") or "", row.get("description") or "", row.get("text"))
                )
    if not items:
        say(f"eval texts not present at {eval_dir}; using built-in sentences")
        items = list(FALLBACK)
    return items


def make_articles(n: int, items: list[Item], prefix: str = "b") -> list[Article]:
    """``n`` articles cycling through ``items``, with fresh ids and publication times spread
    over the last week."""
    now = datetime.now(UTC)
    return [
        Article(
            id=f"{prefix}{i}",
            outlet="bench",
            feed="bench",
            lang=lang,
            title=title,
            summary=summary,
            body=body,
            published_at=now - timedelta(minutes=i % 10_000),
        )
        for i, (lang, title, summary, body) in zip(range(n), itertools.cycle(items), strict=False)
    ]
