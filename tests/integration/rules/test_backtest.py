"""`rasd rules backtest` over the real articles topic: the window by record time, every
partition, no consumer group, per-day counts and the eval report with labels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from rasd.cli import app
from rasd.connections import kafka_admin, kafka_producer
from rasd.models import Article
from rasd.settings import get_settings

pytestmark = pytest.mark.integration

DRAFT = """\
id: draft-shelling
title: Shelling
tags: [attack]
match:
  any: [قصف, shelling]
"""

NOW = datetime.now(UTC)
ITEMS = [
    # (id, title, how long ago)
    ("old1", "قصف مدفعي على بلدة في الريف", timedelta(days=9)),
    ("new1", "قصف مدفعي يستهدف بلدة في ريف إدلب", timedelta(days=2)),
    ("new2", "Shelling resumes on the northern front", timedelta(days=1)),
    ("new3", "Markets calm as talks resume", timedelta(hours=3)),
    ("new4", "Heavy shelling hits the port city", timedelta(hours=2)),
]


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("RASD_NAMESPACE", settings.namespace)
    monkeypatch.setenv("RASD_KAFKA_BOOTSTRAP", settings.kafka_servers)
    monkeypatch.setenv("RASD_REDIS_URL", settings.redis_dsn)
    get_settings.cache_clear()
    producer = kafka_producer(settings)
    try:
        for article_id, title, ago in ITEMS:
            when = NOW - ago
            article = Article(
                id=article_id, outlet="o", feed="f", lang="", title=title, published_at=when
            )
            producer.send(
                settings.topic("articles"),
                key=article_id.encode(),
                value=article.model_dump_json().encode(),
                timestamp_ms=int(when.timestamp() * 1000),
            )
        producer.send(settings.topic("articles"), key=b"junk", value=b"not an article")
        producer.flush(timeout=30)
    finally:
        producer.close()
    yield settings
    get_settings.cache_clear()


def test_backtest_reads_the_window_and_counts_per_day(cli_env, tmp_path):
    draft = tmp_path / "draft.yaml"
    draft.write_text(DRAFT, encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "\n".join(
            json.dumps({"id": i, "labels": labs, "status": "judged"})
            for i, labs in (("new1", ["ATTACK"]), ("new3", ["ATTACK"]), ("new4", []))
        )
    )
    result = CliRunner().invoke(
        app,
        ["rules", "backtest", str(draft), "--since", "7d", "--labels", str(labels), "--json"],
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    # old1 is before the window; the junk record is skipped.
    assert found["articles"] == 4
    assert found["matched_articles"] == 3
    days = {(NOW - ago).date().isoformat() for i, _, ago in ITEMS if i in {"new1", "new2", "new4"}}
    assert set(found["per_day"]) == days
    assert sum(c["draft-shelling"] for c in found["per_day"].values()) == 3
    (score,) = [s for s in found["evaluation"]["scores"] if s["lang"] == "all"]
    # new1 a hit, new3 a miss, new4 a false alarm.
    assert (score["hits"], score["misses"], score["false_alarms"]) == (1, 1, 1)


def test_backtest_joins_no_consumer_group(cli_env, tmp_path):
    draft = tmp_path / "draft.yaml"
    draft.write_text(DRAFT, encoding="utf-8")
    admin = kafka_admin(cli_env)
    try:
        before = {g for g, *_ in admin.list_consumer_groups()}
        result = CliRunner().invoke(app, ["rules", "backtest", str(draft), "--since", "12h"])
        after = {g for g, *_ in admin.list_consumer_groups()}
    finally:
        admin.close()
    assert result.exit_code == 0, result.output
    assert "2 article(s) since" in result.stdout and "1 matched" in result.stdout
    assert after == before


def test_a_bad_window_or_rule_is_a_clear_error(cli_env, tmp_path):
    draft = tmp_path / "draft.yaml"
    draft.write_text(DRAFT, encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "backtest", str(draft), "--since", "a week"])
    assert result.exit_code == 2 and "--since" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ntitle: X\nmatch: {anyy: [y]}\n")
    result = CliRunner().invoke(app, ["rules", "backtest", str(broken)])
    assert result.exit_code == 1 and f"{broken}:3:" in result.stderr


def test_a_cap_keeps_the_newest_and_says_how_many_there_were(cli_env):
    from rasd.rules import parse_rules
    from rasd.rules.backtest import run_backtest

    rules = parse_rules(DRAFT, "draft.yaml").rules
    spans = []
    found = run_backtest(cli_env, rules, NOW - timedelta(days=30), limit=3, on_span=spans.append)
    # Six records in the window (the junk one included); three read, the others counted.
    (span,) = spans
    assert (span.total, span.available) == (3, 6)
    assert found.as_dict()["available"] == 6
    assert found.articles in (2, 3)  # 2 when the junk record is among the three
    assert all(end - start <= 3 for start, end in span.partitions.values())


def test_a_cancelled_backtest_stops(cli_env):
    import threading

    from rasd.rules import parse_rules
    from rasd.rules.backtest import Cancelled, run_backtest

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        run_backtest(
            cli_env, parse_rules(DRAFT, "d.yaml").rules, NOW - timedelta(days=30), cancel=cancel
        )


def test_no_articles_topic_or_no_broker_is_a_clear_error(settings, tmp_path):
    import socket

    from rasd.connections import KafkaUnreachable
    from rasd.rules import parse_rules
    from rasd.rules.backtest import run_backtest
    from rasd.settings import Settings

    rules = parse_rules(DRAFT, "d.yaml").rules
    missing = Settings(
        kafka_bootstrap=settings.kafka_servers,
        redis_url=settings.redis_dsn,
        namespace=f"{settings.namespace}-none",
    )
    with pytest.raises(LookupError, match=r"topic .*-none\.articles does not exist"):
        run_backtest(missing, rules, NOW - timedelta(days=1))
    admin = kafka_admin(settings)
    try:
        assert missing.topic("articles") not in admin.list_topics()  # not auto-created
    finally:
        admin.close()
    # A port nothing listens on: refused at once.
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    away = Settings(kafka_bootstrap=f"127.0.0.1:{port}", redis_url=settings.redis_dsn)
    with pytest.raises(KafkaUnreachable, match=f"127.0.0.1:{port}"):
        run_backtest(away, rules, NOW - timedelta(days=1))
