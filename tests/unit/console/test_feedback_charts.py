"""Pure logic of the pictures and of feedback: buckets, precision windows, label lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rasd.console.charts import alerts_per_hour, places, rule_hits
from rasd.console.feedback import Feedback, labels, precision
from rasd.models import Alert, Severity
from rasd.rules.gazetteer import parse_gazetteer

NOW = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)


def alert(key, ago, severity=Severity.high, rule="r1", places=()):
    return Alert(
        key=key,
        kind="match",
        severity=severity,
        rule=rule,
        title=key,
        places=places,
        created_at=NOW - ago,
    )


def test_alerts_per_hour_buckets_by_severity_and_drops_older_than_7_days():
    series = alerts_per_hour(
        [
            alert("now", timedelta(minutes=5)),
            alert("hour-start", timedelta(minutes=30)),  # 12:00 sharp: still this hour
            alert("before", timedelta(minutes=31), Severity.low),
            alert("old", timedelta(days=7, hours=1)),
        ],
        NOW,
    )
    assert series.start == datetime(2026, 2, 25, 13, 0, tzinfo=UTC)
    assert series.buckets == 168
    assert series.counts["high"][-1] == 2 and sum(series.counts["high"]) == 2
    assert series.counts["low"][-2] == 1
    assert sum(series.counts["critical"]) == 0


def test_rule_hits_per_six_hours():
    series = rule_hits([alert("a", timedelta(hours=7), rule="x")], NOW)
    assert series.bucket_seconds == 6 * 3600 and series.buckets == 28
    # 05:30 is in the 00:00-06:00 bucket; the last two are 06:00 and 12:00.
    assert series.counts == {"x": [0] * 25 + [1, 0, 0]}


def test_places_carry_coordinates_and_counts():
    gazetteer = parse_gazetteer(
        "- {id: iraq, kind: country, en: [Iraq]}\n"
        "- {id: mosul, kind: city, in: iraq, en: [Mosul], lat: 36.3, lon: 43.1}\n"
    )
    found = places(
        [
            alert("a", timedelta(0), places=("iraq", "mosul")),
            alert("b", timedelta(0), places=("mosul", "atlantis")),
        ],
        gazetteer,
    )
    assert [(p.id, p.alerts, p.lat) for p in found] == [
        ("mosul", 2, 36.3),
        ("iraq", 1, None),
        ("atlantis", 1, None),
    ]
    assert found[2].kind == "unknown"


def verdict(v, alert_key, days_ago, rule="r1", articles=("a1",), tags=("attack",), note=""):
    return Feedback(
        verdict=v,
        rule=rule,
        tags=tags,
        alert=alert_key,
        articles=articles,
        note=note,
        by="amal",
        at=NOW - timedelta(days=days_ago),
    )


def test_precision_counts_the_latest_verdict_per_alert_per_window():
    items = [
        verdict("useful", "k1", 1),
        verdict("false-alarm", "k2", 2),
        verdict("useful", "k2", 1),  # changed to useful
        verdict("false-alarm", "k3", 20),
        verdict("useful", "k4", 40),  # outside both windows
    ]
    p = precision(items, NOW)["r1"]
    assert (p["7d"].useful, p["7d"].false_alarms, p["7d"].value) == (2, 0, 1.0)
    assert (p["30d"].judged, p["30d"].value) == (3, 2 / 3)


def test_labels_upper_case_classes_false_alarm_removes_and_missed_adds():
    items = [
        verdict("useful", "k1", 3, articles=("a1", "a2")),
        verdict("false-alarm", "k2", 2, articles=("a2",), note="a drill"),
        Feedback(
            verdict="missed", rule="r2", tags=("withdrawal",), articles=("a3",), by="amal", at=NOW
        ),
    ]
    rows = {row["id"]: row for row in labels(items)}
    assert rows["a1"] == {"id": "a1", "labels": ["ATTACK"], "status": "judged", "note": ""}
    assert rows["a2"]["labels"] == [] and rows["a2"]["note"] == "a drill"
    assert rows["a3"]["labels"] == ["WITHDRAWAL"]
