"""Backtest rate over a retained articles topic, against the matcher alone in the same run.

    python bench/backtest.py [--articles 100000] [--rules rules]

Produces ``--articles`` articles (real Arabic and English RSS items from ../shared/eval, cycled
with fresh ids; built-in sentences when it is absent) into the articles topic of a namespace of
its own, then times (1) the matcher alone over the same articles already in memory, warm,
and (2) `rasd rules backtest`'s reader + matcher over the topic (`--since 30d`). Prints both
rates and their ratio (issue 15's target: backtest >= 80% of the matcher-alone rate) and the
topic's size on disk per 100,000 articles (the retention cost). Kafka comes from
RASD_KAFKA_BOOTSTRAP or the local dev stack; the namespace is dropped at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasd.connections import kafka_producer  # noqa: E402
from rasd.devstack.namespace import drop_namespace  # noqa: E402
from rasd.models import Article  # noqa: E402
from rasd.rules import Matcher, load_rules  # noqa: E402
from rasd.rules.backtest import backtest, retained_articles  # noqa: E402
from rasd.settings import Settings  # noqa: E402
from rasd.topics import ensure_topics  # noqa: E402

FALLBACK = [
    ("ar", "قصف مدفعي يستهدف بلدة في ريف إدلب", "أفادت مصادر محلية بسقوط قذائف على البلدة"),
    ("en", "Markets calm as talks resume", "Shares rose slightly in early trading."),
    ("en", "Troops withdraw from the northern base", "The last soldiers left on Sunday."),
]


def source_items(eval_dir: Path) -> list[tuple[str, str, str, str | None]]:
    items: list[tuple[str, str, str, str | None]] = []
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
        print(f"eval texts not present at {eval_dir}; using built-in sentences")
        items = [(lang, t, s, None) for lang, t, s in FALLBACK]
    return items


def make_articles(n: int, items) -> list[Article]:
    now = datetime.now(UTC)
    articles = []
    for i, (lang, title, summary, body) in zip(range(n), itertools.cycle(items), strict=False):
        articles.append(
            Article(
                id=f"b{i}",
                outlet="bench",
                feed="bench",
                lang=lang,
                title=title,
                summary=summary,
                body=body,
                published_at=now - timedelta(minutes=i % 10_000),
            )
        )
    return articles


def topic_bytes(local: Settings, topic: str) -> int | None:
    """Bytes of the topic's log segments (the local dev stack's data directory)."""
    if not local.kafka_is_local:
        return None
    logs = local.state_dir / "kafka" / "data"
    if not logs.is_dir():
        candidates = list(local.state_dir.glob("**/" + topic + "-0"))
        if not candidates:
            return None
        logs = candidates[0].parent
    return sum(f.stat().st_size for d in logs.glob(topic + "-*") for f in d.glob("*.log"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    args = parser.parse_args()
    base = Settings()
    settings = Settings(
        kafka_bootstrap=base.kafka_servers,
        redis_url=base.redis_dsn,
        namespace=f"bench{uuid.uuid4().hex[:8]}",
    )
    rules = load_rules(args.rules).rules
    articles = make_articles(args.articles, source_items(args.eval_dir))
    ensure_topics(settings)
    try:
        producer = kafka_producer(settings, linger_ms=20, batch_size=512 * 1024)
        began = time.perf_counter()
        for article in articles:
            producer.send(
                settings.topic("articles"),
                key=article.id.encode(),
                value=article.model_dump_json().encode(),
            )
        producer.flush(timeout=120)
        producer.close()
        print(f"# backtest benchmark: {len(articles):,} articles, {len(rules)} rules")
        print(f"produced in {time.perf_counter() - began:.1f} s")

        matcher = Matcher(rules)
        for article in articles:  # warm, as a running backtest's cache is after a few batches
            matcher.match(article)
        began = time.process_time()
        for article in articles:
            matcher.match(article)
        alone = len(articles) / (time.process_time() - began)

        matcher = Matcher(rules)
        for article in articles[:20_000]:
            matcher.match(article)
        since = datetime.now(UTC) - timedelta(days=30)
        began_wall, began = time.perf_counter(), time.process_time()
        found = backtest(retained_articles(settings, since), matcher, since)
        cpu = time.process_time() - began
        wall = time.perf_counter() - began_wall
        assert found.articles == len(articles), (found.articles, len(articles))
        rate_cpu, rate_wall = found.articles / cpu, found.articles / wall
        print(f"matcher alone (warm, in memory):  {alone:,.0f} articles/s (CPU)")
        print(
            f"backtest over the topic:          {rate_cpu:,.0f} articles/s (CPU), "
            f"{rate_wall:,.0f} articles/s (wall), {wall:.1f} s"
        )
        print(f"ratio backtest/matcher (CPU): {rate_cpu / alone:.2f}  (target >= 0.80)")
        print(f"matched articles: {found.matched_articles:,}")
        size = topic_bytes(base, settings.topic("articles"))
        if size is not None:
            per = size / len(articles) * 100_000
            print(f"topic on disk: {size / 1e6:.1f} MB, {per / 1e6:.0f} MB per 100,000 articles")
        else:
            print("topic on disk: not measured (not the local dev stack)")
    finally:
        drop_namespace(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
