"""Escalation: distinct stories per place in a tumbling window, once per window, across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from streams_harness import outbox, produce, wait_for, wait_outbox

from rasd.models import Article

pytestmark = pytest.mark.integration

ROCKETS = """\
id: rocket-attack
title: Rocket attack
severity: high
match:
  any: [rocket, rockets, صاروخ]
escalate: {window: 10m, threshold: 3, by: place, severity: critical}
"""
# Event times come from the records, so the windows do not depend on when the test runs.
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def attack(n: int, minute: float, report: int = 0) -> Article:
    words = " ".join(f"e{n}detail{w}" for w in range(20))
    return Article(
        id=f"attack{n}-report{report}",
        outlet=f"outlet{report}",
        feed="test",
        lang="en",
        title=f"Rockets hit a base near Kirkuk {words}",
        fetched_at=T0 + timedelta(minutes=minute),
    )


def escalations(settings):
    return [(key, rev, a) for key, rev, a in outbox(settings) if a.kind == "escalation"]


def test_three_stories_in_a_window_escalate_once_and_counts_survive_a_restart(
    settings, rules_dir, workers
):
    (rules_dir / "rockets.yaml").write_text(ROCKETS, encoding="utf-8")
    worker = workers()
    produce(settings, [attack(1, 0), attack(2, 2)])
    wait_outbox(settings, 2, 60)
    worker.stop()
    assert escalations(settings) == []

    workers()  # the counts come back from the table's changelog
    produce(settings, [attack(3, 4)])
    (first,) = wait_for(
        lambda: escalations(settings),
        60,
        "the first escalation",
        context=lambda: [(k, r) for k, r, _ in outbox(settings)],
    )
    key, revision, alert = first
    assert key == f"escalation:rocket-attack:iraq+kirkuk:{T0.isoformat()}"
    assert revision == 0
    assert alert.severity == "critical"
    assert alert.counts == {"stories": 3, "iraq": 3, "kirkuk": 3}
    assert {a.article_id for a in alert.articles} == {
        "attack1-report0",
        "attack2-report0",
        "attack3-report0",
    }

    # Same window: another report of a known story and a fourth story raise nothing new.
    # Next window: three more stories raise the second escalation.
    later = [attack(1, 6, report=1), attack(4, 7), attack(5, 11), attack(6, 12), attack(7, 13)]
    produce(settings, later)
    # Seven stories, one update, two escalations: the second escalation is the last entry
    # written (after attack 7's story), so wait for it rather than for the story before it.
    wait_outbox(settings, 7 + 1 + 2, 20)
    keys = [key for key, _, _ in escalations(settings)]
    assert keys == [
        f"escalation:rocket-attack:iraq+kirkuk:{T0.isoformat()}",
        f"escalation:rocket-attack:iraq+kirkuk:{(T0 + timedelta(minutes=10)).isoformat()}",
    ]
