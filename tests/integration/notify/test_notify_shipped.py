"""The shipped configuration end to end: the seed article through a real `rasd worker` with the
shipped rules/ and a notifier with the shipped receivers.yaml, to local HTTP stand-ins for
Slack and the archive webhook. Nothing may end as a dead letter.

Only the waits of the shipped route tree are shortened (its receivers, matchers, grouping and
inhibitions are the file's); desk-email stays disabled, as it is when its secrets are unset
(the seed, an Iraq story, goes to iraq-desk only).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from notify_harness import eventually, idle, outcomes, running

from rasd.connectors.ingest import ingest
from rasd.devstack.namespace import drop_namespace
from rasd.notify.config import Delivery, Route, load_config
from rasd.notify.history import DeadLetters
from rasd.notify.names import unknown_receivers
from rasd.rules import load_rules

# The streams tests' worker harness (a real `python -m rasd worker` subprocess) is reused
# rather than copied; its folder is not on the path when only the notify tests are collected.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "streams"))
from streams_harness import Worker, loaded_rules, wait_for  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / "tests" / "fixtures" / "streams" / "feeds" / "aljazeera.xml"


def shortened(route: Route) -> Route:
    update = {"routes": tuple(shortened(r) for r in route.routes)}
    if route.group_wait is not None:
        update["group_wait"] = timedelta(milliseconds=200)
    return route.model_copy(update=update)


@pytest.fixture
def worker(settings, tmp_path):
    started = Worker(settings, REPO / "rules", tmp_path / "worker.log", {}).start()
    yield started
    started.kill()
    drop_namespace(settings)


async def test_the_seed_article_reaches_the_desk_with_no_dead_letter(
    settings, worker, redis_client, http_sink
):
    shipped = load_config(REPO / "receivers.yaml")
    # What `rasd notify run` checks before it starts.
    assert unknown_receivers(load_rules(REPO / "rules").rules, shipped.names) == []
    config = shipped.model_copy(
        update={
            "route": shortened(shipped.route),
            "delivery": Delivery(poll_interval="50ms", reclaim_idle="1s", timeout="2s", lease="5s"),
        }
    )
    env = {
        "RASD_IRAQ_DESK_SLACK_URL": f"{http_sink.url}/slack",
        "RASD_ARCHIVE_WEBHOOK_URL": f"{http_sink.url}/archive",
        "RASD_ARCHIVE_WEBHOOK_SECRET": "test-secret",
    }
    # The worker consumes the seed once its partitions are assigned, however long that takes.
    await asyncio.to_thread(wait_for, lambda: loaded_rules(settings), 60, "the worker's rules")
    async with running(settings, config, env=env):
        report = await ingest(settings, [str(SEED)])
        assert report.errors == [] and report.new > 0
        await eventually(lambda: http_sink.posts("/slack"), timeout=90)
        await eventually(lambda: idle(redis_client, settings), timeout=10)
    assert await DeadLetters(redis_client, settings).count() == 0
    log = await outcomes(redis_client, settings)
    assert ("sent", "iraq-desk") in log
    assert not [o for o in log if o[0] in ("dead", "retry")]
    [message] = http_sink.posts("/slack")
    assert "التحالف الدولي يسحب قواته" in message.json()["text"]
