"""The short form of `bench/chaos.py`: workers killed with SIGKILL while articles flow.

The whole pipeline runs as real processes (connectors polling growing feeds on 127.0.0.1,
`rasd ingest` batches, workers, notifiers delivering to a local webhook) on the session's
Kafka and Redis; three worker kills at seeded moments, two of each part for a while. Every
article is its own event, so every one must be delivered exactly once.
"""

from __future__ import annotations

import pytest

from bench.chaos import Campaign, Plan

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(420)]


def test_no_alert_is_lost_or_duplicated_when_workers_are_killed(settings, tmp_path):
    plan = Plan(
        articles=200, rate=4.0, kills={"worker": 3}, two_of_each=True, services=False, settle=150
    )
    report = Campaign(settings, tmp_path, seed=7, plan=plan, log=lambda _line: None).run()
    summary = "\n".join(report.lines())
    assert [what for what, *_ in report.recoveries] == ["worker"] * 3, summary
    assert report.articles_produced == 200, summary
    assert report.lost == 0, summary
    assert report.duplicated == 0, summary
    assert report.dead_letters == 0 and report.notify_dead_letters == 0, summary
