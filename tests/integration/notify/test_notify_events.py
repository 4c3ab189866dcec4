"""Pacing per event: a new story pages, a story's updates wait out its cooldown, a worse
severity goes at once, and an active escalation inhibits the updates of its stories.

The scenario of issue 12: after the K1 withdrawal alert, a second base handed over pages on
its own, and the critical escalation that follows is sent at once, not group_interval later.
"""

import time

import pytest
from notify_harness import config, eventually, idle, outcomes, put, running
from notify_samples import arabic_alert

pytestmark = pytest.mark.integration

SLACK = "  - {name: desk-slack, type: slack, url_env: SLACK_URL}\n"
# group_interval is far longer than any wait below: what is sent within those waits was not
# held for it.
ROUTE = """\
  receiver: desk-slack
  group_by: [rule]
  group_wait: 200ms
  group_interval: {interval}
  repeat_interval: 1h
inhibit:
  - source_matchers: [kind=escalation]
    target_matchers: [kind=match]
    equal: [story]
    duration: 1h
"""
K1 = "story:troop-withdrawal:k1"
QAYYARAH = "story:troop-withdrawal:qayyarah"


def story(key: str, **changes):
    fields = dict(rule="troop-withdrawal", severity="high", cooldown_seconds=6 * 3600)
    return arabic_alert(key=key, **{**fields, **changes})


def cfg(interval="8s"):
    return config(SLACK, ROUTE.replace("{interval}", interval))


def env(sink):
    return {"SLACK_URL": f"{sink.url}/slack"}


def texts(sink):
    return [r.json()["text"] for r in sink.posts("/slack")]


async def _count(client, settings, key, outcome, expected):
    found = [o for o in await outcomes(client, settings, key) if o == (outcome, "desk-slack")]
    return len(found) == expected


async def logged(client, settings, key, outcome):
    return (outcome, "desk-slack") in await outcomes(client, settings, key)


async def test_a_second_event_pages_and_the_escalation_goes_at_once(
    settings, redis_client, http_sink
):
    escalation = story(
        "escalation:troop-withdrawal:iraq:2026-03-09T00:00:00+00:00",
        kind="escalation",
        severity="critical",
        title="Withdrawal of troops or handover of a base: 2 stories in iraq within 7d",
        cooldown_seconds=None,
        stories=(K1, QAYYARAH),
    )
    async with running(settings, cfg(), env=env(http_sink)):
        await put(redis_client, settings, story(K1, title="K1 handed over"))
        await eventually(lambda: len(http_sink.posts("/slack")) == 1, timeout=5)
        await put(redis_client, settings, story(QAYYARAH, title="Qayyarah handed over"))
        await eventually(lambda: len(http_sink.posts("/slack")) == 2, timeout=5)
        await put(redis_client, settings, story(K1, title="K1: a second report"), 1)
        await eventually(lambda: logged(redis_client, settings, K1, "update"))
        started = time.monotonic()
        await put(redis_client, settings, escalation)
        await eventually(lambda: len(http_sink.posts("/slack")) == 3, timeout=4)
        assert time.monotonic() - started < 4  # at once, not after group_interval (8 s)
        # While the escalation is active, its stories' updates are held back: the one waiting
        # when it came, and a later one.
        await eventually(lambda: logged(redis_client, settings, K1, "inhibited"))
        await put(redis_client, settings, story(K1, title="K1: a third report"), 2)
        await eventually(lambda: _count(redis_client, settings, K1, "inhibited", 2), timeout=15)
        assert await idle(redis_client, settings)
    k1 = [o for o, _ in await outcomes(redis_client, settings, K1)]
    assert k1 == ["queued", "sent", "update", "inhibited", "update", "inhibited"]
    assert texts(http_sink) == [
        "[rasd][high] K1 handed over",
        "[rasd][high] Qayyarah handed over",
        f"[rasd][critical] {escalation.title}",
    ]


async def test_a_story_whose_severity_rises_is_sent_at_once_despite_its_cooldown(
    settings, redis_client, http_sink
):
    async with running(settings, cfg(), env=env(http_sink)):
        await put(redis_client, settings, story(K1, title="K1 handed over"))
        await eventually(lambda: len(http_sink.posts("/slack")) == 1, timeout=5)
        worse = story(K1, title="K1: shelling during the handover", severity="critical")
        await put(redis_client, settings, worse, 1)
        await eventually(lambda: len(http_sink.posts("/slack")) == 2, timeout=5)
    assert texts(http_sink)[1] == "[rasd][critical] K1: shelling during the handover"


async def test_a_storys_update_pages_again_once_its_cooldown_has_passed(
    settings, redis_client, http_sink
):
    async with running(settings, cfg(interval="100ms"), env=env(http_sink)):
        await put(redis_client, settings, story(K1, title="K1 handed over", cooldown_seconds=1))
        await eventually(lambda: len(http_sink.posts("/slack")) == 1, timeout=5)
        sent_at = time.time()
        await put(redis_client, settings, story(K1, title="K1: report 2", cooldown_seconds=1), 1)
        await eventually(lambda: logged(redis_client, settings, K1, "cooldown"))
        await eventually(lambda: time.time() > sent_at + 1.2, timeout=3)
        await put(redis_client, settings, story(K1, title="K1: report 3", cooldown_seconds=1), 2)
        await eventually(lambda: len(http_sink.posts("/slack")) == 2, timeout=5)
        await eventually(lambda: idle(redis_client, settings))
    assert texts(http_sink) == ["[rasd][high] K1 handed over", "[rasd][high] K1: report 3"]
    log = [o for o, _ in await outcomes(redis_client, settings, K1)]
    assert log == ["queued", "sent", "update", "cooldown", "update", "sent"]


async def test_an_update_arriving_while_its_group_is_sent_is_kept_and_a_rise_goes_at_once(
    settings, redis_client, http_sink
):
    from notify_harness import Reply

    cfg = config(SLACK, ROUTE.replace("{interval}", "30s"), timeout="6s", lease="8s")
    http_sink.reply(Reply(delay=6))  # the first message is held until released
    async with running(settings, cfg, env=env(http_sink)):
        await put(redis_client, settings, story(K1, title="K1 handed over"))
        await eventually(lambda: len(http_sink.posts("/slack")) == 1, timeout=5)
        worse = story(K1, title="K1: shelling during the handover", severity="critical")
        await put(redis_client, settings, worse, 1)  # while the group is being sent
        await eventually(lambda: logged(redis_client, settings, K1, "folded"))
        http_sink.release.set()
        started = time.monotonic()
        await eventually(lambda: len(http_sink.posts("/slack")) == 2, timeout=5)
        assert time.monotonic() - started < 5  # not group_interval (30 s) later
    assert texts(http_sink)[1] == "[rasd][critical] K1: shelling during the handover"
