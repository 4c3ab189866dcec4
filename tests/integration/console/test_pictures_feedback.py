"""The console's pictures and analysts' feedback against real Redis and Kafka: the chart
figures, the map's places, precision from feedback and `rasd rules feedback export`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from console_server import WITHDRAWAL_RULE, ingest_feed, publish_alert

from rasd.connections import kafka_consumer
from rasd.models import Alert, Severity, StoryArticle
from rasd.rules.evaluation import parse_labels

pytestmark = pytest.mark.integration

FEED = Path(__file__).parents[2] / "e2e" / "console" / "fixtures" / "desk.rss"


def alert(key, *, rule="base-withdrawal", severity=Severity.high, places=("iraq",), ago=None):
    created = datetime.now(UTC) - (ago or timedelta(minutes=1))
    return Alert(
        key=key,
        kind="match",
        severity=severity,
        rule=rule,
        title=f"title {key}",
        tags=("military",),
        articles=(StoryArticle(article_id=f"art-{key}", outlet="BBC", title=f"t {key}"),),
        places=places,
        created_at=created,
    )


def csrf(client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf}


def hour_of(created: datetime, start: str) -> int:
    """The bucket an alert belongs in, counted from the chart's own start: an alert made a
    minute ago sits in the bucket before the last when the test runs in an hour's first minute."""
    return int((created - datetime.fromisoformat(start)).total_seconds() // 3600)


def test_alerts_per_hour_by_severity_rule_sparklines_and_map_places(console, client):
    a1 = alert("a1", ago=timedelta(hours=3, minutes=1))
    a3 = alert("a3", places=("mosul",))
    publish_alert(console.settings, a1)
    publish_alert(
        console.settings,
        alert("a2", severity=Severity.low, places=("baghdad", "iraq"), rule="other"),
    )
    publish_alert(console.settings, a3)
    publish_alert(console.settings, alert("old", ago=timedelta(days=8)))

    per_hour = client.get("/api/charts/alerts-per-hour").json()
    assert per_hour["buckets"] == 168 and per_hour["bucket_seconds"] == 3600
    assert list(per_hour["counts"]) == ["info", "low", "medium", "high", "critical"]
    high = per_hour["counts"]["high"]
    assert sum(high) == 2 and sum(per_hour["counts"]["low"]) == 1
    recent = hour_of(a3.created_at, per_hour["start"])
    earlier = hour_of(a1.created_at, per_hour["start"])
    assert recent >= 166 and earlier == recent - 3
    assert high[recent] == 1 and high[earlier] == 1
    filtered = client.get("/api/charts/alerts-per-hour", params={"rule": "other"}).json()
    assert sum(sum(v) for v in filtered["counts"].values()) == 1

    hits = client.get("/api/charts/rule-hits").json()
    assert hits["buckets"] == 28
    assert sum(hits["counts"]["base-withdrawal"]) == 2 and sum(hits["counts"]["other"]) == 1

    places = {p["id"]: p for p in client.get("/api/charts/places").json()}
    assert places["iraq"]["alerts"] == 3 and places["iraq"]["kind"] == "country"
    assert places["iraq"]["lat"] is None  # drawn by its outline
    assert places["mosul"]["name"] == "Mosul"
    assert places["mosul"]["lat"] == pytest.approx(36.33, abs=0.1)
    assert places["baghdad"]["lon"] == pytest.approx(44.4, abs=0.1)
    only = client.get("/api/charts/places", params={"place": "mosul"}).json()
    assert [p["id"] for p in only] == ["mosul"]


def test_articles_per_minute_from_the_sink_and_lag_samples(console, client):
    settings = console.settings
    articles = ingest_feed(settings, FEED)
    group = settings.group("charts-probe")
    consumer = kafka_consumer(
        settings,
        settings.topic("articles"),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        consumer.poll(timeout_ms=5000, max_records=1)
        consumer.commit()
        committed = sum(consumer.committed(tp) or 0 for tp in consumer.assignment())
    finally:
        consumer.close()
    client.get("/api/health/pipeline")  # every read of the pipeline samples the lag

    charts = client.get("/api/charts/health").json()
    assert charts["articles"]["minutes"] == 60
    per_feed = {f: sum(v or 0 for v in vals) for f, vals in charts["articles"]["values"].items()}
    by_feed: dict[str, int] = {}
    for a in articles:
        by_feed[a.feed] = by_feed.get(a.feed, 0) + 1
    assert per_feed == by_feed and sum(per_feed.values()) == len(articles) > 0
    # The last sample, not the last minute: the minute may turn between sampling and reading.
    lag = [v for v in charts["lag"]["values"][group] if v is not None]
    assert lag and lag[-1] == len(articles) - committed


def test_feedback_gives_precision_and_exports_labels_for_eval(console, client, tmp_path):
    (console.settings.rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    for key in ("f1", "f2", "f3"):
        publish_alert(console.settings, alert(key))

    def verdict(key, value, note=""):
        response = client.post(
            f"/api/alerts/{key}/feedback",
            json={"verdict": value, "note": note},
            headers=csrf(client),
        )
        assert response.status_code == 200, response.text
        return response.json()

    given = verdict("f1", "useful", "right on")
    assert given["by"] == "analyst" and given["rule"] == "base-withdrawal"
    verdict("f2", "false-alarm")
    verdict("f3", "useful")
    verdict("f3", "false-alarm")  # changed their mind: the latest verdict counts
    assert (
        client.post(
            "/api/alerts/nope/feedback", json={"verdict": "useful"}, headers=csrf(client)
        ).status_code
        == 404
    )
    bad = {"verdict": "maybe"}
    assert client.post("/api/alerts/f1/feedback", json=bad, headers=csrf(client)).status_code == 422
    no_csrf = client.post("/api/alerts/f1/feedback", json={"verdict": "useful"})
    assert no_csrf.status_code == 403

    missed = client.post(
        "/api/feedback/missed",
        json={"article_id": "art-x", "rule": "base-withdrawal", "note": "pulled out of a base"},
        headers=csrf(client),
    )
    assert missed.status_code == 200, missed.text
    unknown = {"article_id": "art-x", "rule": "no-such-rule"}
    assert (
        client.post("/api/feedback/missed", json=unknown, headers=csrf(client)).status_code == 422
    )

    rule = next(
        r
        for f in client.get("/api/rules").json()
        for r in f["rules"]
        if r["id"] == "base-withdrawal"
    )
    assert rule["judged_7d"] == 3 and rule["precision_7d"] == pytest.approx(1 / 3)
    assert rule["judged_30d"] == 3
    assert "33% <span" in client.get("/rules").text
    assert len(client.get("/api/feedback").json()) == 5

    out = tmp_path / "labels.jsonl"
    env = {
        **os.environ,
        "RASD_KAFKA_BOOTSTRAP": console.settings.kafka_servers,
        "RASD_REDIS_URL": console.settings.redis_dsn,
        "RASD_NAMESPACE": console.settings.namespace,
    }
    done = subprocess.run(
        [sys.executable, "-m", "rasd", "rules", "feedback", "export", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert rows["art-f1"] == {
        "id": "art-f1",
        "labels": ["MILITARY"],
        "status": "judged",
        "note": "right on",
    }
    errors: list[str] = []
    labels = parse_labels(out.read_text(encoding="utf-8"), str(out), errors.append)
    assert errors == []
    assert labels["art-f1"].tags == {"military"} and labels["art-f1"].judged
    assert labels["art-f2"].tags == frozenset() and labels["art-f2"].judged
    assert labels["art-f3"].tags == frozenset()
    assert labels["art-x"].tags == {"military"} and "base" in labels["art-x"].note


def test_dry_run_lists_unmatched_articles_to_say_what_a_rule_missed(console, client):
    (console.settings.rules_dir / "withdrawal.yaml").write_text(WITHDRAWAL_RULE, encoding="utf-8")
    articles = ingest_feed(console.settings, FEED)
    result = client.post(
        "/api/rules/dry-run",
        json={"path": "withdrawal.yaml", "text": WITHDRAWAL_RULE, "articles": 50},
        headers=csrf(client),
    ).json()
    matched = {m["article_id"] for m in result["matches"]}
    unmatched = [a for a in articles if a.id not in matched]
    assert unmatched, "the fixture feed has an unrelated item"
    for article in unmatched:
        assert f'data-article="{article.id}"' in result["html"]
    for article_id in matched:
        assert f'data-article="{article_id}"' not in result["html"]
    assert 'action="/api/feedback/missed"' in result["html"]
    assert '<option value="base-withdrawal">' in result["html"]
